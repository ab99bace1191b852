"""Update group and Decline on a country-list change, as Bolt calls their listeners."""

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


@pytest.mark.parametrize(
    ("action_id", "audited"),
    [("update_group", "update group"), ("decline_group_update", "decline group update")],
)
def test_only_admins_decide_on_a_group_update(
    app: Listeners, deps: Deps, action_id: str, audited: str
) -> None:
    ack, respond, client = Recorder(), Recorder(), FakeClient()
    body, action = block_action(action_id, "5")
    app("action", action_id)(ack=ack, body=body, action=action, respond=respond, client=client)
    assert ack.only == {}
    settle(deps)
    assert respond.only["text"] == "Sorry, only compliance admins can update groups."
    assert refusals(deps.engine) == [(USER, audited, "5")]
    assert client.calls == []


def test_an_unknown_change_is_told_to_the_admin(app: Listeners, deps: Deps) -> None:
    ack, respond, client = Recorder(), Recorder(), FakeClient()
    body, action = block_action("update_group", "999", user=ADMIN)
    app("action", "update_group")(ack=ack, body=body, action=action, respond=respond, client=client)
    settle(deps)
    said = respond.only
    assert said["text"] == "That change is not from a country-list source."
    assert said["response_type"] == "ephemeral"
    assert client.called("views_open") == []


def test_a_confirmation_from_someone_else_changes_nothing(app: Listeners, deps: Deps) -> None:
    ack, client = Recorder(), FakeClient()
    meta = json.dumps({"change": 5, "channel": "C1", "ts": "1.2"})
    body, view = view_submission("update_group_confirm", {}, private_metadata=meta)
    app("view", "update_group_confirm")(ack=ack, body=body, view=view, client=client)
    assert ack.only == {}
    settle(deps)
    assert refusals(deps.engine) == [(USER, "update group", "5")]
    assert client.calls == []
