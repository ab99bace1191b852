"""Operating the server (issue 14, section 6): /metrics, /readyz and JSON logs without secrets."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from handlers.render.colours import card_blocks
from storage.db import create_db_engine
from tests.e2e.server import ADMIN, REVIEW_CHANNEL, SECRET, Server, running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e

TOKEN = "xoxb-e2e-test-token"  # what tests.e2e.server gives the bot


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with (
        FakeSlack() as slack,
        running_server(db_url, slack, tmp_path, CLEARANCE_LOG_FORMAT="json") as srv,
    ):
        yield srv


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(metrics: str, name: str) -> float:
    """Return the value of one sample line (`name{labels} value`), 0 when absent."""
    for line in metrics.splitlines():
        if line.startswith(name + " ") or (
            line.startswith(name + "{") and line.split(" ")[0] == name
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_questions_acks_slack_calls_and_429s(server: Server) -> None:
    for _ in range(3):  # two workers: the counts are summed across them
        server.command("can someone in Iran use GPT-4o")
    ack = server.command("can Acme GmbH in Germany use Claude Sonnet 4.5", user="UASK")
    server.slack.fail_next("chat.postMessage", status=429, retry_after=0)
    decision = next(
        e["value"] for e in card_blocks(ack)[-1]["elements"] if e["action_id"] == "request_review"
    )
    server.action("request_review", decision, user="UASK", name="rr")
    server.slack.wait_for(
        "chat.postMessage",
        where=lambda c: c.args.get("channel") == REVIEW_CHANNEL and c.status == 200,
    )
    server.slack.wait_for("response_url:rr", count=2)
    status, metrics = get(f"{server.url}/metrics")
    assert status == 200
    assert sample(metrics, 'clearance_questions_total{verdict="denied"}') == 3
    assert sample(metrics, 'clearance_questions_total{verdict="conditional"}') == 1
    assert sample(metrics, 'clearance_ack_seconds_count{kind="slash_command"}') == 4
    assert sample(metrics, 'clearance_ack_seconds_bucket{kind="slash_command",le="3.0"}') == 4
    assert sample(metrics, 'clearance_slack_api_calls_total{method="chat.postMessage"}') >= 1
    assert sample(metrics, 'clearance_slack_api_rate_limited_total{method="chat.postMessage"}') == 1
    assert sample(metrics, "clearance_outbox_depth") == 0
    assert "clearance_source_failures" in metrics


def test_readyz_needs_the_database_and_a_rule_table(server: Server, db_url: str) -> None:
    status, body = get(f"{server.url}/readyz")
    assert status == 200 and json.loads(body) == {"ok": True, "database": True, "rule_table": 1}
    engine = create_db_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE revision RENAME TO revision_gone"))
    try:
        status, body = get(f"{server.url}/readyz")
        assert status == 503 and json.loads(body)["ok"] is False
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE revision_gone RENAME TO revision"))
        engine.dispose()


def test_json_logs_carry_request_ids_and_never_secrets(server: Server, db_url: str) -> None:
    # A question naming the bot's own token and the signing secret, then a failing audit write:
    # SQLAlchemy's error names the statement's parameters, the question among them. (The chain's
    # own look-up of the last row still works: only the INSERT fails.)
    engine = create_db_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE decision RENAME COLUMN question TO question_gone"))
    engine.dispose()
    ack = server.command(f"can {TOKEN} {SECRET} GmbH in Germany use GPT-4o", user=ADMIN)
    assert "error id" in json.dumps(ack)
    error_id = json.dumps(ack).split("`")[1]
    log = server.log.read_text(errors="replace")
    assert TOKEN not in log and SECRET not in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    (failure,) = [r for r in records if r.get("error_id") == error_id]
    assert failure["level"] == "ERROR" and failure["team"] == "T1"
    assert len(failure["request_id"]) == 12
    assert "[redacted]" in failure["exception"] + failure["message"]


def test_a_decision_link_opened_in_a_browser_shows_nothing_of_the_answer(server: Server) -> None:
    ack = server.command("can Nimbus Pte Ltd use gpt-4o in Singapore?", user="UASK", name="dl")
    decision = next(
        e["value"] for e in card_blocks(ack)[-1]["elements"] if e["action_id"] == "request_review"
    )
    status, page = get(f"{server.url}/decisions/{decision}")
    assert status == 200 and decision in page
    assert "Nimbus" not in page and "Conditional" not in page and "gpt-4o" not in page.lower()
    for bad in ("/decisions/not-an-id", "/decisions/%3Cscript%3E", f"/decisions/{decision}/x"):
        assert get(f"{server.url}{bad}")[0] == 404
