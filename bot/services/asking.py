"""Wiring between the domain and storage: database readiness, cached knowledge, and `ask`.

This is where the clock and ids come from; the domain modules receive them as arguments.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.domain.asking.answers import Answer
from bot.domain.asking.customer_names import CustomerIndex
from bot.domain.asking.knowledge import Knowledge, build_knowledge
from bot.domain.asking.options import with_options
from bot.domain.asking.questions import Question, parse_question
from bot.domain.asking.resolving import resolve_place
from bot.domain.names.places import build_place_catalog
from bot.domain.rules.table import RuleTable
from bot.services.change_counter import SharedGeneration
from bot.services.customer_lookup import StoredCustomerIndex
from bot.services.pack_upgrades import add_listed_rules, mark_listed_rules
from bot.services.rule_changes import import_parsed
from bot.services.screening_answers import answer_screened
from bot.services.screening_cache import screening_cache
from bot.settings import Settings
from storage.customers import StoredCustomers
from storage.db import ensure_schema, read_scalar, session_scope
from storage.decisions import DecisionInsert, decision_row
from storage.rules import (
    DEFAULT_PACK,
    current_revision,
    load_table,
    lock_rule_table,
    seed_places,
    write_revision,
)
from storage.screening_snapshots import ScreeningSnapshots
from storage.snapshots import RevisionStamp, SnapshotStore, paused_gc, revision_stamp

if TYPE_CHECKING:
    from bot.services.audit_writer import AuditWriter
    from bot.services.screening_cache import ScreeningCache

SYSTEM_AUTHOR = "clearance"
_NEWEST_REVISION_SQL = "SELECT coalesce(max(number), 0) FROM revision"
_NEWEST_REVISION = text(_NEWEST_REVISION_SQL)
_STATE = text("SELECT value FROM app_state WHERE key = :key")
SOURCES_SEEDED = "seeded:sources"  # the app_state marker: the shipped sources were added once
SOURCES_PACK = DEFAULT_PACK.parent / "sources.yaml"


def utcnow() -> datetime:
    """Return the current time in UTC (the one place the service reads the clock)."""
    return datetime.now(UTC)


def initialize(
    engine: Engine,
    *,
    pack: Path | None = DEFAULT_PACK,
    now: datetime | None = None,
    author: str = SYSTEM_AUTHOR,
    seed_sources: bool = True,
    empty: bool = False,
) -> int:
    """Create or upgrade the schema and, on a database with no revision yet, load the pack.

    With `empty` (and no pack) a new database gets a first revision with an empty rule table, so
    that later commands, which load the default pack into a database with no revision, leave it
    empty. Returns the revision the database is at afterwards.
    """
    ensure_schema(engine)
    with engine.connect() as conn:  # the common case: one plain query, no ORM session
        rev: int = conn.execute(_NEWEST_REVISION).scalar() or 0
    if rev == 0:
        with session_scope(engine) as session:
            lock_rule_table(session=session)  # two first commands at once load the pack once
            rev = current_revision(session=session)
            if rev == 0:
                seed_places(session=session, places=build_place_catalog())
                if pack is not None:
                    from bot.domain.rules.files import read_file

                    parsed = read_file(pack)
                    name = "default rule pack" if pack == DEFAULT_PACK else "rule pack"
                    rev = import_parsed(
                        session=session,
                        parsed=parsed,
                        replace=True,
                        author=author,
                        now=now or utcnow(),
                        summary=f"{name} ({pack.name})",
                    ).number
                elif empty:
                    rev = write_revision(
                        session=session,
                        old=RuleTable(),
                        new=RuleTable(),
                        author=author,
                        now=now or utcnow(),
                        summary="empty rule table",
                    ).number
                # A new table has the pack's restricted-party rules, or chose a pack without.
                mark_listed_rules(session, how="with the first revision")
                session.commit()
    elif (added := add_listed_rules(engine, now=now or utcnow(), author=author)) is not None:
        rev = added
    if seed_sources:
        add_default_sources(engine, now=now or utcnow())
    return rev


def add_default_sources(engine: Engine, *, now: datetime) -> int:
    """Add the shipped policy sources once (a database that had them keeps its own choices)."""
    with engine.connect() as conn:  # the common case, with a plain query: they were added
        if conn.execute(_STATE, {"key": SOURCES_SEEDED}).scalar():
            return 0
    # Imported here: this runs once per database, and `clearance ask` starts a process each time.
    import yaml

    from storage.policies import add_source, get_state, parse_interval, set_state

    with session_scope(engine) as session:
        if get_state(session=session, key=SOURCES_SEEDED):
            return 0
        groups = set(load_table(session=session).groups)
        data = yaml.safe_load(SOURCES_PACK.read_text(encoding="utf-8"))
        added = 0
        for s in data["sources"]:
            group = s.get("country_list")
            add_source(
                session=session,
                name=s["name"],
                kind=s["kind"],
                url=s.get("url", ""),
                now=now,
                interval_s=parse_interval(s.get("every", "6h")),
                tags=s.get("tags"),
                severity=s.get("severity", "normal"),
                selector=s.get("selector"),
                country_list_group=group if group in groups else None,
                ignore=s.get("ignore"),
            )
            added += 1
        set_state(session=session, key=SOURCES_SEEDED, value=now.isoformat())
        session.commit()
        return added


@dataclass
class KnowledgeCache:
    """The knowledge for the newest revision, rebuilt only when the revision changes.

    With `ttl_s` the revision is looked up at most that often (the server uses about a second);
    `invalidate()` makes the next call look again, for changes made in this process, and with
    `shared` in every worker process of the server as well.
    With `snapshots` (one-shot commands, with `lazy_customers`) the knowledge of a revision is
    built once and loaded from there by later processes (`storage.snapshots`).
    """

    engine: Engine
    ttl_s: float = 0.0
    lazy_customers: bool = False  # fetch customers on demand (one-shot commands)
    snapshots: SnapshotStore | None = None
    shared: SharedGeneration | None = None
    _knowledge: Knowledge | None = None
    _checked: float = 0.0
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    screening: ScreeningCache | None = None  # restricted-party lists; made on first use
    settings: Settings | None = None  # the process's settings, for the screening backend

    def __post_init__(self) -> None:
        if self.snapshots is not None and not self.lazy_customers:
            raise ValueError("knowledge snapshots leave customers out: use lazy_customers")

    def invalidate(self) -> None:
        """Look up the revision on the next call, here and in the other workers."""
        self._checked = 0.0
        if self.shared is not None:
            self.shared.bump()

    def get(self) -> Knowledge:
        """Return knowledge for the newest revision."""
        cached = self._knowledge
        seen = self.shared.read() if self.shared is not None else 0
        if (
            cached is not None
            and self.ttl_s
            and seen == self._seen
            and time.monotonic() - self._checked < self.ttl_s
        ):
            return cached
        self._checked, self._seen = time.monotonic(), seen
        # The common case (the CLI and the benchmark ask every time): one query straight to the
        # driver, without a SQLAlchemy connection's execute, which costs several times more.
        if cached is not None and read_scalar(self.engine, _NEWEST_REVISION_SQL) == cached.revision:
            return cached
        with self.engine.connect() as conn:
            stamp = revision_stamp(conn)
        with self._lock:
            if self._knowledge is not None and self._knowledge.revision != stamp.number:
                # Look again under the lock: a thread that read its stamp before another thread
                # built a newer revision must not replace that with older knowledge.
                with self.engine.connect() as conn:
                    stamp = revision_stamp(conn)
            if self._knowledge is None or self._knowledge.revision != stamp.number:
                self._knowledge = self._load_or_build(stamp)
            return self._knowledge

    def _load_or_build(self, stamp: RevisionStamp) -> Knowledge:
        if not self.lazy_customers:
            with session_scope(self.engine) as session:
                knowledge = build_knowledge(load_table(session=session, revision=stamp.number))
            if self.ttl_s and isinstance(knowledge.customers, CustomerIndex):
                # A long-lived process: the first "did you mean" of a revision must not wait for
                # its name indexes, which take seconds at 100,000 customers.
                threading.Thread(
                    target=knowledge.customers.warm, daemon=True, name="customer-index"
                ).start()
            return knowledge
        own = _own_objects(self.engine, stamp.number)
        if self.snapshots is not None:
            loaded = self.snapshots.load(stamp, own)
            if isinstance(loaded, Knowledge) and loaded.revision == stamp.number:
                return loaded
        with paused_gc(), session_scope(self.engine) as session:
            table = load_table(session=session, revision=stamp.number, customers=False)
            table.customers = own["customers"]
            knowledge = build_knowledge(table, customers=own["customer_index"])
        if self.snapshots is not None:
            self.snapshots.save(stamp, knowledge, own)
        return knowledge


def _own_objects(engine: Engine, revision: int) -> dict[str, Any]:
    """Return the parts of a lazy knowledge bound to this process (never in a snapshot)."""
    stored = StoredCustomers(engine, revision)
    return {
        "database": engine,
        "customers": stored,
        "customer_index": StoredCustomerIndex(engine, revision, stored),
    }


def answer_question(
    cache: KnowledgeCache,
    text: str,
    *,
    now: datetime,
    as_of: date | None = None,
    access: str | None = None,
    hq: str | None = None,
) -> Answer:
    """Parse and decide a question (no audit write); raise `QuestionError` if unanswerable."""
    kb = cache.get()
    question = with_options(
        parse_question(text, places=kb.places, models=kb.models),
        as_of=as_of,
        access=access,
        hq=resolve_place(hq, kb.places) if hq is not None else None,
    )
    return screen_and_decide(cache, kb, question, today=now.date(), decision_id=uuid.uuid4().hex)


def screen_and_decide(
    cache: KnowledgeCache, kb: Knowledge, question: Question, *, today: date, decision_id: str
) -> Answer:
    """Screen the question's customer against the newest list versions, then decide it."""
    if cache.screening is None:
        cache.screening = screening_cache(cache.engine, ttl_s=cache.ttl_s, settings=cache.settings)
        if cache.snapshots is not None:  # a one-shot `ask`: load the index an earlier one saved
            store = cache.snapshots
            cache.screening.snapshots = ScreeningSnapshots(store.directory, store.database)
    state = cache.screening.get()
    return answer_screened(question, kb, cache.engine, state, today=today, decision_id=decision_id)


def ask(
    engine: Engine,
    cache: KnowledgeCache,
    text: str,
    *,
    actor: str,
    now: datetime | None = None,
    as_of: date | None = None,
    access: str | None = None,
    audit: AuditWriter | None = None,
    hq: str | None = None,
) -> Answer:
    """Parse, decide and audit one question; raise `QuestionError` when it can't be answered."""
    now = now or utcnow()
    result = answer_question(cache, text, now=now, as_of=as_of, access=access, hq=hq)
    if audit is not None:
        audit.write(result, actor=actor, now=now)
        return result
    with engine.begin() as conn:
        # A precompiled INSERT, no ORM session: a session's unit of work is slower per answer.
        DecisionInsert.of(engine).execute(conn, [decision_row(result, actor=actor, now=now)])
    return result
