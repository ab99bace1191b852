"""Screening decisions: the audited confirm or dismiss of a hit, and the newest one per hit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.domain.errors import BotError
from bot.domain.screening.entries import Entry
from storage.db import read_rows, session_scope
from storage.tables.screening import ScreeningDecision


def record_decision(
    engine: Engine,
    *,
    customer_id: str,
    list_id: str,
    entry: Entry,
    decision: str,
    actor: str,
    reason: str,
    now: datetime,
) -> ScreeningDecision:
    """Append a confirm or dismiss decision (audited: who, why, when, and the entry as decided)."""
    if decision not in ("confirm", "dismiss"):
        raise BotError("A decision is 'confirm' or 'dismiss'.")
    if not reason.strip():
        raise BotError("Say why: --why TEXT is required.")
    row = ScreeningDecision(
        customer_id=customer_id,
        list_id=list_id,
        entry_key=entry.key,
        fingerprint=entry.fingerprint,
        decision=decision,
        actor=actor,
        reason=reason.strip(),
        created_at=now,
    )
    with session_scope(engine) as session:
        session.add(row)
        session.commit()
    return row


DecisionKey = tuple[str, str, str]


class DecisionRow(NamedTuple):
    """A screening decision as an answer reads it."""

    customer_id: str
    list_id: str
    entry_key: str
    fingerprint: str
    decision: str
    actor: str
    reason: str


_DECISION_COLUMNS = ", ".join(DecisionRow._fields)


def decisions_of(engine: Engine, customer_ids: Iterable[str]) -> dict[DecisionKey, DecisionRow]:
    """The newest decision per (customer, list, entry key) for these customers (or parties)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    # Read on every answer with a hit: straight to the driver, as the revision check is.
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"SELECT {_DECISION_COLUMNS} FROM {ScreeningDecision.__tablename__} "
        f"WHERE customer_id IN ({', '.join([mark] * len(wanted))}) ORDER BY id"
    )
    rows = [DecisionRow(*r) for r in read_rows(engine, sql, wanted)]
    return {(r.customer_id, r.list_id, r.entry_key): r for r in rows}


def latest_decisions(engine: Engine) -> dict[tuple[str, str, str], ScreeningDecision]:
    """The newest decision per (customer, list, entry key)."""
    with session_scope(engine) as session:
        rows = session.exec(select(ScreeningDecision).order_by(col(ScreeningDecision.id))).all()
    return {(r.customer_id, r.list_id, r.entry_key): r for r in rows}
