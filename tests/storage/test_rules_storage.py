"""Revisions, versioned rows, the append-only audit log and the schema (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.domain.asking.customer_names import CustomerIndex
from bot.domain.rules.entities import Customer
from bot.domain.rules.files import read_file
from bot.domain.rules.merging import merge
from bot.domain.rules.table import RuleTable
from bot.services.asking import KnowledgeCache, ask, initialize
from bot.services.change_counter import SharedGeneration
from storage.db import session_scope
from storage.rules import DEFAULT_PACK, current_revision, load_table, write_revision
from storage.tables.audit import Decision
from storage.tables.rule_table import RuleRow

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_initialize_loads_the_default_pack_as_revision_1(engine: Engine) -> None:
    expected = merge(RuleTable(), read_file(DEFAULT_PACK), replace=True)
    with session_scope(engine) as session:
        table = load_table(session=session)
    assert table.revision == 1
    assert table.to_dict() == expected.to_dict()


def test_initialize_twice_adds_no_revision(engine: Engine) -> None:
    assert initialize(engine, seed_sources=False) == 1
    with session_scope(engine) as session:
        assert current_revision(session=session) == 1


def test_every_change_is_a_revision_and_old_revisions_can_be_rebuilt(engine: Engine) -> None:
    with session_scope(engine) as session:
        old = load_table(session=session)
        new = load_table(session=session)
        rule = new.rules["open-weights-allow"]
        new.rules[rule.id] = replace(rule, title="Changed title")
        del new.rules["anthropic-va-review"]
        rev = write_revision(
            session=session, old=old, new=new, author="alice", now=NOW, summary="tidy up"
        )
        session.commit()
    assert rev.number == 2 and rev.author == "alice"
    assert {(c["id"], c["op"]) for c in rev.changes} == {
        ("open-weights-allow", "changed"),
        ("anthropic-va-review", "removed"),
    }
    assert rev.summary == "tidy up (rules: 1 changed, 1 removed)"
    with session_scope(engine) as session:
        assert load_table(session=session, revision=1).to_dict() == old.to_dict()
        now = load_table(session=session)
        assert now.rules["open-weights-allow"].title == "Changed title"
        assert "anthropic-va-review" not in now.rules
        history = session.exec(select(RuleRow).where(RuleRow.key == "open-weights-allow")).all()
        assert sorted((r.rev_from, r.rev_to) for r in history) == [(1, 2), (2, None)]


def test_decisions_are_written_and_append_only(engine: Engine) -> None:
    cache = KnowledgeCache(engine)
    answer = ask(engine, cache, "can Acme in Brazil use GPT-4o?", actor="U123", now=NOW)
    with session_scope(engine) as session:
        row = session.get(Decision, answer.decision_id)
        assert row is not None
        assert (row.actor, row.verdict, row.revision, row.country, row.model) == (
            "U123",
            answer.verdict,
            1,
            "BR",
            "gpt-4o",
        )
        assert row.rule_ids == answer.rule_ids()
    for statement in ("UPDATE decision SET verdict = 'denied'", "DELETE FROM decision"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with session_scope(engine) as session:
        assert session.get(Decision, answer.decision_id).verdict == answer.verdict  # type: ignore[union-attr]


def test_knowledge_cache_follows_new_revisions(engine: Engine) -> None:
    cache = KnowledgeCache(engine)
    first = cache.get()
    assert cache.get() is first
    _new_revision(engine, "open-weights-allow")
    second = cache.get()
    assert second.revision == 2 and "open-weights-allow" not in second.table.rules


def test_a_long_lived_cache_builds_each_revisions_name_indexes_before_anyone_asks(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        old = load_table(session=session)
        new = load_table(session=session)
        new.customers["nimbus"] = Customer("nimbus", "Nimbus Pte Ltd", "SG")
        write_revision(session=session, old=old, new=new, author="bob", now=NOW)
        session.commit()
    index = KnowledgeCache(engine, ttl_s=60.0).get().customers
    assert isinstance(index, CustomerIndex)
    deadline = time.monotonic() + 10
    while not (index._buckets and index._skeletons) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert index._buckets and index._skeletons
    # A one-shot command builds them only if it needs a hint.
    once = KnowledgeCache(engine).get().customers
    assert isinstance(once, CustomerIndex)
    time.sleep(0.05)
    assert not once._buckets


def _new_revision(engine: Engine, drop: str) -> None:
    with session_scope(engine) as session:
        old = load_table(session=session)
        new = load_table(session=session)
        del new.rules[drop]
        write_revision(session=session, old=old, new=new, author="bob", now=NOW)
        session.commit()


@pytest.mark.parametrize("shared", [True, False])
def test_a_change_in_one_worker_reaches_the_others_within_their_ttl(
    engine: Engine, shared: bool
) -> None:
    # Two workers' caches, each looking up the revision at most once a minute.
    generation = SharedGeneration() if shared else None
    here = KnowledgeCache(engine, ttl_s=60.0, shared=generation)
    there = KnowledgeCache(engine, ttl_s=60.0, shared=generation)
    assert here.get().revision == there.get().revision == 1
    _new_revision(engine, "open-weights-allow")
    here.invalidate()  # what a worker does after an admin edit
    assert here.get().revision == 2
    # With the shared generation the sibling sees it at once; without, only after its ttl.
    assert there.get().revision == (2 if shared else 1)


def test_the_shared_generation_crosses_a_fork() -> None:
    generation = SharedGeneration()
    pid = os.fork()
    if pid == 0:  # the child: a sibling worker that changed something
        try:
            generation.bump()
        finally:
            os._exit(0)  # never back into pytest
    os.waitpid(pid, 0)
    assert generation.read() == 1


def test_migration_0004_fills_name_keys_of_existing_customers(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from storage.db import MIGRATIONS, create_db_engine

    engine = create_db_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(
            text(
                "INSERT INTO revision (number, author, created_at, summary, changes) "
                "VALUES (1, 'old', '2026-01-01', 'old', '[]')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customer (key, rev_from, body) VALUES ('acme', 1, "
                '\'{"id": "acme", "name": "ACME, GmbH.", "hq": "DE", '
                '"aliases": ["Acme"]}\')'
            )
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        names = conn.execute(text("SELECT names FROM customer")).scalar()
    engine.dispose()
    assert names == "|acme|acme gmbh|"
