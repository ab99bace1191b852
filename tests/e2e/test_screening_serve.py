"""A restricted-party list polled by the real `clearance serve` process: the list changes between
polls, a registered customer becomes a match, and the high-severity alert with the verdict flip
reaches the subscribed channel of the fake Slack exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug import Request, Response

from storage.db import create_db_engine
from tests.e2e.server import running_server
from tests.e2e.test_screening_polls import NIMBUS_EL, _csl
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
SCHEDULER = {
    "CLEARANCE_SCHEDULER": "true",
    "CLEARANCE_TICK_S": "0.5",
    "CLEARANCE_DELIVERY_TICK_S": "0.3",
}
CUSTOMERS = """version: 1
customers:
  - {id: nimbus, name: Nimbus Pte Ltd, hq: SG, uses: [{model: claude-sonnet-4-5, country: SG}]}
"""
FLIP = (
    "Nimbus Pte Ltd now possibly matches EL entry 'Nimbus Technologies Pte. Ltd.' "
    "(listed 2026-12-01, 90 FR 1234): claude-sonnet-4-5 in SG goes from allowed to review"
)


def cli(db_url: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _posts(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and c.status == 200
    ]


def test_served_poll_of_a_changed_list_alerts_the_flip_once(
    db_url: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    served = {"body": _csl()}
    polls: list[float] = []

    def handler(_request: Request) -> Response:
        polls.append(time.monotonic())
        return Response(served["body"], content_type="application/json")

    httpserver.expect_request("/consolidated.json").respond_with_handler(handler)
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    cli(db_url, "customers", "import", str(customers))
    url = httpserver.url_for("/consolidated.json")
    cli(
        db_url, "sources", "add", "--name", "US CSL", "--kind", "csl", "--url", url, "--every", "1d"
    )
    cli(db_url, "sources", "poll")  # the baseline version: Nimbus is clear
    cli(db_url, "subscriptions", "add", "--channel", "C2", "--schedule", "daily 00:00 UTC")
    assert "Nimbus" not in cli(db_url, "screen", "customers")

    served["body"] = _csl([NIMBUS_EL])  # the next download lists Nimbus Technologies
    engine = create_db_engine(db_url)
    with engine.begin() as conn:  # the source is due now: the server's scheduler polls it
        due = datetime.now(UTC) - timedelta(minutes=1)
        conn.execute(text("UPDATE policy_source SET next_poll_at = :t"), {"t": due})
    engine.dispose()
    before = len(polls)
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path, **SCHEDULER) as server:
        slack.wait_for(
            "chat.postMessage",
            timeout=60,
            where=lambda c: c.args.get("channel") == "C2" and FLIP in json.dumps(c.args),
        )
        time.sleep(3)  # several more scheduler ticks: nothing is polled or posted again
        alerts = [p for p in _posts(slack, "C2") if FLIP in json.dumps(p)]
        assert len(alerts) == 1, (_posts(slack, "C2"), server.tail())
        assert len(polls) - before == 1, "the due list was polled once, by the server"
    assert "nimbus" in cli(db_url, "screen", "customers")
