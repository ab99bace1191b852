"""Issue 14 ("Slack, first class") through the running server: defects, cards, review flow.

Every test drives `clearance serve --http` with signed requests against the fake Slack, and
fails on the behaviour the issue reported.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pycountry
import pytest
import yaml
from sqlmodel import col, select

from handlers.render.colours import card_blocks
from storage.db import create_db_engine, session_scope
from storage.rules import load_table
from storage.tables.reviews import ReviewRequest
from storage.tables.tracking import Delivery, Subscription
from tests.e2e.server import ADMIN, REVIEW_CHANNEL, SECRET, Server, running_server
from tests.support.slack_fake import FakeSlack
from tests.support.slack_signing import (
    block_action_payload,
    block_suggestion_payload,
    global_shortcut_payload,
    interactive_body,
    message_shortcut_payload,
    post,
    view_submission_payload,
)

pytestmark = pytest.mark.e2e

MODELS = ["claude-sonnet-4-5", "claude-opus-4-5", "gpt-4o", "gpt-5", "o3"]
# 100 countries x 5 models: 500 recorded usages, about 20,000 characters of YAML.
COUNTRIES = sorted(c.alpha_2 for c in pycountry.countries)[:100]
BIG_USES = [{"model": m, "country": c} for c in COUNTRIES for m in MODELS]


def cli(db_url: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("defects")
    customers = {
        "version": 1,
        "customers": [
            {"id": "dragon", "name": "Dragon Holdings Co", "hq": "CN"},
            {
                "id": "nimbus",
                "name": "Nimbus Pte Ltd",
                "aliases": ["Nimbus"],
                "hq": "SG",
                "owners": [{"owner": "dragon", "share": 60}],
                "uses": [{"model": "claude-sonnet-4-5", "country": "SG"}],
            },
            {"id": "bigco", "name": "Big Co AG", "hq": "DE", "tags": [], "uses": BIG_USES},
        ],
    }
    path = tmp / "customers.yaml"
    path.write_text(yaml.safe_dump(customers, sort_keys=False))
    cli(module_db_url, "customers", "import", str(path))
    cli(
        module_db_url,
        "sources",
        "add",
        "--name",
        "Vendor page",
        "--kind",
        "webpage",
        "--url",
        "https://example.com/regions",
    )  # never polled: the scheduler is off
    with running_server(
        module_db_url, slack, tmp, CLEARANCE_PUBLIC_URL="https://clearance.example.com"
    ) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(slack: FakeSlack) -> None:
    slack.reset()


def text_of(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def decision_of(ack: dict[str, Any]) -> str:
    buttons = card_blocks(ack)[-1]["elements"]
    return str(next(b["value"] for b in buttons if b["action_id"] == "request_review"))


# ---------------------------------------------------------------- 1. large customer edits


def test_editing_a_customer_with_500_usages_keeps_every_usage(
    server: Server, module_db_url: str
) -> None:
    server.command("customer edit bigco", user=ADMIN)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    editor = next(b for b in modal["blocks"] if b.get("block_id") == "yaml_block")
    initial = editor["element"]["initial_value"]
    assert len(initial) <= 3000 and "uses" not in initial
    assert "500 recorded usages are not shown and are kept" in text_of(modal)
    result = server.submit(
        "edit_entity",
        {
            "yaml_block": {"yaml": initial.rstrip("\n") + "\ntags: [reseller]\n"},
            "reason_block": {"reason": "now a reseller"},
        },
        metadata=modal["private_metadata"],
    )
    assert result == {}
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        customer = load_table(session=session).customers["bigco"]
    engine.dispose()
    assert customer.tags == ("reseller",)
    assert customer.to_dict()["uses"] == BIG_USES


def test_an_entity_too_large_even_in_parts_is_refused_with_a_pointer(
    server: Server, module_db_url: str
) -> None:
    # The rule table's largest rules fit; a customer whose aliases alone overflow does not.
    aliases = [f"Alias number {i} of the very large customer" for i in range(120)]
    huge = {
        "version": 1,
        "customers": [{"id": "huge", "name": "Huge", "hq": "DE", "aliases": aliases}],
    }
    path = server.log.parent / "huge.yaml"
    path.write_text(yaml.safe_dump(huge))
    cli(module_db_url, "customers", "import", str(path))
    ack = server.command("customer edit huge", user=ADMIN, name="huge")
    told = ack if ack else server.slack.wait_for("response_url:huge")[0].args
    text = text_of(told)
    assert "too large to edit in Slack" in text and "clearance customers import" in text
    assert not server.slack.calls_to("views.open")


# ---------------------------------------------------------------- 2. unsubscribe


def test_unsubscribe_after_deliveries(server: Server, module_db_url: str) -> None:
    ok = server.command("subscribe", user=ADMIN)
    assert "now gets every source" in text_of(ok)
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        sub = session.exec(select(Subscription).where(Subscription.channel == "C1")).one()
        now = datetime.now(UTC)
        for key, status in (("sent-1", "sent"), ("pending-1", "pending")):
            session.add(
                Delivery(
                    dedupe_key=f"test:{key}",
                    channel="C1",
                    subscription_id=sub.id,
                    kind="digest",
                    status=status,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        session.commit()
    gone = server.command("unsubscribe", user=ADMIN)
    assert "is unsubscribed" in text_of(gone), gone
    with session_scope(engine) as session:
        assert (
            session.exec(select(Subscription).where(Subscription.channel == "C1")).first() is None
        )
        rows = session.exec(
            select(Delivery).where(col(Delivery.dedupe_key).startswith("test:"))
        ).all()
    engine.dispose()
    assert {r.status for r in rows} == {"sent", "cancelled"}  # history kept, nothing more sent
    assert all(r.subscription_id is None for r in rows)


# ---------------------------------------------------------------- 3. suggestion buttons


def test_suggestion_buttons_work_for_long_non_ascii_questions(server: Server) -> None:
    question = "can 株式会社" + "東京電機産業" * 70 + " in Germny use GPT-4o"
    ack = server.command(question)
    buttons = card_blocks(ack)[1]["elements"]
    assert all(len(b["value"]) < 40 for b in buttons)  # a short id, not the question
    de = next(b for b in buttons if b["text"]["text"].startswith("Germany"))
    assert server.action(de["action_id"], de["value"], name="pick") == 200
    answer = server.slack.wait_for("response_url:pick")[0].args
    assert card_blocks(answer)[0]["type"] == "header", answer
    assert "Germany" in answer["text"] and "GPT-4o" in answer["text"]


# ---------------------------------------------------------------- 4. changes since a bad date


def test_changes_since_an_impossible_date_gives_a_usage_line(server: Server) -> None:
    text = text_of(server.command("changes since 2026-13-01"))
    assert "is not a date" in text and "changes since 2026-11-01" in text
    assert "error id" not in text


# ---------------------------------------------------------------- 5. request review twice


def test_request_review_twice_posts_one_review(server: Server, module_db_url: str) -> None:
    decision = decision_of(server.command("can Nimbus in Singapore use GPT-4o", user="UASK5"))
    assert server.action("request_review", decision, user="UASK5", name="r1") == 200
    first = server.slack.wait_for("response_url:r1", count=2)
    card = next(c.args for c in first if c.args.get("replace_original"))
    label = next(
        e["text"]["text"]
        for b in card_blocks(card)
        for e in b.get("elements") or ()
        if e.get("action_id") == "request_review"
    )
    assert label.startswith("Review #") and label.endswith(" requested")
    assert server.action("request_review", decision, user="UASK5", name="r2") == 200
    second = server.slack.wait_for("response_url:r2", count=2)
    assert "already requested" in text_of(second[0].args)
    # Two clicks at once, as two workers would take them, still make one review.
    other = decision_of(server.command("can Nimbus in Singapore use o3", user="UASK5"))
    clicks = [
        threading.Thread(
            target=server.action, args=("request_review", other), kwargs={"name": f"c{i}"}
        )
        for i in range(2)
    ]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join(10)
    server.slack.wait_for("response_url:c0", count=2)
    server.slack.wait_for("response_url:c1", count=2)
    posts = [
        c for c in server.slack.calls_to("chat.postMessage") if c.args["channel"] == REVIEW_CHANNEL
    ]
    assert len(posts) == 2  # one per decision
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        counts = [
            len(session.exec(select(ReviewRequest).where(ReviewRequest.decision_id == d)).all())
            for d in (decision, other)
        ]
    engine.dispose()
    assert counts == [1, 1]


# ---------------------------------------------------------------- 6. overrides shown everywhere


def _resolve(server: Server, review_id: str, outcome: str, label: str) -> None:
    server.action("resolve_review", review_id, user=ADMIN, channel_id=REVIEW_CHANNEL)
    modal = server.slack.wait_for("views.open")[-1].args["view"]
    assert (
        server.submit(
            "resolve_review",
            {
                "outcome_block": {
                    "outcome": {
                        "type": "static_select",
                        "selected_option": {
                            "text": {"type": "plain_text", "text": label},
                            "value": outcome,
                        },
                    }
                },
                "note_block": {"note": "Board minutes show Dragon sold"},
            },
            metadata=modal["private_metadata"],
        )
        == {}
    )


def test_an_override_shows_in_audit_home_and_cli_linked_to_the_original(
    server: Server, module_db_url: str
) -> None:
    ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5", user="UASK6")
    assert card_blocks(ack)[0]["text"]["text"].startswith("⛔ Denied · ")
    decision = decision_of(ack)
    server.action("request_review", decision, user="UASK6", name="r6")
    server.slack.wait_for("response_url:r6", count=2)  # the request is stored with its message
    posted = server.slack.wait_for(
        "chat.postMessage", where=lambda c: c.args["channel"] == REVIEW_CHANNEL
    )[0]
    review_id = next(
        e["value"]
        for b in card_blocks(posted.args)
        for e in b.get("elements") or ()
        if e.get("action_id") == "resolve_review"
    )
    _resolve(server, review_id, "allowed", "Overridden: allowed")
    server.slack.wait_for("chat.update")

    audit = text_of(server.command("audit <@UASK6>", user=ADMIN))
    assert "Overridden → allowed by <@UADMIN>" in audit and f"review #{review_id}" in audit
    assert "⛔ Denied" in audit  # the original verdict, as decided

    server.event(
        {"type": "app_home_opened", "user": "UASK6", "channel": "D6", "tab": "home"}, "EvH6"
    )
    home = text_of(server.slack.wait_for("views.publish")[0].args["view"])
    assert "Overridden → allowed" in home

    rows = json.loads(cli(module_db_url, "audit", "--json", "--actor", "UASK6"))
    (row,) = [r for r in rows if r["id"] == decision]
    assert row["verdict"] == "denied"  # never rewritten
    assert row["reviews"][0]["override"] == "allowed"
    assert row["reviews"][0]["resolved_by"] == ADMIN

    # A stale Resolve click says so at once, with the resolver as a mention.
    server.action("resolve_review", review_id, user=ADMIN, channel_id=REVIEW_CHANNEL, name="st")
    stale = text_of(server.slack.wait_for("response_url:st")[0].args)
    assert "already resolved by <@UADMIN>" in stale and "&lt;@" not in stale


# ---------------------------------------------------------------- 7. every error in the modal


def test_the_rule_modal_shows_every_error(server: Server) -> None:
    server.command("rule add", user=ADMIN)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    bad = server.submit(
        "edit_entity",
        {
            "yaml_block": {
                "yaml": "id: test-bad\neffect: alow\ntitle: t\nmodels: {ids: [gemini-9]}\n"
                "places: {in: [XX], groups: [g-nope]}\neffective_from: 2026-13-01\n"
            },
            "reason_block": {"reason": "r"},
        },
        metadata=modal["private_metadata"],
    )
    errors = bad["errors"]["yaml_block"]
    assert errors.startswith("5 errors")
    for part in ("alow", "gemini-9", "groups", "'XX'", "2026-13-01"):
        assert part in errors


# ---------------------------------------------------------------- 8. the bot's own links


def test_the_bots_own_mentions_are_not_escaped(server: Server) -> None:
    text = text_of(server.command("digest preview", user=ADMIN))
    assert "<#C1> has no subscription" in text and "&lt;#C1&gt;" not in text
    typed = text_of(server.command("customer <!channel> Corp"))
    assert "&lt;!channel&gt;" in typed and "<!channel>" not in typed


# ---------------------------------------------------------------- 9. weak messages


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("rule", "Say which rule"),
        ("customer Nimbsu", "Did you mean Nimbus Pte Ltd"),
        ("sources", "*1 source*"),
    ],
)
def test_helpful_messages(server: Server, command: str, expected: str) -> None:
    assert expected in text_of(server.command(command))


def test_a_follow_up_in_a_thread_is_read(server: Server) -> None:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> what about Nimbus in Singapore with GPT-4o?",
        "ts": "1700000009.000200",
        "thread_ts": "1700000009.000100",
        "channel": "C1",
        "event_ts": "1700000009.000200",
    }
    assert server.event(event, "EvFollowUp") == 200
    reply = server.slack.wait_for("chat.postMessage")[0].args
    assert reply["thread_ts"] == "1700000009.000100"
    assert card_blocks(reply)[0]["type"] == "header" and "couldn't read" not in text_of(reply)


def test_people_are_mentions_not_raw_ids(server: Server) -> None:
    server.command("can someone in Japan use GPT-4o", user="UMENTION")
    audit = text_of(server.command("audit <@UMENTION>", user=ADMIN))
    assert "<@UMENTION>" in audit and " UMENTION " not in audit
    revisions = text_of(server.command("revisions"))
    assert "slack:" not in revisions
    assert "1 decision" in text_of(server.command("audit <@UMENTION>", user=ADMIN))


def test_socket_mode_sigterm_exits_cleanly(module_db_url: str, tmp_path: Path) -> None:
    from tests.e2e.server import free_port, server_env, wait_healthy
    from tests.support.slack_fake import FakeSocketMode

    with FakeSlack(socket_mode=FakeSocketMode()) as fake:
        env = server_env(module_db_url, fake, SLACK_APP_TOKEN="xapp-1-e2e-test-token")
        del env["SLACK_SIGNING_SECRET"]
        port = free_port()
        log = tmp_path / "socket.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, log)
            assert fake.socket_mode is not None
            fake.socket_mode.wait_connected(timeout=20)
            process.terminate()
            assert process.wait(timeout=20) == 0, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


# ---------------------------------------------------------------- section 2: cards


def test_the_card_header_says_what_was_asked(server: Server) -> None:
    ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5")
    assert card_blocks(ack)[0]["text"]["text"] == (
        "⛔ Denied · Nimbus Pte Ltd · Claude Sonnet 4.5 · Singapore"
    )
    fields = text_of(card_blocks(ack)[1])
    assert "`claude-sonnet-4-5`" in fields and "`SG`" in fields and "`nimbus`" in fields


def test_rules_and_audit_have_next_buttons(server: Server) -> None:
    first = server.command("rules")
    pager = card_blocks(first)[-1]
    assert pager["elements"][0]["action_id"] == "page_rules"
    assert server.action("page_rules", pager["elements"][0]["value"], name="next") == 200
    second = server.slack.wait_for("response_url:next")[0].args
    assert second["replace_original"] is True
    assert "21 to 40 of" in text_of(second)
    for i in range(21):
        server.command(f"can someone in Japan use GPT-4o as of 2026-01-{i + 1:02d}", user="UPAGE")
    audit = server.command("audit <@UPAGE>", user=ADMIN)
    button = card_blocks(audit)[-1]["elements"][0]
    assert button["action_id"] == "page_audit"
    server.action("page_audit", button["value"], user="UNOTADMIN", name="sneak")
    assert "admins only" in text_of(server.slack.wait_for("response_url:sneak")[0].args)
    server.action("page_audit", button["value"], user=ADMIN, name="audit2")
    page = text_of(server.slack.wait_for("response_url:audit2")[0].args)
    assert "Decisions 21 to 21" in page and "page_audit" not in page


def test_help_hides_admin_commands_and_examples_answer(server: Server) -> None:
    assert "*Admin*" not in text_of(server.command("help", user="U1"))
    assert "*Admin*" in text_of(server.command("help", user=ADMIN))
    assert server.action("help_example", "0", name="example") == 200
    answer = server.slack.wait_for("response_url:example")[0].args
    assert card_blocks(answer)[0]["text"]["text"].startswith("🟡 Conditional · Acme GmbH")


def test_more_than_five_candidates_get_a_menu_that_answers(server: Server) -> None:
    ack = server.command("can Acme GmbH in Germany use Llama")  # six Llama models
    menus = [
        e
        for b in card_blocks(ack)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    ]
    assert menus, ack
    option = menus[0]["options"][0]
    assert (
        server.action(
            "pick_candidate_menu", option["value"], name="menu", action_type="static_select"
        )
        == 200
    )
    answer = server.slack.wait_for("response_url:menu")[0].args
    assert card_blocks(answer)[0]["type"] == "header"


# ---------------------------------------------------------------- section 3: the review ticket


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for b in blocks
        for e in b.get("elements") or ()
        if e.get("type") == "button"
    }


def test_a_review_request_works_like_a_ticket(server: Server) -> None:
    ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5", user="UASK3")
    server.action("request_review", decision_of(ack), user="UASK3", name="t1")
    told = server.slack.wait_for("response_url:t1", count=2)
    ticket = server.slack.wait_for(
        "chat.postMessage", where=lambda c: c.args["channel"] == REVIEW_CHANNEL
    )[0]
    text = text_of(ticket.args)
    # The full card: what was asked, the rule with its citation, the conditions.
    assert "<@UASK3> asked" in text and "⛔ Denied · Nimbus Pte Ltd" in text
    assert "anthropic-ownership" in text and "https://www.anthropic.com/" in text
    assert "Not claimed yet" in text
    permalink = server.slack.calls_to("chat.getPermalink")[0].response
    assert permalink is not None and permalink["permalink"] in text_of(told[0].args)
    buttons = _buttons(card_blocks(ticket.args))
    assert set(buttons) == {"claim_review", "resolve_review"}
    ts = ticket.response["ts"]  # type: ignore[index]

    server.action("claim_review", buttons["claim_review"], user="UNOTADMIN", name="nc")
    assert "only compliance admins" in text_of(server.slack.wait_for("response_url:nc")[0].args)
    server.action("claim_review", buttons["claim_review"], user=ADMIN, name="cl")
    claimed = server.slack.wait_for("chat.update")[0].args
    assert claimed["ts"] == ts and "Claimed by <@UADMIN>" in text_of(claimed)
    assert "claim_review" not in _buttons(card_blocks(claimed))
    note = server.slack.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == ts)
    assert "<@UADMIN> claimed review" in note[0].args["text"]
    server.action("claim_review", buttons["claim_review"], user=ADMIN, name="cl2")
    assert "already claimed by <@UADMIN>" in text_of(
        server.slack.wait_for("response_url:cl2")[0].args
    )

    _resolve(server, buttons["resolve_review"], "allowed", "Overridden: allowed")
    resolved = server.slack.wait_for("chat.update", count=2)[-1].args
    assert "*✅ Overridden → allowed* by <@UADMIN>" in text_of(resolved)
    assert "resolve_review" not in _buttons(card_blocks(resolved))
    in_thread = server.slack.wait_for(
        "chat.postMessage", count=2, where=lambda c: c.args.get("thread_ts") == ts
    )
    assert "Overridden → allowed" in in_thread[-1].args["text"]
    dm = server.slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "UASK3")
    assert "review thread" in text_of(dm[0].args) or "discussion thread" in text_of(dm[0].args)


# ---------------------------------------------------------------- section 4: asking without grammar


def interact(server: Server, payload: dict[str, Any]) -> dict[str, Any]:
    status, _h, data = post(f"{server.url}/slack/events", interactive_body(payload), SECRET)
    assert status == 200, (status, data, server.tail())
    return json.loads(data) if data.strip() else {}


def picked(value: str) -> dict[str, Any]:
    return {"selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def test_the_ask_modal_from_the_global_shortcut(server: Server) -> None:
    interact(server, global_shortcut_payload("ask_clearance", user_id="UASK4"))
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert modal["callback_id"] == "ask_modal"
    kinds = {b["block_id"]: b["element"]["type"] for b in modal["blocks"]}
    assert kinds["customer_block"] == "external_select" and kinds["as_of_block"] == "datepicker"

    def options(action_id: str, typed: str) -> list[str]:
        got = interact(server, block_suggestion_payload(action_id, typed, callback_id="ask_modal"))
        assert len(got["options"]) <= 100
        return [o["value"] for o in got["options"]]

    assert options("customer", "nimb") == ["nimbus"]
    assert "SG" in options("country", "singa")
    assert "claude-sonnet-4-5" in options("model", "sonnet 4.5") or "claude-sonnet-4-5" in options(
        "model", "sonnet-4-5"
    )
    result = interact(
        server,
        view_submission_payload(
            "ask_modal",
            {
                "customer_block": {"customer": picked("nimbus")},
                "country_block": {"country": picked("SG")},
                "model_block": {"model": picked("claude-sonnet-4-5")},
                "access_block": {"access": picked("api")},
                "as_of_block": {"as_of": {"type": "datepicker", "selected_date": "2026-11-01"}},
            },
            user_id="UASK4",
        ),
    )
    assert result == {}
    dm = server.slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "UASK4")
    assert card_blocks(dm[0].args)[0]["text"]["text"] == (
        "⛔ Denied · Nimbus Pte Ltd · Claude Sonnet 4.5 · Singapore"
    )


def test_check_with_clearance_reads_a_message_privately(server: Server) -> None:
    payload = message_shortcut_payload(
        "check_with_clearance",
        "<@UBOT> can Nimbus in Singapore use GPT-4o?",
        user_id="U1",
        response_url=server.slack.response_url("check"),
    )
    interact(server, payload)
    answer = server.slack.wait_for("response_url:check")[0].args
    assert answer["response_type"] == "ephemeral"
    # No restricted-party list is loaded: allowed only if Nimbus is not a restricted party.
    assert card_blocks(answer)[0]["text"]["text"].startswith(
        "🟡 Conditional · Nimbus Pte Ltd · GPT-4o"
    )


def test_app_home_for_admins_and_open_buttons(server: Server) -> None:
    server.command("can someone in Iran use GPT-4o", user=ADMIN)
    server.event({"type": "app_home_opened", "user": ADMIN, "channel": "D9", "tab": "home"}, "EvH9")
    view = server.slack.wait_for("views.publish")[0].args["view"]
    text = text_of(view)
    for part in ('"Admin"', "Open reviews", "Sources", "Vendor page", "Recent changes"):
        assert part in text, part
    assert "home_ask" in text and "home_subscribe" in text
    opener = next(b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("action_id"))
    interact(
        server, block_action_payload("open_decision", opener["value"], user_id=ADMIN, view=view)
    )
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert "⛔ Denied" in text_of(modal)
    server.slack.reset()
    server.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}, "EvH10")
    assert "Open reviews" not in text_of(server.slack.wait_for("views.publish")[0].args["view"])


def test_the_subscribe_modal(server: Server, module_db_url: str) -> None:
    interact(
        server,
        block_action_payload(
            "home_subscribe", "subscribe", user_id=ADMIN, view={"id": "VH", "type": "home"}
        ),
    )
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert modal["callback_id"] == "subscribe_modal"
    source = next(
        o["value"]
        for b in modal["blocks"]
        if b["block_id"] == "sources_block"
        for o in b["element"]["options"]
        if o["value"].startswith("source:")
    )
    values = {
        "channel_block": {
            "channel": {"type": "conversations_select", "selected_conversation": "CSUB"}
        },
        "sources_block": {
            "sources": {
                "type": "multi_static_select",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "x"}, "value": source}
                ],
            }
        },
        "schedule_block": {"schedule": picked("weekly MON")},
        "time_block": {"time": {"type": "timepicker", "selected_time": "08:30"}},
        "tz_block": {"tz": "Europe/Berlin"},
    }
    bad = interact(
        server,
        view_submission_payload(
            "subscribe_modal", {**values, "tz_block": {"tz": "Mars/Base"}}, user_id=ADMIN
        ),
    )
    assert bad["response_action"] == "errors"
    assert interact(server, view_submission_payload("subscribe_modal", values, user_id=ADMIN)) == {}
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        sub = session.exec(select(Subscription).where(Subscription.channel == "CSUB")).one()
    engine.dispose()
    assert sub.schedule == "weekly MON 08:30 Europe/Berlin" and sub.source_ids


def test_clearance_links_unfurl_to_their_cards(server: Server) -> None:
    decision = decision_of(server.command("can Nimbus in Singapore use Claude Sonnet 4.5"))
    url = f"https://clearance.example.com/decisions/{decision}"
    event = {
        "type": "link_shared",
        "channel": "C1",
        "user": "U1",
        "message_ts": "1700000007.000100",
        "links": [{"domain": "clearance.example.com", "url": url}],
    }
    assert server.event(event, "EvLink1") == 200
    call = server.slack.wait_for("chat.unfurl")[0].args
    assert call["ts"] == "1700000007.000100"
    assert call["unfurls"][url]["blocks"][0]["text"]["text"].startswith("⛔ Denied · Nimbus")
    assert call["unfurls"][url]["color"] == "#E01E5A"  # the denied colour bar


def test_a_cards_decision_id_is_a_clearance_link_that_unfurls(server: Server) -> None:
    # A bare id pasted in a channel reaches no one (the bot does not read channel messages),
    # so the card shows its id as the Clearance link, which Slack unfurls.
    ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5")
    decision = decision_of(ack)
    found = re.search(r"Decision <(https://[^|>]+)\|([0-9a-f]+)>", text_of(ack))
    assert found is not None, text_of(ack)
    url, short = found.groups()
    assert url == f"https://clearance.example.com/decisions/{decision}"
    assert decision.startswith(short) and len(short) < len(decision)
    event = {
        "type": "link_shared",
        "channel": "C1",
        "user": "U1",
        "message_ts": "1700000008.000100",
        "links": [{"domain": "clearance.example.com", "url": url}],
    }
    assert server.event(event, "EvLink2") == 200
    call = server.slack.wait_for("chat.unfurl")[0].args
    assert call["unfurls"][url]["blocks"][0]["text"]["text"].startswith("⛔ Denied · Nimbus")
