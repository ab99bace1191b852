"""`clearance serve --http` end to end: signed requests in, Web API calls to the fake Slack out."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from handlers.render.colours import card_blocks
from storage.db import create_db_engine, session_scope
from storage.tables.audit import AdminAction, Decision
from tests.e2e.server import ADMIN, AUDIT_CHANNEL, REVIEW_CHANNEL, SECRET, Server, running_server
from tests.support.slack_fake import FakeSlack
from tests.support.slack_signing import post, sign, slash_command_body

pytestmark = pytest.mark.e2e

CUSTOMERS = """
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - id: nimbus
    name: Nimbus Pte Ltd
    aliases: [Nimbus]
    hq: SG
    owners: [{owner: dragon, share: 60}]
    uses: [{model: claude-sonnet-4-5, country: SG}, {model: gpt-4o, country: SG}]
"""


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(usergroups={"SADMINS": ["UGROUPADMIN"]}) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    customers = tmp / "customers.yaml"
    customers.write_text("version: 1\ncustomers:\n" + CUSTOMERS)
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "bot", "--db", module_db_url, "customers", "import", str(customers)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with running_server(module_db_url, slack, tmp, CLEARANCE_ADMINS=f"{ADMIN},SADMINS") as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(slack: FakeSlack) -> None:
    slack.reset()


def blocks_text(payload: dict[str, Any]) -> str:
    return json.dumps(card_blocks(payload), ensure_ascii=False)


def test_health(server: Server) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:
        health = json.loads(resp.read())
    assert health == {"ok": True, "mode": "http", "revision": 2, "worker": health["worker"]}
    assert isinstance(health["worker"], int)


def test_question_is_answered_privately_in_the_ack(server: Server) -> None:
    started = time.monotonic()
    ack = server.command("can Acme GmbH in Germany use Claude Sonnet 4.5?")
    assert time.monotonic() - started < 3
    assert ack["response_type"] == "ephemeral"
    assert card_blocks(ack)[0]["text"]["text"].startswith("🟡 Conditional · ")
    assert ack["text"] == "Conditional · Acme GmbH · Claude Sonnet 4.5 · Germany"
    assert "anthropic-supported-allow" in blocks_text(ack)
    assert [e["action_id"] for e in card_blocks(ack)[-1]["elements"]] == [
        "share_answer",
        "request_review",
        "show_rules",
    ]


def test_registered_customer_is_denied_with_citation(server: Server) -> None:
    ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5")
    assert card_blocks(ack)[0]["text"]["text"].startswith("⛔ Denied · ")
    text = blocks_text(ack)
    assert "anthropic-ownership" in text and "Dragon Holdings Co (CN) holds 60%" in text
    assert "https://www.anthropic.com/news/updating-restrictions-of-sales-to-unsupported" in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("help", "Clearance: can customer X"),
        ("", "Clearance: can customer X"),
        ("frobnicate", "I don't know the command `frobnicate`"),
        ("customer Nimbus", "Dragon Holdings Co (CN) holds 60%"),
        ("customer Nobody Inc", "No registered customer called"),
        ("rules ownership", "anthropic-ownership"),
        ("rule ofac-cuba-place", "31 CFR part 515"),
        ("rule no-such-rule", "No rule with id"),
        ("revisions", "default rule pack"),
    ],
)
def test_subcommands(server: Server, command: str, expected: str) -> None:
    ack = server.command(command)
    assert expected in blocks_text(ack) + ack.get("text", "")


def test_customer_shows_current_verdicts_for_recorded_usage(server: Server) -> None:
    text = blocks_text(server.command("customer nimbus pte ltd"))
    assert "Denied: claude-sonnet-4-5 in SG" in text
    assert "Allowed: gpt-4o in SG" in text


def test_audit_is_for_admins_and_refusals_are_recorded(server: Server, module_db_url: str) -> None:
    server.command("can someone in Cuba use GPT-4o", user="UASKER")
    refused = server.command("audit", user="UNOTADMIN")
    assert "for compliance admins only" in blocks_text(refused)
    allowed = blocks_text(server.command("audit <@UASKER|asker>", user=ADMIN))
    assert "<@UASKER>" in allowed and "Denied" in allowed
    via_group = blocks_text(server.command("audit", user="UGROUPADMIN"))
    assert "Audit log" in via_group
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        rows = session.exec(select(AdminAction).where(AdminAction.user_id == "UNOTADMIN")).all()
    engine.dispose()
    assert [(r.action, r.allowed) for r in rows] == [("audit", False)]


def test_unparseable_question_offers_candidates_and_a_pick_answers(server: Server) -> None:
    ack = server.command("can Acme in Germny use GPT-4o")
    buttons = card_blocks(ack)[1]["elements"]
    de = next(b for b in buttons if b["text"]["text"].startswith("Germany"))
    assert server.action(de["action_id"], de["value"], name="pick") == 200
    answer = server.slack.wait_for("response_url:pick")[0].args
    assert card_blocks(answer)[0]["type"] == "header", answer
    assert "GPT-4o" in answer["text"] and "Germany" in answer["text"]


def test_share_posts_the_same_card_publicly(server: Server) -> None:
    ack = server.command("can someone in Iran use GPT-4o")
    decision = card_blocks(ack)[-1]["elements"][0]["value"]
    assert server.action("share_answer", decision, name="share") == 200
    shared = server.slack.wait_for("response_url:share")[0].args
    assert shared["response_type"] == "in_channel"
    assert card_blocks(shared)[0] == card_blocks(ack)[0]
    assert "<@U1> shared this answer to: _can someone in Iran use GPT-4o_" in blocks_text(shared)


def test_show_rules_lists_explanations(server: Server) -> None:
    ack = server.command("can someone in Iran use GPT-4o")
    assert (
        server.action("show_rules", card_blocks(ack)[-1]["elements"][2]["value"], name="rules")
        == 200
    )
    shown = server.slack.wait_for("response_url:rules")[0].args
    assert "ofac-iran-place" in blocks_text(shown)
    assert shown["response_type"] == "ephemeral"


def test_review_request_and_resolution(server: Server) -> None:
    ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5", user="UASKER")
    decision = card_blocks(ack)[-1]["elements"][1]["value"]
    assert server.action("request_review", decision, user="UASKER", name="review") == 200
    posted = server.slack.wait_for("chat.postMessage")[0]
    assert posted.args["channel"] == REVIEW_CHANNEL
    assert "<@UASKER>" in blocks_text(posted.args)
    told = server.slack.wait_for("response_url:review")[0].args
    assert f"<#{REVIEW_CHANNEL}>" in blocks_text(told)
    review_id = next(
        e["value"]
        for b in card_blocks(posted.args)
        for e in b.get("elements") or ()
        if e.get("action_id") == "resolve_review"
    )
    ts = posted.response["ts"]  # type: ignore[index]

    # A non-admin can't resolve; an admin gets the modal.
    server.action("resolve_review", review_id, user="UNOTADMIN", channel_id=REVIEW_CHANNEL)
    assert "only compliance admins" in server.slack.wait_for("chat.postEphemeral")[0].args["text"]
    server.action("resolve_review", review_id, user=ADMIN, channel_id=REVIEW_CHANNEL)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert modal["callback_id"] == "resolve_review"

    result = server.submit(
        "resolve_review",
        {
            "outcome_block": {
                "outcome": {
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "Answer confirmed"},
                        "value": "confirmed",
                    },
                }
            },
            "note_block": {"note": "Checked the cap table <!channel>"},
        },
        metadata=modal["private_metadata"],
    )
    assert result == {}
    updated = server.slack.wait_for("chat.update")[0].args
    assert (updated["channel"], updated["ts"]) == (REVIEW_CHANNEL, ts)
    assert "*✅ Answer confirmed* by <@UADMIN>" in blocks_text(updated)
    dm = server.slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "UASKER")[
        -1
    ].args
    assert dm["channel"] == "UASKER" and "Answer confirmed" in blocks_text(dm)
    assert "<!channel>" not in json.dumps(dm)


def test_admin_adds_a_rule_through_the_modal(server: Server, module_db_url: str) -> None:
    server.command("rule add", user=ADMIN)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert modal["callback_id"] == "edit_entity"

    bad = server.submit(
        "edit_entity",
        {
            "yaml_block": {"yaml": "id: test-gemini\nefect: allow\ntitle: Gemini in Germany\n"},
            "reason_block": {"reason": "pilot"},
        },
        metadata=modal["private_metadata"],
    )
    assert bad["response_action"] == "errors"
    assert "line 2" in bad["errors"]["yaml_block"] and "efect" in bad["errors"]["yaml_block"]

    unknown = server.submit(
        "edit_entity",
        {
            "yaml_block": {
                "yaml": "id: test-gemini\neffect: allow\ntitle: t\nmodels: {ids: [gemini-9]}\n"
                "citation: Google terms\nurl: https://ai.google.dev/terms\n"
            },
            "reason_block": {"reason": "pilot"},
        },
        metadata=modal["private_metadata"],
    )
    assert "unknown model 'gemini-9'" in unknown["errors"]["yaml_block"]

    good = server.submit(
        "edit_entity",
        {
            "yaml_block": {
                "yaml": "id: test-gemini\neffect: allow\ntitle: Gemini in Germany\n"
                "models: {families: [gemini]}\nplaces: {in: [DE]}\n"
                "citation: Google terms\nurl: https://ai.google.dev/terms\n"
            },
            "reason_block": {"reason": "pilot agreed with Google"},
        },
        metadata=modal["private_metadata"],
    )
    assert good == {}
    audit = server.slack.wait_for("chat.postMessage")[0].args
    assert audit["channel"] == AUDIT_CHANNEL
    assert "pilot agreed with Google" in blocks_text(audit) and "<@UADMIN>" in blocks_text(audit)
    answer = server.command("can Acme GmbH in Germany use Gemini 2.5 Pro")
    assert "test-gemini" in blocks_text(answer)

    server.slack.reset()
    server.command("rule retire test-gemini", user=ADMIN)
    retire = server.slack.wait_for("views.open")[0].args["view"]
    assert (
        server.submit(
            "retire_rule",
            {"reason_block": {"reason": "pilot over"}},
            metadata=retire["private_metadata"],
        )
        == {}
    )
    after = server.command("can Acme GmbH in Germany use Gemini 2.5 Pro")
    assert card_blocks(after)[0]["text"]["text"].startswith("🔎 Review · ")


def test_admin_edits_a_customer(server: Server) -> None:
    server.command("customer edit Nimbus", user=ADMIN)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    initial = modal["blocks"][0]["element"]["initial_value"]
    assert "id: nimbus" in initial and "share: 60" in initial
    result = server.submit(
        "edit_entity",
        {
            "yaml_block": {"yaml": initial.replace("share: 60", "share: 40")},
            "reason_block": {"reason": "Dragon sold shares"},
        },
        metadata=modal["private_metadata"],
    )
    assert result == {}
    # At once, from whichever worker takes each new connection (two workers: 2^-8 that all
    # eight land on the one that made the edit).
    for _ in range(8):
        ack = server.command("can Nimbus in Singapore use Claude Sonnet 4.5")
        # No restricted-party list is loaded: allowed only if Nimbus is not a restricted party.
        assert card_blocks(ack)[0]["text"]["text"].startswith("🟡 Conditional · ")


def test_non_admin_edits_are_refused_and_audited(server: Server, module_db_url: str) -> None:
    server.command("rule add", user="UNOTADMIN", name="refuse")
    refusal = server.slack.wait_for("response_url:refuse")[0].args
    assert "only compliance admins" in refusal["text"]
    assert server.slack.calls_to("views.open") == []
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        rows = session.exec(select(AdminAction).where(AdminAction.action == "rule add")).all()
    engine.dispose()
    assert any(r.user_id == "UNOTADMIN" and not r.allowed for r in rows)


@pytest.mark.parametrize("case", ["forged", "stale", "replay", "unsigned"])
def test_bad_signatures_get_401_and_no_processing(
    server: Server, module_db_url: str, case: str
) -> None:
    body = slash_command_body(f"can someone in Cuba use GPT-4o {case}")
    now = int(time.time())
    if case == "forged":
        status, _h, _d = post(f"{server.url}/slack/events", body, "wrong-secret")
    elif case == "stale":
        status, _h, _d = post(f"{server.url}/slack/events", body, SECRET, timestamp=now - 301)
    elif case == "replay":
        # A request captured 10 minutes ago, resent byte for byte with its original headers.
        headers = sign(SECRET, body, now - 600)
        status, _h, _d = post(
            f"{server.url}/slack/events", body, SECRET, timestamp=now - 600, headers=headers
        )
    else:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(f"{server.url}/slack/events", data=body, method="POST")
        try:
            status = urllib.request.urlopen(req, timeout=5).status
        except urllib.error.HTTPError as exc:
            status = exc.code
    assert status == 401
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        questions = [d.question for d in session.exec(select(Decision))]
    engine.dispose()
    assert not any(case in q for q in questions)


def test_oversized_body_is_refused(server: Server) -> None:
    body = slash_command_body("can X in Germany use GPT-4o " + "x" * 300_000)
    status, _h, _d = post(f"{server.url}/slack/events", body, SECRET)
    assert status == 413


def test_mention_is_answered_in_a_thread_once_despite_retries(server: Server) -> None:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> can Acme <!channel> <@U999> in Cuba use GPT-4o",
        "ts": "1700000001.000100",
        "channel": "C1",
        "event_ts": "1700000001.000100",
    }
    assert server.event(event, "EvMention1") == 200
    assert (
        server.event(
            event,
            "EvMention1",
            headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        == 200
    )
    post_call = server.slack.wait_for("chat.postMessage")[0]
    time.sleep(0.5)  # give a wrongly processed retry the chance to show up
    posts = server.slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert post_call.args["thread_ts"] == "1700000001.000100"
    assert "⛔ Denied" in blocks_text(post_call.args)
    assert "<!channel>" not in json.dumps(post_call.args)
    assert "<@U999>" not in json.dumps(post_call.args)
    assert "Acme &lt;!channel&gt; &lt;@U999&gt;" in blocks_text(post_call.args)


def test_direct_message_is_answered_in_the_dm(server: Server) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U1",
        "channel": "D1",
        "text": "can someone in Japan use gpt-oss-120b",
        "ts": "1700000002.000100",
    }
    assert server.event(event, "EvDM1") == 200
    reply = server.slack.wait_for("chat.postMessage")[0].args
    # "someone" can't be screened against restricted-party lists: allowed only on that condition.
    assert reply["channel"] == "D1" and "🟡 Conditional" in blocks_text(reply)


def test_app_home_shows_revision_and_recent_questions(server: Server) -> None:
    server.command("can someone in Iran use GPT-4o", user="UHOME")
    assert (
        server.event(
            {"type": "app_home_opened", "user": "UHOME", "channel": "D2", "tab": "home"}, "EvHome1"
        )
        == 200
    )
    view = server.slack.wait_for("views.publish")[0].args
    assert view["user_id"] == "UHOME"
    text = blocks_text(view["view"])
    assert "revision" in text and "can someone in Iran use GPT-4o" in text


def test_long_answers_fit_block_kit(server: Server) -> None:
    ack = server.command("can someone in Crimea use Claude Sonnet 4.5 " + "as of 2026-01-01")
    assert len(card_blocks(ack)) <= 50
    assert len(json.dumps(card_blocks(ack))) < 13000
    assert ack["text"]


def test_a_429_storm_is_retried_until_posted(server: Server) -> None:
    server.slack.fail_next("chat.postMessage", status=429, retry_after=1, times=3)
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> can someone in Iran use GPT-4o",
        "ts": "1700000003.000100",
        "channel": "C1",
    }
    started = time.monotonic()
    assert server.event(event, "EvStorm1") == 200
    # The event is acknowledged at once; the retries (3 s of Retry-After) happen after the ack.
    assert time.monotonic() - started < 1.0
    calls = server.slack.wait_for("chat.postMessage", count=4, timeout=15)
    assert [c.status for c in calls] == [429, 429, 429, 200]


def test_slow_slack_calls_never_hold_up_an_ack(server: Server) -> None:
    server.slack.fail_next("views.open", status=429, retry_after=1, times=2)
    started = time.monotonic()
    ack = server.command("rule add", user=ADMIN)
    assert time.monotonic() - started < 1.0, "the modal opens after the ack, not before"
    assert ack == {} or "blocks" not in ack
    calls = server.slack.wait_for("views.open", count=3, timeout=15)
    assert [c.status for c in calls] == [429, 429, 200]


def test_app_home_shortcuts_open_help_and_review_requests(server: Server) -> None:
    home_view = {"id": "VHOME", "type": "home"}
    assert server.action("home_help", "help", user="UHOME", view=home_view) == 200
    help_modal = server.slack.wait_for("views.open")[0].args["view"]
    assert help_modal["title"]["text"] == "Clearance help"
    assert server.action("home_reviews", "reviews", user="UHOME", view=home_view) == 200
    reviews = server.slack.wait_for("views.open", count=2)[1].args["view"]
    assert "You have no review requests." in json.dumps(reviews)


def test_admin_adds_a_customer(server: Server) -> None:
    server.command("customer add", user=ADMIN)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert "id: acme-gmbh" in modal["blocks"][0]["element"]["initial_value"]
    result = server.submit(
        "edit_entity",
        {
            "yaml_block": {
                "yaml": "id: orbit\nname: Orbit Analytics Ltd\nhq: GB\n"
                "owners: [{owner: dragon, share: 70}]\n"
            },
            "reason_block": {"reason": "new reseller"},
        },
        metadata=modal["private_metadata"],
    )
    assert result == {}
    ack = server.command("can Orbit Analytics Ltd in the UK use Claude Sonnet 4.5")
    assert card_blocks(ack)[0]["text"]["text"].startswith("⛔ Denied · ")
    dup = server.submit(
        "edit_entity",
        {
            "yaml_block": {"yaml": "id: orbit\nname: Orbit Again\nhq: GB\n"},
            "reason_block": {"reason": "again"},
        },
        metadata=modal["private_metadata"],
    )
    assert "already exists" in dup["errors"]["yaml_block"]


def test_a_non_admin_cannot_submit_an_edit_modal(server: Server, module_db_url: str) -> None:
    meta = json.dumps({"kind": "rules", "mode": "add"})
    refused = server.submit(
        "edit_entity",
        {
            "yaml_block": {"yaml": "id: sneaky\neffect: allow\ntitle: t\n"},
            "reason_block": {"reason": "trust me"},
        },
        user="UNOTADMIN",
        metadata=meta,
    )
    assert refused["errors"]["yaml_block"] == "Only compliance admins can do this."
    no_reason = server.submit(
        "edit_entity",
        {
            "yaml_block": {"yaml": "id: fine\neffect: review\ntitle: t\n"},
            "reason_block": {"reason": "  "},
        },
        user=ADMIN,
        metadata=meta,
    )
    assert no_reason["errors"]["reason_block"] == "Say why, for the audit trail."
    assert "No rule with id 'sneaky'" in blocks_text(server.command("rule sneaky"))


# Keep this test last in the module: it breaks the shared database on purpose.
def test_a_handler_crash_gives_an_error_id_not_a_stack_trace(
    server: Server, module_db_url: str
) -> None:
    ack = server.command("can someone in Iran use GPT-4o")
    engine = create_db_engine(module_db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE review_request"))
    engine.dispose()
    server.action("request_review", card_blocks(ack)[-1]["elements"][1]["value"], name="crash")
    message = server.slack.wait_for("response_url:crash")[0].args
    assert "something went wrong" in message["text"] and "error id" in message["text"]
    assert "Traceback" not in json.dumps(message)
    error_id = message["text"].split("`")[1]
    log = server.log.read_text(errors="replace")
    assert f"error {error_id}" in log and "Traceback" in log.split(f"error {error_id}")[1]


def test_a_non_admins_resolve_submission_is_refused_and_recorded(
    server: Server, module_db_url: str
) -> None:
    refused = server.submit(
        "resolve_review",
        {
            "outcome_block": {"outcome": {"selected_option": {"value": "confirmed"}}},
            "note_block": {"note": {"value": "looks fine to me"}},
        },
        user="URESOLVER",
        metadata=json.dumps({"review": 1}),
    )
    assert refused["errors"]["note_block"] == "Only compliance admins can resolve reviews."
    engine = create_db_engine(module_db_url)
    try:
        deadline = time.monotonic() + 10
        rows: list[AdminAction] = []
        while time.monotonic() < deadline and not rows:
            with session_scope(engine) as session:
                rows = list(
                    session.exec(select(AdminAction).where(AdminAction.user_id == "URESOLVER"))
                )
            time.sleep(0.1)
    finally:
        engine.dispose()
    assert [(r.action, r.allowed, r.target) for r in rows] == [
        ("resolve review", False, '{"review": 1}')
    ]
