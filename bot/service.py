"""Wiring between the domain and storage: database readiness, cached knowledge, and `ask`.

This is where the clock and ids come from; the domain modules receive them as arguments.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.answers import Answer, Knowledge, build_knowledge
from bot.answers import answer as decide
from bot.questions import parse_question
from storage.db import ensure_schema, session_scope
from storage.decisions import decision_row, record_decisions
from storage.files import read_file
from storage.rules import (
    DEFAULT_PACK,
    current_revision,
    import_parsed,
    load_table,
    seed_places,
)

if TYPE_CHECKING:
    from bot.audit import AuditWriter

SYSTEM_AUTHOR = "clearance"
_NEWEST_REVISION = text("SELECT max(number) FROM revision")
SOURCES_PACK = DEFAULT_PACK.parent / "sources.yaml"


def utcnow() -> datetime:
    """Return the current time in UTC (the one place the service reads the clock)."""
    return datetime.now(UTC)


def initialize(engine: Engine, *, pack: Path | None = DEFAULT_PACK, now: datetime | None = None,
               author: str = SYSTEM_AUTHOR, seed_sources: bool = True) -> int:
    """Create or upgrade the schema and, on an empty database, load the default pack.

    Returns the revision the database is at afterwards.
    """
    ensure_schema(engine)
    with session_scope(engine) as session:
        rev = current_revision(session=session)
        if rev == 0:
            seed_places(session=session)
            if pack is not None:
                parsed = read_file(pack)
                rev = import_parsed(session=session, parsed=parsed, replace=True, author=author,
                                    now=now or utcnow(),
                                    summary=f"default rule pack ({pack.name})").number
            session.commit()
    if seed_sources:
        add_default_sources(engine, now=now or utcnow())
    return rev


def add_default_sources(engine: Engine, *, now: datetime) -> int:
    """Add the shipped policy sources once (a database that had them keeps its own choices)."""
    import yaml

    from storage.policies import add_source, get_state, parse_interval, set_state

    with session_scope(engine) as session:
        if get_state(session=session, key="seeded:sources"):
            return 0
        groups = set(load_table(session=session).groups)
        data = yaml.safe_load(SOURCES_PACK.read_text(encoding="utf-8"))
        added = 0
        for s in data["sources"]:
            group = s.get("country_list")
            add_source(session=session, name=s["name"], kind=s["kind"], url=s.get("url", ""),
                       now=now, interval_s=parse_interval(s.get("every", "6h")),
                       tags=s.get("tags"), severity=s.get("severity", "normal"),
                       selector=s.get("selector"),
                       country_list_group=group if group in groups else None)
            added += 1
        set_state(session=session, key="seeded:sources", value=now.isoformat())
        session.commit()
        return added


@dataclass
class KnowledgeCache:
    """The knowledge for the newest revision, rebuilt only when the revision changes.

    With `ttl_s` the revision is looked up at most that often (the server uses about a second);
    `invalidate()` makes the next call look again, for changes made in this process.
    """

    engine: Engine
    ttl_s: float = 0.0
    lazy_customers: bool = False  # fetch customers on demand (one-shot commands)
    _knowledge: Knowledge | None = None
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _build(self, session: Any, rev: int) -> Knowledge:
        return _build_knowledge(self.engine, session, rev, self.lazy_customers)

    def invalidate(self) -> None:
        """Look up the revision on the next call."""
        self._checked = 0.0

    def get(self) -> Knowledge:
        """Return knowledge for the newest revision."""
        cached = self._knowledge
        if cached is not None and self.ttl_s and time.monotonic() - self._checked < self.ttl_s:
            return cached
        self._checked = time.monotonic()
        if cached is not None:
            # The common case: one cheap query on a pooled connection, no ORM session.
            with self.engine.connect() as conn:
                if (conn.execute(_NEWEST_REVISION).scalar() or 0) == cached.revision:
                    return cached
        with session_scope(self.engine) as session:
            rev = current_revision(session=session)
            with self._lock:
                if self._knowledge is None or self._knowledge.revision != rev:
                    self._knowledge = self._build(session, rev)
                return self._knowledge


def answer_question(cache: KnowledgeCache, text: str, *, now: datetime,
                    as_of: date | None = None, access: str | None = None) -> Answer:
    """Parse and decide a question (no audit write); raise `QuestionError` if unanswerable."""
    kb = cache.get()
    question = parse_question(text, places=kb.places, models=kb.models)
    if as_of is not None and question.as_of is None:
        question = replace(question, as_of=as_of)
    if access is not None:
        question = replace(question, access=access)
    return decide(question, kb, today=now.date(), decision_id=uuid.uuid4().hex)


def _build_knowledge(engine: Engine, session: Any, rev: int, lazy: bool) -> Knowledge:
    if not lazy:
        return build_knowledge(load_table(session=session, revision=rev))
    from storage.customers import StoredCustomerIndex, StoredCustomers

    table = load_table(session=session, revision=rev, customers=False)
    stored = StoredCustomers(engine, rev)
    table.customers = stored
    return build_knowledge(table, customers=StoredCustomerIndex(engine, rev, stored))


def ask(engine: Engine, cache: KnowledgeCache, text: str, *, actor: str,
        now: datetime | None = None, as_of: date | None = None,
        access: str | None = None, audit: AuditWriter | None = None) -> Answer:
    """Parse, decide and audit one question; raise `QuestionError` when it can't be answered."""
    now = now or utcnow()
    result = answer_question(cache, text, now=now, as_of=as_of, access=access)
    if audit is not None:
        audit.write(result, actor=actor, now=now)
        return result
    with session_scope(engine) as session:
        # A plain INSERT: the ORM unit of work cost about half a millisecond per answer.
        record_decisions(session=session, rows=[decision_row(result, actor=actor, now=now)])
        session.commit()
    return result
