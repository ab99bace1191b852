"""Confirm and Dismiss on a screening hit, and the reason modal, as Bolt calls their listeners."""

from __future__ import annotations

import json

import pytest

from handlers.deps import Deps
from tests.handlers.conftest import refusals
from tests.support.listeners import (
    ADMIN,
    USER,
    FakeClient,
    Listeners,
    Recorder,
    block_action,
    settle,
    view_submission,
)

REF = json.dumps({"c": "nimbus", "l": "1", "e": "e1"})


@pytest.mark.parametrize("decision", ["confirm", "dismiss"])
def test_only_admins_open_the_reason_modal(app: Listeners, deps: Deps, decision: str) -> None:
    for user in (USER, ADMIN):
        ack, respond, client = Recorder(), Recorder(), FakeClient()
        body, action = block_action(f"screen_{decision}", REF, user=user)
        app("action", f"screen_{decision}")(
            ack=ack, body=body, action=action, respond=respond, client=client
        )
        assert ack.only == {}
        settle(deps)
        if user == USER:
            assert "only compliance admins can confirm or dismiss" in respond.only["text"]
            assert client.calls == []
        else:
            (opened,) = client.called("views_open")
            assert opened["view"]["callback_id"] == "screen_decision"
            assert json.loads(opened["view"]["private_metadata"])["d"] == decision
    assert refusals(deps.engine) == [(USER, f"screen {decision}", REF)]


def test_a_decision_needs_an_admin_and_a_reason(app: Listeners, deps: Deps) -> None:
    meta = json.dumps({"c": "nimbus", "l": "1", "e": "e1", "d": "dismiss", "r": None})
    for user, why, error in (
        (USER, "because", "Only compliance admins can decide on hits."),
        (ADMIN, "  ", "Say why: the reason is audited."),
    ):
        ack = Recorder()
        values = {"why_block": {"why": {"value": why}}}
        body, view = view_submission("screen_decision", values, user=user, private_metadata=meta)
        app("view", "screen_decision")(ack=ack, body=body, view=view, client=FakeClient())
        settle(deps)
        assert ack.only == {"response_action": "errors", "errors": {"why_block": error}}
    assert refusals(deps.engine) == [(USER, "screening decision", meta)]
