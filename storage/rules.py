"""Reading and writing the rule table: revisions, versioned rows, imports and exports.

Functions take a keyword-only `session`; the caller commits (one transaction per import), so an
import is all-or-nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.domain.errors import NotFound
from bot.domain.names.keys import customer_key
from bot.domain.rules.entities import Customer
from bot.domain.rules.table import KINDS, RuleTable
from storage.audit_chain import lock_chain
from storage.tables.rule_table import ROW_TYPES, CustomerRow, Place, Revision

if TYPE_CHECKING:
    from bot.domain.names.places import PlaceCatalog

DEFAULT_PACK = Path(__file__).parent / "packs" / "default.yaml"


def name_keys(customer: Customer) -> str:
    """Return the searchable name keys of a customer: "|key1|key2|"."""
    keys = dict.fromkeys(customer_key(n) for n in (customer.id, customer.name, *customer.aliases))
    return "|" + "|".join(k for k in keys if k) + "|"


def lock_rule_table(*, session: Session) -> None:
    """Hold the rule table's write lock until the session's transaction ends.

    Concurrent imports then apply one after the other, each to the table the one before wrote,
    instead of claiming the same next revision number (an advisory lock on PostgreSQL, the
    database's write lock, `BEGIN IMMEDIATE`, on SQLite).
    """
    lock_chain(session.connection(), "revision")


def current_revision(*, session: Session) -> int:
    """Return the newest revision number (0 for an empty database)."""
    return session.exec(select(func.max(Revision.number))).one() or 0


def load_table(
    *, session: Session, revision: int | None = None, customers: bool = True
) -> RuleTable:
    """Rebuild the rule table as it was at `revision` (default: the newest).

    With `customers=False` the customers are left out (see `storage.customers`). Revision 0 is
    the table before any import; a revision that does not exist raises `NotFound`.
    """
    newest = current_revision(session=session)
    rev = newest if revision is None else revision
    if not 0 <= rev <= newest:
        # Rows are valid up to "no end", so a later number would show today's table under it.
        raise NotFound(
            f"No revision {rev}: the newest is {newest}. See `clearance revisions list`."
        )
    data: dict[str, list[dict[str, Any]]] = {}
    for kind, row_type in ROW_TYPES.items():
        if kind == "customers" and not customers:
            continue
        # Only the JSON bodies: building ORM objects for 100,000 customers cost seconds.
        body = col(row_type.body)
        if rev == newest:
            query = select(body).where(col(row_type.rev_to).is_(None))
        else:
            query = select(body).where(
                row_type.rev_from <= rev,
                or_(col(row_type.rev_to).is_(None), col(row_type.rev_to) > rev),
            )
        data[kind] = list(session.exec(query))
    return RuleTable.from_dict(data, revision=rev)


@dataclass(frozen=True)
class Change:
    """One entity added, changed or removed by a revision."""

    kind: str
    id: str
    op: str  # "added" | "changed" | "removed"

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form stored on the revision."""
        return {"kind": self.kind, "id": self.id, "op": self.op}


def diff_tables(old: RuleTable, new: RuleTable) -> list[Change]:
    """Return the entity-level changes from one table to another."""
    changes = []
    for kind in KINDS:
        before, after = old.section(kind), new.section(kind)
        for eid in sorted(set(before) | set(after)):
            if eid not in before:
                changes.append(Change(kind, eid, "added"))
            elif eid not in after:
                changes.append(Change(kind, eid, "removed"))
            elif before[eid].to_dict() != after[eid].to_dict():
                changes.append(Change(kind, eid, "changed"))
    return changes


def summarize(changes: list[Change]) -> str:
    """Return a one-line summary such as "rules: 2 added, 1 changed"."""
    if not changes:
        return "no changes"
    parts = []
    for kind in KINDS:
        counts = {
            op: sum(1 for c in changes if c.kind == kind and c.op == op)
            for op in ("added", "changed", "removed")
        }
        if any(counts.values()):
            parts.append(f"{kind}: " + ", ".join(f"{n} {op}" for op, n in counts.items() if n))
    return "; ".join(parts)


def write_revision(
    *,
    session: Session,
    old: RuleTable,
    new: RuleTable,
    author: str,
    now: datetime,
    summary: str | None = None,
    source: str | None = None,
) -> Revision:
    """Record `new` as the next revision: close changed rows, insert new ones."""
    lock_rule_table(session=session)
    changes = diff_tables(old, new)
    number = current_revision(session=session) + 1
    text = summarize(changes) if summary is None else f"{summary} ({summarize(changes)})"
    revision = Revision(
        number=number,
        author=author,
        created_at=now,
        summary=text,
        source=source,
        changes=[c.to_dict() for c in changes],
    )
    session.add(revision)
    session.flush()
    for change in changes:
        row_type = ROW_TYPES[change.kind]
        if change.op in ("changed", "removed"):
            row = session.exec(
                select(row_type).where(row_type.key == change.id, col(row_type.rev_to).is_(None))
            ).one()
            row.rev_to = number
            session.add(row)
        if change.op in ("added", "changed"):
            entity = new.section(change.kind)[change.id]
            row = row_type(key=change.id, rev_from=number, body=entity.to_dict())
            if isinstance(row, CustomerRow):
                row.names = name_keys(entity)
            session.add(row)
    session.flush()
    new.revision = number
    return revision


def seed_places(*, session: Session, places: PlaceCatalog) -> int:
    """Store the built-in place catalog (idempotent); return how many places were added."""
    existing = set(session.exec(select(Place.code)))
    added = 0
    for place in places.places.values():
        if place.code not in existing:
            session.add(
                Place(
                    code=place.code,
                    name=place.name,
                    kind=place.kind,
                    parent=place.parent,
                    aliases=list(place.aliases),
                )
            )
            added += 1
    return added


def list_revisions(*, session: Session, limit: int = 20) -> list[Revision]:
    """Return the newest revisions first."""
    return list(session.exec(select(Revision).order_by(col(Revision.number).desc()).limit(limit)))


def get_revision(*, session: Session, number: int) -> Revision | None:
    """Return one revision."""
    return session.get(Revision, number)
