"""Everything that can go wrong around a command: one line saying what and how to fix it.

Each case runs the real `clearance` process and checks its exit code (documented in the README)
and that stderr is one line with no traceback.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.cli.db_errors import describe
from storage.db import create_db_engine
from storage.health import check_writable, quick_check

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "bot"]
QUESTION = "can Acme GmbH in Germany use Claude Sonnet 4.5?"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_a_database_url_that_is_not_one(tmp_path: Path) -> None:
    for url in ("notaurl", "postgresql://u@127.0.0.1:/db"):
        proc = run("--db", url, "ask", QUESTION)
        assert proc.returncode == 3
        assert "is not a database URL" in one_line(proc)


def test_a_missing_folder(tmp_path: Path) -> None:
    proc = run("--db", f"sqlite:///{tmp_path}/missing/dir/clearance.db", "ask", QUESTION)
    assert proc.returncode == 3
    assert "does not exist. Create it" in one_line(proc)


def test_a_damaged_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(b"this is not a database" * 300)
    proc = run("--db", f"sqlite:///{path}", "ask", QUESTION)
    assert proc.returncode == 3
    assert "is damaged" in one_line(proc) and ".recover" in proc.stderr


def test_a_read_only_database(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    assert run("--db", f"sqlite:///{path}", "init").returncode == 0
    # Read-only as SQLite sees it (the tests run as root, whom file modes do not stop).
    proc = run("--db", f"sqlite:///file:{path}?mode=ro&uri=true", "ask", QUESTION)
    assert proc.returncode == 3
    assert "read-only" in one_line(proc)


def test_a_full_disk_is_described() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA max_page_count = 2")  # the disk as SQLite sees it: full
    with pytest.raises(sqlite3.DatabaseError) as exc:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 4000,)] * 50)
    message = describe(exc.value, "sqlite:///clearance.db")
    assert "disk is full" in message and "nothing was changed" in message


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung PostgreSQL)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_a_postgresql_that_never_answers_does_not_hang_ask(silent_server: int) -> None:
    start = time.perf_counter()
    proc = run(
        "--db",
        f"postgresql://clearance@127.0.0.1:{silent_server}/clearance",
        "ask",
        QUESTION,
        env={"CLEARANCE_DB_CONNECT_TIMEOUT_S": "2"},
    )
    assert time.perf_counter() - start < 20
    assert proc.returncode == 3
    assert "did not answer in time" in one_line(proc)


def test_a_failed_init_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - {id: a, effect: allow, title: T}\n")
    db = tmp_path / "new.db"
    proc = run("--db", f"sqlite:///{db}", "init", "--pack", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("nothing was changed.")
    assert not list(tmp_path.glob("new.db*"))


def test_export_revision_0_and_negative_limits_are_usage_errors(db_url: str) -> None:
    for args, phrase in (
        (("rules", "export", "--revision", "0"), "must be 1 or more"),
        (("rules", "export", "--revision", "-1"), "must be 1 or more"),
        (("audit", "--limit", "-5"), "must be from 1 to 10000"),
        (("revisions", "list", "--limit", "0"), "must be from 1 to 10000"),
    ):
        proc = run("--db", db_url, *args)
        assert proc.returncode == 2 and phrase in proc.stderr


def test_empty_results_say_no_rows(db_url: str) -> None:
    for args in (("audit",), ("changes", "list"), ("subscriptions", "list")):
        proc = run("--db", db_url, *args)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "no rows"


def test_since_takes_the_form_slack_takes(db_url: str) -> None:
    proc = run("--db", db_url, "changes", "list", "--since", "yesterday")
    assert proc.returncode == 1
    assert "YYYY-MM-DD" in one_line(proc) and "/clearance changes since" in proc.stderr
    assert run("--db", db_url, "changes", "list", "--since", "2026-11-01").returncode == 0


def test_a_channel_must_be_a_channel_id(db_url: str) -> None:
    proc = run("--db", db_url, "subscriptions", "add", "--channel", "notachannel")
    assert proc.returncode == 1 and "not a Slack channel id" in one_line(proc)


def test_terminal_output_has_no_slack_syntax_or_python_lists(db_url: str) -> None:
    proc = run("--db", db_url, "subscriptions", "remove", "--channel", "C9999999")
    assert proc.returncode == 1
    assert one_line(proc) == "C9999999 has no subscription."
    source = run(
        "--db",
        db_url,
        "sources",
        "add",
        "--name",
        "EU page",
        "--kind",
        "webpage",
        "--url",
        "https://example.org/ai",
        "--tags",
        "vendor,eu",
    )
    assert source.returncode == 0, source.stderr
    added = run(
        "--db",
        db_url,
        "subscriptions",
        "add",
        "--channel",
        "C0123ABCD",
        "--tags",
        "vendor,eu",
        "--schedule",
        "daily 09:00 UTC",
    )
    assert added.returncode == 0, added.stderr
    listed = run("--db", db_url, "subscriptions", "list").stdout
    for out in (added.stdout, listed):
        assert "[" not in out and "'" not in out and "<#" not in out
        assert "tags eu, vendor" in out


def test_sources_poll_fails_when_a_source_fails(db_url: str) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the fetch fails at once
    added = run(
        "--db",
        db_url,
        "sources",
        "add",
        "--name",
        "Down",
        "--kind",
        "webpage",
        "--url",
        f"http://127.0.0.1:{port}/page",
        env={"CLEARANCE_FETCH_ALLOW_HOSTS": "127.0.0.1"},
    )
    assert added.returncode == 0, added.stderr
    proc = run("--db", db_url, "sources", "poll", env={"CLEARANCE_FETCH_ALLOW_HOSTS": "127.0.0.1"})
    assert proc.returncode == 1
    assert "0 change(s) from 1 source(s); 1 failed." in proc.stdout
    assert "source Down failed:" in proc.stderr


def test_health_check_fails_when_writes_fail(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    assert run("--db", f"sqlite:///{path}", "init").returncode == 0
    writable = create_db_engine(f"sqlite:///{path}")
    check_writable(writable)
    writable.dispose()
    read_only = create_db_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(Exception, match="readonly"):
        check_writable(read_only)
    read_only.dispose()


def test_serve_refuses_a_damaged_sqlite_file(tmp_path: Path) -> None:
    from bot.domain.errors import BotError
    from bot.server import refuse_damaged

    path = tmp_path / "d.db"
    assert run("--db", f"sqlite:///{path}", "init").returncode == 0
    engine: Engine = create_db_engine(f"sqlite:///{path}")
    assert quick_check(engine) is None
    engine.dispose()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 3 : page * 3 + 200] = b"\xff" * 200  # a b-tree page overwritten mid-file
    path.write_bytes(bytes(data))
    engine = create_db_engine(f"sqlite:///{path}")
    with pytest.raises(BotError, match="damaged"):
        refuse_damaged(engine)
    engine.dispose()
