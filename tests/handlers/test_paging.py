"""Next buttons of `rules` and `audit`, and the Claim button of a review, as Bolt calls them."""

from __future__ import annotations

import json

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
    slash_command,
)


def click(app: Listeners, deps: Deps, action_id: str, value: str, *, user: str = USER) -> Recorder:
    ack, respond = Recorder(), Recorder()
    body, action = block_action(action_id, value, user=user)
    app("action", action_id)(
        ack=ack, body=body, action=action, respond=respond, client=FakeClient()
    )
    assert ack.only == {}
    settle(deps)
    return respond


def test_next_shows_the_following_rules_in_place(app: Listeners, deps: Deps) -> None:
    ack = Recorder()
    app("command", "/clearance")(
        ack=ack, command=slash_command("rules"), respond=Recorder(), client=FakeClient()
    )
    (button,) = [
        e
        for b in ack.only["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "page_rules"
    ]
    said = click(app, deps, "page_rules", button["value"]).only
    assert said["replace_original"] is True and said["response_type"] == "ephemeral"
    assert said["text"] != ack.only["text"] or said["blocks"] != ack.only["blocks"]


def test_a_stale_next_button_says_so(app: Listeners, deps: Deps) -> None:
    said = click(app, deps, "page_rules", "gone:20").only
    assert said["text"] == "That list is no longer available; run the command again."


def test_the_audit_log_pages_only_for_admins(app: Listeners, deps: Deps) -> None:
    said = click(app, deps, "page_audit", "gone:20").only
    assert said["text"] == "Sorry, the audit log is for compliance admins only."
    assert refusals(deps.engine) == [(USER, "audit", None)]
    said = click(app, deps, "page_audit", "gone:20", user=ADMIN).only
    assert "no longer available" in said["text"]


def test_claiming_is_for_admins_and_needs_a_review(app: Listeners, deps: Deps) -> None:
    said = click(app, deps, "claim_review", "7").only
    assert said["text"] == "Sorry, only compliance admins can claim reviews."
    assert refusals(deps.engine) == [(USER, "claim review", "7")]
    for value, expected in (("x", "That review no longer exists."), ("999", "no review #999")):
        said = click(app, deps, "claim_review", value, user=ADMIN).only
        assert expected in said["text"] and said["replace_original"] is False
    assert json.dumps(said)  # a plain, sendable payload
