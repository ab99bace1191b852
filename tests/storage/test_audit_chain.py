"""The audit log is tamper-evident: guard triggers on every audit table, and a hash chain.

Run on SQLite and, with CLEARANCE_DATABASE_URL set, on PostgreSQL. Tampering is done the way an
intruder with the database owner's rights would do it: the guard triggers are switched off first.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.services.asking import KnowledgeCache, ask
from storage.audit_chain import verify_chain, verify_chains
from storage.audit_triggers import AUDIT_LOGS, VERSIONED
from storage.db import create_db_engine, session_scope
from storage.reviews import create_review, resolve_review
from storage.tables.audit import AdminAction

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CLI = [sys.executable, "-m", "bot"]
QUESTION = "can Acme GmbH in Germany use Claude Sonnet 4.5?"


def _ask(engine: Engine, n: int = 1) -> list[str]:
    cache = KnowledgeCache(engine)
    return [ask(engine, cache, QUESTION, actor=f"U{i}", now=NOW).decision_id for i in range(n)]


def _admin_action(engine: Engine, user: str = "UADMIN", allowed: bool = True) -> None:
    with session_scope(engine) as session:
        session.add(
            AdminAction(
                created_at=NOW, user_id=user, action="rule add", target="r", allowed=allowed
            )
        )
        session.commit()


def _refused(engine: Engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as exc, engine.begin() as conn:
        conn.execute(text(sql))
    return str(exc.value.orig)


def _without_guards(engine: Engine, table: str, sql: str) -> None:
    """Run a statement with the table's guard triggers off, as its owner could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            conn.execute(text(sql))
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        for name in ("no_update", "no_delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_{name}"))
        conn.execute(text(sql))


@pytest.mark.parametrize("table", AUDIT_LOGS)
def test_audit_tables_refuse_update_delete_and_truncate(engine: Engine, table: str) -> None:
    _ask(engine)
    _admin_action(engine)
    assert "append-only" in _refused(engine, f"UPDATE {table} SET chain_seq = chain_seq")
    assert "append-only" in _refused(engine, f"DELETE FROM {table}")
    if engine.dialect.name == "postgresql":
        assert "append-only" in _refused(engine, f"TRUNCATE {table} CASCADE")
    with engine.connect() as conn:
        assert verify_chain(conn, table).broken is None


@pytest.mark.parametrize("table", VERSIONED)
def test_versioned_rows_are_only_ever_closed(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        row_id = conn.execute(
            text(
                f"INSERT INTO {table} (key, rev_from, body) VALUES ('k', 1, '{{}}') RETURNING row_id"
            )
        ).scalar()
    message = "never rewritten or deleted"
    assert message in _refused(
        engine, f"UPDATE {table} SET body = '{{\"x\": 1}}' WHERE row_id = {row_id}"
    )
    assert message in _refused(engine, f"UPDATE {table} SET key = 'other' WHERE row_id = {row_id}")
    assert message in _refused(engine, f"DELETE FROM {table} WHERE row_id = {row_id}")
    with engine.begin() as conn:  # closing a current row is how a revision replaces it
        conn.execute(text(f"UPDATE {table} SET rev_to = 1 WHERE row_id = {row_id}"))
    assert message in _refused(engine, f"UPDATE {table} SET rev_to = NULL WHERE row_id = {row_id}")
    if engine.dialect.name == "postgresql":
        assert "append-only" in _refused(engine, f"TRUNCATE {table} CASCADE")


def test_a_resolved_review_is_never_changed(engine: Engine) -> None:
    [decision] = _ask(engine)
    with session_scope(engine) as session:
        review = create_review(session=session, decision_id=decision, user="U1", now=NOW)
        resolve_review(
            session=session,
            review_id=review.id or 0,
            user="UADMIN",
            outcome="ok",
            note="n",
            now=NOW,
        )
        session.commit()
    assert "never changed" in _refused(engine, "UPDATE review_request SET outcome = 'denied'")
    assert "never changed" in _refused(engine, "DELETE FROM review_request")


def test_the_chains_hold_over_answers_admin_actions_and_revisions(engine: Engine) -> None:
    _ask(engine, 3)
    _admin_action(engine)
    _admin_action(engine, user="UNOTADMIN", allowed=False)
    with engine.connect() as conn:
        reports = {r.table: r for r in verify_chains(conn)}
    assert {t: (r.rows, r.broken) for t, r in reports.items()} == {
        "decision": (3, None),
        "admin_action": (2, None),
        "revision": (1, None),
    }


@pytest.mark.parametrize(
    ("table", "tamper", "seq", "phrase"),
    [
        ("decision", "UPDATE decision SET verdict = 'allowed' WHERE chain_seq = 2", 2, "changed"),
        ("decision", "DELETE FROM decision WHERE chain_seq = 2", 3, "row 2 is missing"),
        (
            "admin_action",
            "UPDATE admin_action SET allowed = true WHERE chain_seq = 2",
            2,
            "changed",
        ),
        ("revision", "UPDATE revision SET author = 'mallory' WHERE chain_seq = 1", 1, "changed"),
        (
            "decision",
            "UPDATE decision SET prev_hash = row_hash WHERE chain_seq = 3",
            3,
            "was replaced",
        ),
    ],
)
def test_verify_names_the_first_broken_link(
    engine: Engine, table: str, tamper: str, seq: int, phrase: str
) -> None:
    ids = _ask(engine, 3)
    _admin_action(engine)
    _admin_action(engine, user="UNOTADMIN", allowed=False)
    _without_guards(engine, table, tamper)
    with engine.connect() as conn:
        report = verify_chain(conn, table)
    assert report.broken is not None and report.broken.seq == seq, report
    assert phrase in report.broken.problem
    if table == "decision" and seq == 2:
        assert ids[1] in str(report.broken)


def test_concurrent_writers_extend_one_chain(db_url: str) -> None:
    from bot.services.asking import initialize

    engines = [create_db_engine(db_url) for _ in range(3)]
    initialize(engines[0], seed_sources=False)
    errors: list[BaseException] = []

    def work(engine: Engine) -> None:
        try:
            _ask(engine, 8)
            _admin_action(engine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with engines[0].connect() as conn:
        reports = {r.table: r for r in verify_chains(conn)}
    assert reports["decision"].rows == 24 and reports["decision"].broken is None
    assert reports["admin_action"].rows == 3 and reports["admin_action"].broken is None
    for e in engines:
        e.dispose()


def test_cli_audit_verify_exits_4_and_names_the_row(engine: Engine, db_url: str) -> None:
    [_, second] = _ask(engine, 2)
    good = subprocess.run(
        [*CLI, "--db", db_url, "audit", "verify"], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0, good.stderr
    assert "decision: 2 rows, chain intact" in good.stdout
    _without_guards(
        engine, "decision", "UPDATE decision SET verdict = 'allowed' WHERE chain_seq = 2"
    )
    bad = subprocess.run(
        [*CLI, "--db", db_url, "audit", "verify"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 4
    assert f"decision row 2 (id {second})" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_row_written_around_the_chain_is_refused(engine: Engine) -> None:
    message = _refused(
        engine,
        "INSERT INTO admin_action (created_at, user_id, action, allowed) "
        "VALUES ('2026-11-26 12:00:00', 'U1', 'rule add', true)",
    )
    assert "chain" in message
