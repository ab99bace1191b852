"""The append-only decision audit log."""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlmodel import Session, col, or_, select

from bot.domain.asking.answers import Answer
from storage.audit_chain import chain_rows
from storage.tables.audit import Decision
from storage.workspaces import NONE, Workspace


def decision_row(
    answer: Answer, *, actor: str, now: datetime, workspace: Workspace | None = None
) -> dict[str, Any]:
    """Return the audit-log row for an answer, as column values."""
    return {
        **(workspace or NONE).columns(),
        "id": answer.decision_id,
        "created_at": now,
        "actor": actor,
        "question": answer.question,
        "customer_id": answer.customer.get("id"),
        "customer_name": answer.customer.get("name"),
        "country": answer.country,
        "model": answer.model or ",".join(answer.models),
        "access": answer.access,
        "as_of": answer.as_of.isoformat(),
        "verdict": answer.verdict,
        "rule_ids": answer.rule_ids(),
        "revision": answer.revision,
        "inputs": {
            "customer": answer.customer,
            "country": answer.country,
            "model": answer.model,
            "models": answer.models,
            "access": answer.access,
            "as_of": answer.as_of.isoformat(),
            "conditions": answer.conditions,
            "assumptions": answer.assumptions,
            "warnings": answer.warnings,
        },
        "answer": answer.to_dict(),
    }


# A Core INSERT of the table: the ORM unit of work costs more than the insert per answer.
DECISION_INSERT = insert(Decision.__table__)  # type: ignore[attr-defined]


class DecisionInsert:
    """The audit log's INSERT for one dialect, compiled once: rows go straight to the driver.

    The server writes every answer through here, so it skips what `Connection.execute` redoes
    per call (cache lookup, parameter objects, a result). Values are still converted by the
    columns' own types, exactly as `DECISION_INSERT` would convert them.
    """

    def __init__(self, dialect: Dialect) -> None:
        compiled = DECISION_INSERT.compile(dialect=dialect)
        self.sql = compiled.string
        columns = Decision.__table__.columns  # type: ignore[attr-defined]
        keys = list(compiled.positiontup or [c.name for c in columns])
        processors = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns}
        self._fields = [(k, processors[k]) for k in keys]
        self._positional = compiled.positiontup is not None

    def params(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """Return one row as the driver takes it."""
        values = [(k, p(row[k]) if p is not None else row[k]) for k, p in self._fields]
        return tuple(v for _, v in values) if self._positional else dict(values)

    def execute(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Chain and insert the rows in the connection's transaction; the caller commits."""
        chain_rows(conn, "decision", rows)
        conn.exec_driver_sql(self.sql, [self.params(r) for r in rows])

    @classmethod
    def of(cls, engine: Engine) -> DecisionInsert:
        """Return the statement for the engine's dialect, compiled on first use."""
        statement = _COMPILED.get(engine.dialect)
        if statement is None:
            statement = _COMPILED[engine.dialect] = cls(engine.dialect)
        return statement


# Per dialect object: its JSON encoder is part of the compiled statement's converters.
_COMPILED: weakref.WeakKeyDictionary[Dialect, DecisionInsert] = weakref.WeakKeyDictionary()


def list_decisions(
    *,
    session: Session,
    actor: str | None = None,
    customer: str | None = None,
    limit: int = 20,
    offset: int = 0,
    team: str | None = None,
) -> list[Decision]:
    """Return the newest decisions, optionally for one asker or one customer (id or name)."""
    query = (
        select(Decision)
        .order_by(col(Decision.created_at).desc(), col(Decision.id))
        .offset(offset)
        .limit(limit)
    )
    if actor:
        query = query.where(Decision.actor == actor)
    if team:
        query = query.where(Decision.team_id == team)
    if customer:
        query = query.where(
            or_(Decision.customer_id == customer, col(Decision.customer_name).ilike(customer))
        )
    return list(session.exec(query))
