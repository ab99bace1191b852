"""The append-only decision audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, or_, select

from bot.answers import Answer
from storage.models import Decision


def decision_row(answer: Answer, *, actor: str, now: datetime) -> dict[str, Any]:
    """Return the audit-log row for an answer, as column values."""
    return {
        "id": answer.decision_id, "created_at": now, "actor": actor, "question": answer.question,
        "customer_id": answer.customer.get("id"), "customer_name": answer.customer.get("name"),
        "country": answer.country, "model": answer.model or ",".join(answer.models),
        "access": answer.access, "as_of": answer.as_of.isoformat(), "verdict": answer.verdict,
        "rule_ids": answer.rule_ids(), "revision": answer.revision,
        "inputs": {"customer": answer.customer, "country": answer.country, "model": answer.model,
                "models": answer.models, "access": answer.access,
                "as_of": answer.as_of.isoformat(), "conditions": answer.conditions,
                "assumptions": answer.assumptions, "warnings": answer.warnings},
        "answer": answer.to_dict(),
    }


# A Core INSERT of the table: the ORM unit of work cost about half a millisecond per answer.
DECISION_INSERT = insert(Decision.__table__)  # type: ignore[attr-defined]


def record_decisions(*, session: Session, rows: list[dict[str, Any]]) -> None:
    """Append many decisions in one statement."""
    if rows:
        session.execute(DECISION_INSERT, rows)


def list_decisions(*, session: Session, actor: str | None = None, customer: str | None = None,
                   limit: int = 20) -> list[Decision]:
    """Return the newest decisions, optionally for one asker or one customer (id or name)."""
    query = select(Decision).order_by(col(Decision.created_at).desc()).limit(limit)
    if actor:
        query = query.where(Decision.actor == actor)
    if customer:
        query = query.where(or_(Decision.customer_id == customer,
                                col(Decision.customer_name).ilike(customer)))
    return list(session.exec(query))
