"""`clearance serve --http` as several worker processes: one start-up, shared changes, respawns."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from handlers.render.colours import card_blocks
from storage.db import create_db_engine
from tests.e2e.server import running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
QUESTION = "can Acme GmbH in Germany use Claude Sonnet 4.5?"


def workers_of(pid: int) -> list[int]:
    """The worker processes gunicorn's master `pid` has forked."""
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_for(predicate: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def health(url: str) -> dict[str, Any]:
    """GET /healthz on a new connection."""
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def decisions(db_url: str) -> int:
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM decision")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads workers from /proc")
def test_three_workers_share_one_start_up_and_each_answer(db_url: str, tmp_path: Path) -> None:
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path, "--workers", "3") as srv:
        wait_for(
            lambda: srv.log.read_text().count("ready at rule-table revision 1") == 3,
            "three workers to load the rule table",
        )
        log = srv.log.read_text()
        # The database was migrated and seeded once, by the master, before any worker started:
        # a worker that ran the migrations too would log Alembic's start-up again.
        assert log.count("Running upgrade  -> 0001") == 1
        assert log.count("alembic.runtime.migration: Context impl") == 1
        assert "with 3 worker(s)" in log and "Traceback" not in log
        pids = set(workers_of(srv.process.pid))
        assert len(pids) == 3
        # Each new connection goes to whichever worker accepts it: more than one answers.
        seen = {health(srv.url)["worker"] for _ in range(40)}
        assert seen <= pids and len(seen) >= 2
        answers = [srv.command(QUESTION, user=f"U{i}") for i in range(30)]
        assert all(
            card_blocks(a)[0]["text"]["text"].startswith("🟡 Conditional · ") for a in answers
        )
    assert decisions(db_url) == 30


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads workers from /proc")
def test_a_killed_worker_is_replaced_and_every_answer_after_is_audited(
    db_url: str, tmp_path: Path
) -> None:
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path) as srv:
        wait_for(
            lambda: srv.log.read_text().count("ready at rule-table revision") == 2,
            "both workers to load the rule table",
        )
        victim = workers_of(srv.process.pid)[0]
        os.kill(victim, signal.SIGKILL)  # as the kernel's OOM killer would
        wait_for(
            lambda: (
                victim not in workers_of(srv.process.pid) and len(workers_of(srv.process.pid)) == 2
            ),
            "a replacement worker",
        )
        wait_for(
            lambda: srv.log.read_text().count("ready at rule-table revision") >= 3,
            "the replacement to load the rule table",
        )
        answers = [srv.command(QUESTION, user="U1") for _ in range(20)]
        assert all(
            card_blocks(a)[0]["text"]["text"].startswith("🟡 Conditional · ") for a in answers
        )
        ids = {card_blocks(a)[-2]["elements"][0]["text"] for a in answers}
        assert len(ids) == 20  # twenty decisions, each with its own id
    assert decisions(db_url) == 20
