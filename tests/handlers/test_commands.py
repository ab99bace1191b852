"""The `/clearance` listener: questions and subcommands, acked with their message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import select

import handlers
from bot.domain.asking.customer_names import CustomerIndex
from bot.services.asking import KnowledgeCache
from bot.services.held_answers import HELD_ANSWER, HeldAnswer
from handlers.deps import Deps
from storage.db import session_scope
from storage.tables.audit import Decision
from tests.support.listeners import (
    ADMIN,
    USER,
    FakeClient,
    Listeners,
    Recorder,
    make_deps,
    settle,
    slash_command,
)

PROFILE = "Dragon Holdings Co"  # Nimbus's owner: shown in its profile, not in a hint


def run(
    app: Listeners, text: str, client: FakeClient, *, user: str = USER
) -> tuple[dict[str, Any], Recorder]:
    """Call the listener; return what it acked (exactly once) and the respond recorder."""
    ack, respond = Recorder(), Recorder()
    app("command", "/clearance")(
        ack=ack, command=slash_command(text, user=user), respond=respond, client=client
    )
    return ack.only, respond


def text_of(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_a_question_is_answered_in_the_ack_once_it_is_audited(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    acked, respond = run(app, "can someone in Japan use GPT-4o", client)
    assert acked["response_type"] == "ephemeral"
    assert acked["blocks"][0]["type"] == "header" and acked["text"]
    with session_scope(deps.engine) as session:
        (decision,) = session.exec(select(Decision)).all()
    assert decision.actor == USER and decision.id in text_of(acked)
    assert respond.calls == []


def test_an_unreadable_question_gets_the_parsers_message(
    app: Listeners, client: FakeClient
) -> None:
    acked, _ = run(app, "what is the weather like", client)
    assert acked["response_type"] == "ephemeral"
    assert "I couldn't read that as a question." in acked["text"]


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP"])
def test_no_text_or_help_is_the_help(app: Listeners, client: FakeClient, text: str) -> None:
    acked, _ = run(app, text, client)
    assert acked["text"].startswith("Clearance help")


def test_an_unknown_word_gets_the_help_with_a_note(app: Listeners, client: FakeClient) -> None:
    acked, _ = run(app, "frobnicate<!channel>", client)
    assert "I don't know the command `frobnicate&lt;!channel&gt;`" in text_of(acked)
    assert acked["text"].startswith("Clearance help")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer Nimbus Pte Ltd", PROFILE),
        ("customer nimbus", PROFILE),  # by id
        ("customer NIMBUS", PROFILE),  # by alias
        ("customer Nimbsu", "Did you mean Nimbus Pte Ltd?"),
        ("customer Nobody Known", "No registered customer called 'Nobody Known'."),
        ("customer", "Say which customer"),
        ("rule", "Say which rule"),
        ("rule no-such-rule", "No rule with id 'no-such-rule'"),
        ("rules", "rules"),
        ("revisions", "evision"),
        ("changes since 2026-13-01", "is not a date"),
        ("changes yesterday", "changes since 2026-11-01"),
        ("digest", "Use `/clearance digest preview`"),
        ("digest preview", "has no subscription"),
        ("sources", "Tracked sources"),
        ("subscriptions", "none yet"),
    ],
)
def test_read_only_subcommands_answer_in_the_ack(
    app: Listeners, client: FakeClient, text: str, expected: str
) -> None:
    acked, respond = run(app, text, client)
    assert expected in text_of(acked)
    assert respond.calls == [] and client.calls == []


def test_a_customer_is_found_with_the_knowledge_caches_name_index(
    app: Listeners, deps: Deps, client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps.cache.get()  # the knowledge of this revision, with its one customer-name index
    builds: list[int] = []
    build = CustomerIndex.__post_init__

    def counted(index: CustomerIndex) -> None:
        builds.append(len(index.customers))
        build(index)

    monkeypatch.setattr(CustomerIndex, "__post_init__", counted)
    assert "Did you mean Nimbus Pte Ltd?" in text_of(run(app, "customer Nimbsu", client)[0])
    assert PROFILE in text_of(run(app, "customer Nimbus", client)[0])
    assert "Acme" in text_of(run(app, "audit Acme GmbH", client, user=ADMIN)[0])
    run(app, "customer edit Nimbus", client, user=ADMIN)
    settle(deps)
    (opened,) = client.called("views_open")
    assert "Edit customer nimbus" in text_of(opened["view"])
    assert builds == [], "no lookup builds a name index of its own"


def test_customers_fetched_on_demand_are_found_by_name(engine: Engine, client: FakeClient) -> None:
    # This knowledge never holds every customer: only its own index finds one by name.
    deps = make_deps(engine, cache=KnowledgeCache(engine, lazy_customers=True))
    app = Listeners()
    handlers.register(app, deps)  # type: ignore[arg-type]
    assert PROFILE in text_of(run(app, "customer Nimbus", client)[0])
    assert "Did you mean Nimbus Pte Ltd?" in text_of(run(app, "customer Nimbus Pte", client)[0])
    settle(deps)


def test_rule_add_opens_its_modal_after_an_empty_ack(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    acked, respond = run(app, "rule add", client, user=ADMIN)
    assert acked == {}
    settle(deps)
    (opened,) = client.called("views_open")
    assert opened["trigger_id"] == "1.2.trigger"
    assert opened["view"]["callback_id"] == "edit_entity"
    assert respond.calls == []


def run_later(app: Listeners, deps: Deps, client: FakeClient, text: str) -> list[dict[str, Any]]:
    """Run an admin's subcommand and the work after its ack; return what it responded."""
    acked, respond = run(app, text, client, user=ADMIN)
    assert acked == {}
    settle(deps)
    return respond.calls


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rule edit no-such-rule", "No rule with id 'no-such-rule'."),
        ("rule retire", "Say which rule: `/clearance rule retire ID`."),
        ("customer edit Nobody", "No registered customer called 'Nobody'."),
    ],
)
def test_an_editor_for_something_unknown_is_told_through_respond(
    app: Listeners, deps: Deps, client: FakeClient, text: str, expected: str
) -> None:
    (said,) = run_later(app, deps, client, text)
    assert said["text"] == expected and said["response_type"] == "ephemeral"
    assert client.calls == []


def test_a_slack_failure_after_the_ack_gets_an_error_id(app: Listeners, deps: Deps) -> None:
    class Failing(FakeClient):
        def views_open(self, **kwargs: Any) -> dict[str, Any]:
            raise SlackApiError("expired_trigger_id", {"ok": False, "error": "expired_trigger_id"})

    (said,) = run_later(app, deps, Failing(), "rule add")
    assert "error" in said["text"].lower() and said["response_type"] == "ephemeral"


def test_a_held_answer_is_acked_at_once_and_sent_once_committed(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    held = HeldAnswer()
    ack, respond = Recorder(), Recorder()
    app("command", "/clearance")(
        ack=ack,
        command=slash_command("can someone in Japan use GPT-4o", user=USER),
        respond=respond,
        client=client,
        context=BoltContext({HELD_ANSWER: held}),
    )
    assert held.committed is not None and held.budget_s > 0 and held.reply is not None
    assert ack.only == {}  # the front sends the answer once its decision is committed
    assert held.reply["blocks"][0]["type"] == "header"
    assert held.reply["response_type"] == "ephemeral"
    held.committed.result(timeout=10)
    with session_scope(deps.engine) as session:
        (decision,) = session.exec(select(Decision)).all()
    assert decision.id in text_of(held.reply)
    failed = held.failed(RuntimeError("disk full"))
    assert "something went wrong" in failed["text"] and failed["response_type"] == "ephemeral"
    assert respond.calls == []
