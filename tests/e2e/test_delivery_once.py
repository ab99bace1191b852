"""Exactly once, across a `kill -9` mid-delivery and across two replicas on one database."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import text, update
from sqlmodel import select

from bot.services.delivery import METADATA_EVENT
from storage.db import create_db_engine, session_scope
from storage.tables.app_state import AppState
from storage.tables.tracking import Delivery, Subscription
from tests.e2e.server import free_port, kill_group, server_env, stop, wait_healthy
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
FAST = {
    "CLEARANCE_SCHEDULER": "true",
    "CLEARANCE_TICK_S": "0.5",
    "CLEARANCE_DELIVERY_TICK_S": "0.3",
    "CLEARANCE_DELIVERY_LEASE_S": "2",
}
CUSTOMERS = """version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - id: nimbus
    name: Nimbus Pte Ltd
    hq: SG
    owners: [{owner: dragon, share: SHARE}]
    uses: [{model: claude-sonnet-4-5, country: SG}]
"""


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


@contextmanager
def serve(db_url: str, slack: FakeSlack, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=server_env(db_url, slack, **FAST),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        yield process
    finally:
        stop(process)


def wait_until(predicate: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def deliveries(db_url: str) -> list[Delivery]:
    engine = create_db_engine(db_url)
    try:
        with session_scope(engine) as session:
            return list(session.exec(select(Delivery)))
    finally:
        engine.dispose()


def tagged(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.history(channel)
        if (m.get("metadata") or {}).get("event_type") == METADATA_EVENT
    ]


def test_kill_9_during_delivery_then_restart_posts_once(db_url: str, tmp_path: Path) -> None:
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS.replace("SHARE", "40"))
    cli(db_url, "customers", "import", str(customers))
    cli(db_url, "subscriptions", "add", "--channel", "C1")
    release, posted = threading.Event(), threading.Event()
    with FakeSlack() as slack:

        def post_then_hang(args: dict[str, Any]) -> dict[str, Any]:
            result = slack._api_chat_post_message(args)  # the message is in the channel ...
            posted.set()
            release.wait(timeout=30)  # ... but the bot never hears back before it dies
            return result

        slack.on("chat.postMessage", post_then_hang)
        log = tmp_path / "serve.log"
        with serve(db_url, slack, log) as first:
            engine = create_db_engine(db_url)
            wait_until(lambda: _state(engine, "impact:revision"), what="the impact marker")
            customers.write_text(CUSTOMERS.replace("SHARE", "60"))
            cli(db_url, "customers", "import", str(customers))  # flips Nimbus: an alert
            assert posted.wait(timeout=20), "the alert was never posted"
            kill_group(first)  # the server and all its workers, mid-post
            engine.dispose()
        release.set()
        slack.on("chat.postMessage", None)
        assert [d.status for d in deliveries(db_url)] == ["pending"]  # died before recording
        with serve(db_url, slack, log):
            wait_until(
                lambda: [d.status for d in deliveries(db_url)] == ["sent"],
                timeout=30,
                what="the delivery to be recovered",
            )
            time.sleep(1)  # room for a duplicate post to show up
        assert len(tagged(slack, "C1")) == 1
        # The first call was cut off by the kill; the restarted server made no second post.
        assert len(slack.calls_to("chat.postMessage")) <= 1
        assert slack.calls_to("conversations.history"), "recovery looked in the channel"
        (row,) = deliveries(db_url)
        assert row.ts == tagged(slack, "C1")[0]["ts"] and row.attempts == 2


def _state(engine: Any, key: str) -> str | None:
    with session_scope(engine) as session:
        row = session.get(AppState, key)
        return row.value if row else None


def test_two_replicas_post_each_digest_once_and_poll_once(
    db_url: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    hits: list[float] = []
    body = {"v": "<main><p>Policy v1</p></main>"}

    def page(request: Any) -> Any:
        from werkzeug import Response

        hits.append(time.monotonic())
        return Response(body["v"], content_type="text/html")

    httpserver.expect_request("/policy").respond_with_handler(page)
    cli(
        db_url,
        "sources",
        "add",
        "--name",
        "Local policy",
        "--kind",
        "webpage",
        "--url",
        httpserver.url_for("/policy"),
        "--every",
        "1h",
    )
    cli(db_url, "sources", "poll")  # baseline
    body["v"] = "<main><p>Policy v2</p></main>"
    assert "1 change(s)" in cli(db_url, "sources", "poll")
    cli(db_url, "subscriptions", "add", "--channel", "C2", "--schedule", "daily 00:00 UTC")
    engine = create_db_engine(db_url)
    with engine.begin() as conn:  # subscribed yesterday, so today's 00:00 digest is due
        conn.execute(update(Subscription).values(created_at=_yesterday(), last_period=_yesterday()))
        # Make the source due now, for both replicas at once.
        conn.execute(text("UPDATE policy_source SET next_poll_at = :t"), {"t": _yesterday()})
    engine.dispose()
    polls_before = len(hits)
    with FakeSlack() as slack:
        log = tmp_path / "replicas.log"
        with serve(db_url, slack, log), serve(db_url, slack, log):
            slack.wait_for(
                "chat.postMessage", timeout=30, where=lambda c: c.args.get("channel") == "C2"
            )
            time.sleep(3)  # several ticks of both replicas
        messages = tagged(slack, "C2")
        top = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
        assert len(top) == 1, [(d.dedupe_key, d.status, d.ts) for d in deliveries(db_url)]
        assert (
            top[0]["text"].startswith("Policy digest: 1 change")
            and "Local policy" in top[0]["text"]
        )
        replies = [m for m in messages if m not in top]
        assert [r["thread_ts"] for r in replies] == [top[0]["ts"]]  # the diff, in the thread
        assert len(hits) - polls_before == 1, "the due source was polled by one replica only"
        sent = [d for d in deliveries(db_url) if d.channel == "C2" and d.kind == "digest"]
        assert [d.status for d in sent].count("sent") == len(sent) >= 1


def _yesterday() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(days=1)
