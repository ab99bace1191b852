"""Hostile policy sources against the running server and the CLI: Slack keeps its 3 s."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import create_db_engine, session_scope
from storage.tables.tracking import PolicySource
from tests.e2e.server import running_server
from tests.support.hostile_sources import HostileServer, answer, trickle
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
QUESTION = "can someone in Iran use GPT-4o"


def cli(
    db_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def add(db_url: str, name: str, url: str) -> None:
    proc = cli(db_url, "sources", "add", "--name", name, "--kind", "webpage", "--url", url)
    assert proc.returncode == 0, proc.stderr


def sources(db_url: str) -> dict[str, PolicySource]:
    engine = create_db_engine(db_url)
    with session_scope(engine) as session:
        rows = {s.name: s for s in session.exec(select(PolicySource))}
        for row in rows.values():
            session.expunge(row)
    engine.dispose()
    return rows


def test_slack_answers_within_3_s_while_sources_hang_and_bloat(db_url: str, tmp_path: Path) -> None:
    with HostileServer() as hostile:
        hostile.routes["/slow"] = trickle(every_s=0.5, stop=hostile.stop)
        hostile.routes["/deep"] = answer("200 OK", b"<div>" * 900_000)
        hostile.routes["/page"] = answer("200 OK", b"<main><p>Policy</p></main>")
        add(db_url, "Slow loris", hostile.url("/slow"))
        add(db_url, "Deep page", hostile.url("/deep"))
        add(db_url, "Plain page", hostile.url("/page"))
        with (
            FakeSlack() as slack,
            running_server(
                db_url,
                slack,
                tmp_path,
                CLEARANCE_SCHEDULER="true",
                CLEARANCE_TICK_S="0.5",
                CLEARANCE_FETCH_TIMEOUT_S="4",
            ) as server,
        ):
            slowest, answered = 0.0, 0
            until = time.monotonic() + 8
            while time.monotonic() < until:
                started = time.monotonic()
                ack = server.command(QUESTION, user=f"U{answered}")
                slowest = max(slowest, time.monotonic() - started)
                assert ack["blocks"][0]["text"]["text"].startswith("⛔ Denied")
                answered += 1
                time.sleep(0.2)
            assert slowest < 3.0 and answered >= 10
            rows = sources(db_url)
            # The plain page was polled while the slow one was still dribbling.
            assert rows["Plain page"].last_success_at is not None
            assert rows["Plain page"].failures == 0
            assert "more than 512 deep" in (rows["Deep page"].last_error or "")
            assert "within 4 s" in (rows["Slow loris"].last_error or ""), server.tail()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:22/",
        "http://10.0.0.1/x",
        "ftp://x/y",
    ],
)
def test_sources_add_refuses_internal_addresses(db_url: str, url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CLEARANCE_FETCH_ALLOWED_ADDRESSES"}
    proc = cli(db_url, "sources", "add", "--name", "x", "--kind", "webpage", "--url", url, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "address" in proc.stderr or "http://" in proc.stderr, proc.stderr
    assert "x" not in sources(db_url)


def test_sources_add_accepts_an_allowed_local_address(db_url: str) -> None:
    env = {**os.environ, "CLEARANCE_FETCH_ALLOWED_ADDRESSES": "127.0.0.1"}
    proc = cli(
        db_url, "sources", "add", "--name", "ok", "--kind", "webpage", "--url",
        "http://127.0.0.1:9/x", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
