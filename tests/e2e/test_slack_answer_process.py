"""HTTP mode answers questions in a process of its own, and survives losing it.

Through the running server, on SQLite and PostgreSQL: a question is answered by the worker's
answer process; when that process is killed, questions are still answered (by the worker) and
the process comes back; when the server stops, so does the process. With
`CLEARANCE_ANSWER_PROCESS=0` the worker answers by itself.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from handlers.render.colours import card_blocks
from storage.db import create_db_engine, session_scope
from storage.tables.audit import Decision
from tests.e2e.server import Server, running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
QUESTION = "can someone in Japan use GPT-4o"
READY = re.compile(r"answer process (\d+) ready")


@pytest.fixture(scope="module")
def server(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with (
        FakeSlack() as slack,
        running_server(module_db_url, slack, tmp_path_factory.mktemp("serve")) as srv,
    ):
        yield srv


def _answer_processes(server: Server) -> list[int]:
    """Return the pids the server's log says are its answer processes, newest last."""
    return [int(pid) for pid in READY.findall(server.log.read_text(errors="replace"))]


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        proc = todo.pop()
        for task in Path(f"/proc/{proc}/task").iterdir():
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.update(children)
            todo.extend(children)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _decision_ids(db_url: str) -> list[str]:
    engine = create_db_engine(db_url)
    try:
        with session_scope(engine) as session:
            rows = session.exec(select(Decision).order_by(col(Decision.chain_seq))).all()
            return [d.id for d in rows]
    finally:
        engine.dispose()


def _assert_answered(server: Server, db_url: str, name: str) -> None:
    ack = server.command(QUESTION, name=name)
    assert card_blocks(ack)[0]["type"] == "header", ack
    assert ack["response_type"] == "ephemeral"
    assert _decision_ids(db_url)[-1] in json.dumps(ack)


def _wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_the_answer_process_answers_and_comes_back_after_a_crash(
    server: Server, module_db_url: str
) -> None:
    started = _answer_processes(server)  # one per worker: one on SQLite, one per CPU else
    assert started and set(started) <= _descendants(server.process.pid)
    _assert_answered(server, module_db_url, "before")

    first = started[0]
    os.kill(first, signal.SIGKILL)
    # (A question sent while it was dying would get an error id, as one in flight does.)
    _wait_for(lambda: f"answer process {first} stopped" in server.log.read_text(errors="replace"))
    # While it is down its worker answers by itself: still cited, still audited first.
    for n in range(2 * len(started)):
        _assert_answered(server, module_db_url, f"while-down-{n}")
    _wait_for(lambda: len(_answer_processes(server)) == len(started) + 1)
    again = _answer_processes(server)[-1]
    assert again not in started and again in _descendants(server.process.pid)
    assert not _alive(first)
    assert "Traceback" not in server.log.read_text(errors="replace")
    for n in range(2 * len(started)):
        _assert_answered(server, module_db_url, f"after-{n}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_the_answer_process_stops_with_the_server(module_db_url: str, tmp_path: Path) -> None:
    with FakeSlack() as slack, running_server(module_db_url, slack, tmp_path) as srv:
        _assert_answered(srv, module_db_url, "one")
        pids = _answer_processes(srv)
        assert pids and all(_alive(p) for p in pids)
    for pid in pids:
        _wait_for(lambda pid=pid: not _alive(pid), timeout=15)


def test_without_an_answer_process_the_worker_answers(module_db_url: str, tmp_path: Path) -> None:
    with (
        FakeSlack() as slack,
        running_server(module_db_url, slack, tmp_path, CLEARANCE_ANSWER_PROCESS="0") as srv,
    ):
        _assert_answered(srv, module_db_url, "in-worker")
        assert _answer_processes(srv) == []
