"""The server's batched audit writer: every answer committed before it is shown, none lost."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.services.asking import KnowledgeCache, answer_question
from bot.services.audit_writer import AuditWriter

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
QUESTIONS = [
    "can Acme GmbH in Germany use Claude Sonnet 4.5?",
    "can someone in Iran use GPT-4o",
    "can a customer in Japan use gpt-oss-120b",
]


def _count(engine: Engine, decision_id: str | None = None) -> int:
    with engine.connect() as conn:
        if decision_id is None:
            return int(conn.execute(text("SELECT count(*) FROM decision")).scalar_one())
        return int(
            conn.execute(
                text("SELECT count(*) FROM decision WHERE id = :id"), {"id": decision_id}
            ).scalar_one()
        )


def test_each_answer_is_committed_before_its_future_completes(engine: Engine) -> None:
    cache = KnowledgeCache(engine)
    writer = AuditWriter(engine)
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def ask(i: int) -> None:
        answer = answer_question(cache, QUESTIONS[i % len(QUESTIONS)], now=NOW)
        writer.write(answer, actor=f"U{i}", now=NOW)
        # Visible from another connection once write() returns: it was committed.
        with lock:
            seen.append((answer.decision_id, _count(engine, answer.decision_id)))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(seen) == 40 and all(n == 1 for _, n in seen)
    assert _count(engine) == 40
    with engine.connect() as conn:
        actors = {r[0] for r in conn.execute(text("SELECT actor FROM decision"))}
    assert actors == {f"U{i}" for i in range(40)}


def test_a_failed_batch_fails_its_answers_and_the_next_batch_is_written(engine: Engine) -> None:
    cache = KnowledgeCache(engine)
    writer = AuditWriter(engine)
    first = answer_question(cache, QUESTIONS[0], now=NOW)
    writer.write(first, actor="U1", now=NOW)
    # The same decision id again breaks the primary key: that answer must not be shown.
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        writer.write(replace(first, question="again"), actor="U1", now=NOW)
    # The writer dropped its connection and carries on with a fresh one.
    second = answer_question(cache, QUESTIONS[1], now=NOW)
    writer.write(second, actor="U2", now=NOW)
    assert _count(engine, second.decision_id) == 1
    assert _count(engine) == 2


def test_the_writer_reconnects_when_its_connection_was_lost(engine: Engine) -> None:
    cache = KnowledgeCache(engine)
    writer = AuditWriter(engine)
    writer.write(answer_question(cache, QUESTIONS[0], now=NOW), actor="U1", now=NOW)
    assert writer._conn is not None
    writer._conn.invalidate()  # as after a database restart: the kept connection is gone
    answer = answer_question(cache, QUESTIONS[2], now=NOW)
    writer.write(answer, actor="U3", now=NOW)
    assert _count(engine, answer.decision_id) == 1


def test_one_bad_decision_fails_alone_and_the_writer_lives_on(engine: Engine) -> None:
    cache = KnowledgeCache(engine)
    writer = AuditWriter(engine)
    answers = [answer_question(cache, QUESTIONS[i % 3], now=NOW) for i in range(20)]
    writer.write(answers[0], actor="U0", now=NOW)
    # Queued together with good ones: a duplicate id, and one whose row cannot even be built.
    futures = [writer.submit(a, actor="U", now=NOW) for a in answers[1:10]]
    duplicate = writer.submit(answers[0], actor="U0", now=NOW)
    broken = writer.submit(replace(answers[10], as_of=None), actor="U", now=NOW)  # type: ignore[arg-type]
    futures += [writer.submit(a, actor="U", now=NOW) for a in answers[11:]]
    for f in futures:
        assert f.result(timeout=30) is None
    assert isinstance(duplicate.exception(timeout=30), Exception)
    assert isinstance(broken.exception(timeout=30), Exception)
    assert _count(engine) == 19  # every good answer, once
    later = answer_question(cache, QUESTIONS[0], now=NOW)
    writer.write(later, actor="U9", now=NOW)
    assert _count(engine, later.decision_id) == 1


@pytest.mark.parametrize(("setting", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_the_writer_sets_sqlite_durability_on_its_own_connection(
    engine: Engine, setting: str, level: int
) -> None:
    writer = AuditWriter(engine, synchronous=setting)  # type: ignore[arg-type]
    writer.write(
        answer_question(KnowledgeCache(engine), QUESTIONS[0], now=NOW), actor="U1", now=NOW
    )
    if engine.dialect.name != "sqlite":
        pytest.skip("synchronous is SQLite's; PostgreSQL commits are durable")
    assert writer._conn is not None
    assert writer._conn.exec_driver_sql("PRAGMA synchronous").scalar() == level
    # Other connections keep SQLite's default (FULL), whatever the writer uses.
    with engine.connect() as other:
        assert other.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_the_prepared_insert_stores_what_the_core_insert_stores(engine: Engine) -> None:
    from storage.db import session_scope
    from storage.decisions import DECISION_INSERT, DecisionInsert, decision_row
    from storage.tables.audit import Decision

    answer = answer_question(KnowledgeCache(engine), QUESTIONS[0], now=NOW)
    fast = decision_row(answer, actor="U1", now=NOW)
    core = {**fast, "id": fast["id"] + "-core"}
    from storage.audit_chain import chain_rows

    with engine.begin() as conn:
        DecisionInsert(engine.dialect).execute(conn, [fast])
        chain_rows(conn, "decision", [core])
        conn.execute(DECISION_INSERT, [core])
    with session_scope(engine) as session:
        a, b = session.get(Decision, fast["id"]), session.get(Decision, core["id"])
        assert a is not None and b is not None
        chain = {"id", "chain_seq", "prev_hash", "row_hash"}
        assert a.model_dump(exclude=chain) == b.model_dump(exclude=chain)
        assert b.prev_hash == a.row_hash
        assert a.answer == answer.to_dict() and a.created_at == b.created_at
