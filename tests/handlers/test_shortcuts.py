"""Shortcuts, the Ask and Subscribe modals, select options and unfurls, as Bolt calls them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine

import handlers
from bot.services.asking import ask
from handlers.deps import Deps
from tests.handlers.conftest import refusals
from tests.support.listeners import (
    ADMIN,
    CHANNEL,
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


def text_of(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def shortcut(callback_id: str, *, user: str = USER, text: str | None = None) -> dict[str, Any]:
    """Return a global (or, with text, a message) shortcut as Bolt hands it to a listener."""
    payload: dict[str, Any] = {
        "type": "shortcut" if text is None else "message_action",
        "callback_id": callback_id,
        "trigger_id": "1.2.trigger",
        "user": {"id": user, "team_id": "T1"},
        "team": {"id": "T1", "domain": "example"},
    }
    if text is not None:
        payload["message"] = {"type": "message", "text": text, "ts": "1700000000.000001"}
        payload["channel"] = {"id": CHANNEL}
        payload["response_url"] = "https://hooks.slack.com/app/T1/1/x"
    return payload


@pytest.mark.parametrize(("kind", "key"), [("shortcut", "ask_clearance"), ("action", "home_ask")])
def test_the_ask_modal_opens_at_once(
    app: Listeners, client: FakeClient, kind: str, key: str
) -> None:
    ack = Recorder()
    body, _ = block_action(key, "ask")
    app(kind, key)(ack=ack, shortcut=shortcut(key), body=body, client=client)
    assert ack.only == {}
    (opened,) = client.called("views_open")  # before the listener returns: the trigger is short
    assert opened["trigger_id"] == "1.2.trigger" and opened["view"]["callback_id"] == "ask_modal"


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        ("customer", "nimb", ("Nimbus Pte Ltd (SG)", "nimbus")),
        ("country", "germ", ("Germany (DE)", "DE")),
        ("model", "gpt-4o", ("GPT-4o", "gpt-4o")),
    ],
)
def test_select_options_are_acked_with_what_matches(
    app: Listeners, field: str, typed: str, expected: tuple[str, str]
) -> None:
    ack = Recorder()
    app("options", field)(ack=ack, payload={"type": "block_suggestion", "value": typed})
    options = ack.only["options"]
    assert {"text": {"type": "plain_text", "text": expected[0]}, "value": expected[1]} in options


def test_no_text_typed_offers_no_customers(app: Listeners) -> None:
    ack = Recorder()
    app("options", "customer")(ack=ack, payload={"value": " "})
    assert ack.only == {"options": []}


def test_an_ask_submission_is_answered_in_a_dm(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    values = {
        "customer_block": {"customer": {"selected_option": {"value": "nimbus"}}},
        "country_block": {"country": {"selected_option": {"value": "SG"}}},
        "model_block": {"model": {"selected_option": {"value": "gpt-4o"}}},
    }
    ack = Recorder()
    body, view = view_submission("ask_modal", values)
    app("view", "ask_modal")(ack=ack, body=body, view=view, client=client)
    assert ack.only == {}
    settle(deps)
    (dm,) = client.called("chat_postMessage")
    assert dm["channel"] == USER and "Nimbus Pte Ltd" in dm["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@UBOT> can Nimbus in Singapore use GPT-4o", "Nimbus Pte Ltd"),
        ("", "That message has no text to check."),
    ],
)
def test_check_with_clearance_answers_the_message(
    app: Listeners, deps: Deps, client: FakeClient, text: str, expected: str
) -> None:
    ack, respond = Recorder(), Recorder()
    app("shortcut", "check_with_clearance")(
        ack=ack, shortcut=shortcut("check_with_clearance", text=text), respond=respond
    )
    assert ack.only == {}
    settle(deps)
    said = respond.only
    assert expected in said["text"] and said["response_type"] == "ephemeral"


def subscribe_values(schedule: str = "daily", tz: str = "UTC") -> dict[str, Any]:
    return {
        "channel_block": {"channel": {"selected_conversation": "C9"}},
        "schedule_block": {"schedule": {"selected_option": {"value": schedule}}},
        "time_block": {"time": {"selected_time": "09:00"}},
        "tz_block": {"tz": {"value": tz}},
    }


def submit_subscribe(
    app: Listeners, deps: Deps, client: FakeClient, user: str, **values: str
) -> dict[str, Any]:
    ack = Recorder()
    body, view = view_submission("subscribe_modal", subscribe_values(**values), user=user)
    app("view", "subscribe_modal")(ack=ack, body=body, view=view, client=client)
    settle(deps)
    return ack.only


def test_the_subscribe_modal_is_for_admins(app: Listeners, deps: Deps, client: FakeClient) -> None:
    refused = submit_subscribe(app, deps, client, USER)
    assert refused == {
        "response_action": "errors",
        "errors": {"channel_block": "Sorry, only compliance admins can change subscriptions."},
    }
    assert refusals(deps.engine) == [(USER, "subscribe", "C9")]
    assert client.calls == []
    assert submit_subscribe(app, deps, client, ADMIN) == {}
    (dm,) = client.called("chat_postMessage")
    assert dm["channel"] == ADMIN and "<#C9> now gets every source on a daily" in dm["text"]


def test_a_bad_schedule_is_shown_on_its_field(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    acked = submit_subscribe(app, deps, client, ADMIN, tz="Mars/Olympus")
    assert acked["response_action"] == "errors" and "schedule_block" in acked["errors"]


def test_home_subscribe_opens_the_modal(app: Listeners, client: FakeClient) -> None:
    ack = Recorder()
    body, _ = block_action("home_subscribe", "subscribe")
    app("action", "home_subscribe")(ack=ack, body=body, client=client)
    assert ack.only == {}
    (opened,) = client.called("views_open")
    assert opened["view"]["callback_id"] == "subscribe_modal"


@pytest.mark.parametrize(("user", "shown"), [(USER, True), ("UOTHER", False), (ADMIN, True)])
def test_an_answer_opens_for_its_asker_and_admins(
    app: Listeners, deps: Deps, client: FakeClient, user: str, shown: bool
) -> None:
    decision = ask(
        deps.engine, deps.cache, "can Nimbus use GPT-4o in Singapore", actor=USER, now=NOW
    )
    ack = Recorder()
    body, action = block_action("open_decision", decision.decision_id, user=user)
    app("action", "open_decision")(ack=ack, body=body, action=action, client=client)
    assert ack.only == {}
    (opened,) = client.called("views_open")
    assert ("not available to you" in text_of(opened["view"])) is not shown


def test_clearance_links_unfurl_to_their_cards(engine: Engine, client: FakeClient) -> None:
    deps = make_deps(engine, CLEARANCE_PUBLIC_URL="https://clearance.example.com")
    app = Listeners()
    handlers.register(app, deps)  # type: ignore[arg-type]
    decision = ask(engine, deps.cache, "can someone in Iran use GPT-4o", actor=USER, now=NOW)
    ours = f"https://clearance.example.com/decisions/{decision.decision_id}"
    event = {
        "type": "link_shared",
        "channel": CHANNEL,
        "message_ts": "1700000000.000001",
        "links": [{"url": ours}, {"url": "https://elsewhere.example.com/decisions/abcdef12"}],
    }
    app("event", "link_shared")(event=event, client=client)
    settle(deps)
    (unfurl,) = client.called("chat_unfurl")
    assert list(unfurl["unfurls"]) == [ours]
    assert unfurl["unfurls"][ours]["blocks"][0]["type"] == "header"
