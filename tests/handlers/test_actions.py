"""Buttons and the review flow, called as Bolt calls them, with Slack's side faked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

import handlers
from bot.services.asking import ask
from handlers.deps import Deps, answer_payload
from handlers.render.colours import card_blocks
from tests.handlers.conftest import refusals
from tests.support.listeners import (
    ADMIN,
    NOW,
    USER,
    FakeClient,
    Listeners,
    Recorder,
    block_action,
    make_deps,
    settle,
    view_submission,
)

REVIEWS = "CREVIEW"
QUESTION = "can Nimbus in Singapore use Claude Sonnet 4.5"


def text_of(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def decision(deps: Deps) -> str:
    """Return the id of a fresh audited answer of USER's."""
    return ask(deps.engine, deps.cache, QUESTION, actor=USER, now=NOW, audit=deps.audit).decision_id


def click(
    app: Listeners,
    deps: Deps,
    action_id: str,
    value: str,
    client: FakeClient,
    *,
    user: str = USER,
    listener: str | None = None,
    **body_args: Any,
) -> tuple[Recorder, Recorder]:
    """Click a button; wait for the work after the ack; return ack and respond."""
    ack, respond = Recorder(), Recorder()
    body, action = block_action(action_id, value, user=user, **body_args)
    app("action", listener or action_id)(
        ack=ack, body=body, action=action, respond=respond, client=client
    )
    assert ack.only == {}, "a button is acked at once, with nothing"
    settle(deps)
    return ack, respond


@pytest.fixture
def reviewed(engine: Engine) -> Iterator[tuple[Deps, Listeners]]:
    """Listeners whose review requests go to a review channel."""
    deps = make_deps(engine, CLEARANCE_REVIEW_CHANNEL=REVIEWS)
    app = Listeners()
    handlers.register(app, deps)  # type: ignore[arg-type]
    yield deps, app
    settle(deps)


def test_share_posts_the_card_in_the_channel(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    _, respond = click(app, deps, "share_answer", decision(deps), client)
    said = respond.only
    assert said["response_type"] == "in_channel" and said["replace_original"] is False
    assert f"<@{USER}>" in text_of(said) and "Nimbus" in text_of(said)


@pytest.mark.parametrize("action_id", ["share_answer", "show_rules"])
def test_an_unknown_answer_is_no_longer_available(
    app: Listeners, deps: Deps, client: FakeClient, action_id: str
) -> None:
    _, respond = click(app, deps, action_id, "0" * 32, client)
    said = respond.only
    assert said["response_type"] == "ephemeral" and said["replace_original"] is False
    assert "That answer is no longer available" in said["text"]


def test_show_rules_lists_the_rules_behind_an_answer(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    decision_id = decision(deps)
    _, respond = click(app, deps, "show_rules", decision_id, client)
    assert respond.only["text"] == f"Rules behind decision {decision_id}"


def test_picking_a_candidate_answers_in_place(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    offered = answer_payload(deps, "can Acme in Germny use GPT-4o", actor=USER)
    buttons = [
        e
        for b in offered["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"].startswith("Germany")
    ]
    assert buttons, offered
    pick = r"^pick_candidate_(\d+|menu)$"
    _, respond = click(app, deps, "pick_candidate_0", buttons[0]["value"], client, listener=pick)
    said = respond.only
    assert said["replace_original"] is True and said["blocks"][0]["type"] == "header"
    assert "Germany" in said["text"] and "GPT-4o" in said["text"]
    _, stale = click(app, deps, "pick_candidate_0", "gone:0", client, listener=pick)
    assert "no longer available" in stale.only["text"]


def test_a_review_needs_a_review_channel(app: Listeners, deps: Deps, client: FakeClient) -> None:
    _, respond = click(app, deps, "request_review", decision(deps), client)
    assert "No review channel is configured" in respond.only["text"]
    assert client.calls == []


def test_a_review_is_requested_once(reviewed: tuple[Deps, Listeners]) -> None:
    deps, app = reviewed
    client = FakeClient(
        replies={
            "chat_postMessage": {"channel": REVIEWS, "ts": "1700000000.000200"},
            "chat_getPermalink": {"permalink": "https://example.slack.com/archives/CREVIEW/p1"},
        }
    )
    decision_id = decision(deps)
    _, respond = click(app, deps, "request_review", decision_id, client)
    (posted,) = client.called("chat_postMessage")
    assert posted["channel"] == REVIEWS and decision_id[:8] in text_of(posted)
    told, card = respond.calls
    assert "Sent to <#CREVIEW>" in told["text"] and card["replace_original"] is True
    _, again = click(app, deps, "request_review", decision_id, client)
    assert "already requested" in again.calls[0]["text"]
    assert len(client.called("chat_postMessage")) == 1


def _open_review(deps: Deps, app: Listeners) -> tuple[FakeClient, int]:
    client = FakeClient(replies={"chat_postMessage": {"channel": REVIEWS, "ts": "1700000000.2"}})
    click(app, deps, "request_review", decision(deps), client)
    (posted,) = client.called("chat_postMessage")
    button = next(
        e
        for b in card_blocks(posted)
        for e in b.get("elements") or ()
        if e.get("action_id") == "resolve_review"
    )
    return client, int(button["value"])


def test_only_admins_open_the_resolve_modal(reviewed: tuple[Deps, Listeners]) -> None:
    deps, app = reviewed
    client, review = _open_review(deps, app)
    click(app, deps, "resolve_review", str(review), client)
    (told,) = client.called("chat_postEphemeral")
    assert told["text"] == "Sorry, only compliance admins can resolve reviews."
    assert refusals(deps.engine) == [(USER, "resolve review", str(review))]
    click(app, deps, "resolve_review", str(review), client, user=ADMIN)
    (opened,) = client.called("views_open")
    assert opened["view"]["callback_id"] == "resolve_review"


def test_resolving_tells_the_asker_and_refuses_others(reviewed: tuple[Deps, Listeners]) -> None:
    deps, app = reviewed
    client, review = _open_review(deps, app)
    values = {
        "outcome_block": {"outcome": {"selected_option": {"value": "confirmed"}}},
        "note_block": {"note": {"value": "checked the licence"}},
    }
    meta = json.dumps({"review": review})
    for user in (USER, ADMIN):
        ack = Recorder()
        body, view = view_submission("resolve_review", values, user=user, private_metadata=meta)
        app("view", "resolve_review")(ack=ack, body=body, view=view, client=client)
        settle(deps)
        if user == USER:
            assert ack.only["response_action"] == "errors"
            assert refusals(deps.engine) == [(USER, "resolve review", meta)]
        else:
            assert ack.only == {}
    dm = [c for c in client.called("chat_postMessage") if c["channel"] == USER]
    assert len(dm) == 1 and "Answer confirmed" in dm[0]["text"]


@pytest.mark.parametrize(("user", "admin"), [(USER, False), (ADMIN, True)])
def test_the_home_help_shows_admin_commands_to_admins(
    app: Listeners, deps: Deps, client: FakeClient, user: str, admin: bool
) -> None:
    click(app, deps, "home_help", "help", client, user=user)
    (opened,) = client.called("views_open")
    assert opened["view"]["title"]["text"] == "Clearance help"
    assert ("*Admin*" in text_of(opened["view"])) is admin


def test_a_help_example_is_answered_where_it_was_clicked(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    _, respond = click(app, deps, "help_example", "0", client)
    assert respond.only["blocks"][0]["type"] == "header"
    _, respond = click(app, deps, "help_example", "99", client)
    assert "That example is no longer offered" in respond.only["text"]
    _, respond = click(app, deps, "help_example", "1", client, response_url=None)
    assert respond.calls == []  # from the help modal: in a DM
    (dm,) = client.called("chat_postMessage")
    assert dm["channel"] == USER and dm["blocks"][0]["type"] == "header"


def test_home_reviews_lists_the_users_requests(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    click(app, deps, "home_reviews", "reviews", client)
    (opened,) = client.called("views_open")
    assert opened["view"]["title"]["text"] == "Review requests"
