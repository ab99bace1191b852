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

from bot.domain.asking.customer_names import customer_key
from bot.domain.asking.places import build_place_catalog
from bot.domain.errors import NotFound
from bot.domain.rules.table import KINDS, Customer, RuleTable
from storage.audit_chain import lock_chain
from storage.models import ROW_TYPES, CustomerRow, Place, Revision

if TYPE_CHECKING:
    # Imported by the functions that read files: `clearance ask` only reads the table.
    from bot.domain.rules.files import ParsedFile

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


def import_parsed(
    *,
    session: Session,
    parsed: ParsedFile,
    replace: bool,
    author: str,
    now: datetime,
    summary: str | None = None,
) -> Revision:
    """Check a parsed file against the current table and apply it as one revision."""
    from bot.domain.rules.files import check_merged, merge

    lock_rule_table(session=session)  # before reading: the import applies to the newest table
    current = load_table(session=session)
    merged = merge(current, parsed, replace=replace)
    check_merged(merged, parsed, build_place_catalog())
    mode = "replace" if replace else "import"
    return write_revision(
        session=session,
        old=current,
        new=merged,
        author=author,
        now=now,
        summary=summary or f"{mode} {Path(parsed.name).name}",
        source=parsed.name,
    )


def import_file(
    *,
    session: Session,
    path: Path,
    replace: bool,
    author: str,
    now: datetime,
    allowed: tuple[str, ...] = KINDS,
) -> Revision:
    """Read, check and apply a rule-table file as one revision; raise `InvalidFile` on error."""
    from bot.domain.rules.files import read_file

    parsed = read_file(path, allowed=allowed)
    if allowed != KINDS and replace:
        raise ValueError("replace is only for whole rule tables")
    return import_parsed(session=session, parsed=parsed, replace=replace, author=author, now=now)


def seed_places(*, session: Session) -> int:
    """Store the built-in place catalog (idempotent); return how many places were added."""
    existing = set(session.exec(select(Place.code)))
    added = 0
    for place in build_place_catalog().places.values():
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


ENTITY_OFFSET = 2  # lines before the entity in the document `import_entity_text` builds


def import_entity_text(
    *,
    session: Session,
    kind: str,
    text: str,
    mode: str,
    expected_id: str | None,
    author: str,
    now: datetime,
    reason: str,
) -> Revision:
    """Apply one entity written as YAML (from a Slack modal) exactly as a file import would.

    `mode` is "add" (the id must be new) or "edit" (the id must stay `expected_id`). Errors name
    lines of the text as typed.
    """
    from bot.domain.errors import FileError, InvalidFile
    from bot.domain.rules.files import parse_text

    lines = text.strip("\n").splitlines() or [""]
    body = "\n".join(("- " if i == 0 else "  ") + line for i, line in enumerate(lines))
    name = "input"
    try:
        parsed = parse_text(f"version: 1\n{kind}:\n{body}\n", name, allowed=(kind,))
    except InvalidFile as exc:
        raise InvalidFile(
            [
                FileError(e.file, max(1, e.line - ENTITY_OFFSET), e.field, e.message)
                for e in exc.errors
            ]
        ) from None
    ids = list(parsed.sections.get(kind, {}))
    current = load_table(session=session)
    if len(ids) != 1:
        raise InvalidFile([FileError(name, 1, kind, "write exactly one entry")])
    eid = ids[0]
    if mode == "add" and eid in current.section(kind):
        raise InvalidFile([FileError(name, 1, "id", f"'{eid}' already exists; use edit")])
    if mode == "edit" and eid != expected_id:
        raise InvalidFile(
            [
                FileError(
                    name,
                    1,
                    "id",
                    f"the id must stay '{expected_id}' (add a new entry to use another id)",
                )
            ]
        )
    try:
        return import_parsed(
            session=session,
            parsed=parsed,
            replace=False,
            author=author,
            now=now,
            summary=f"{mode} {kind[:-1]} {eid}: {reason}",
        )
    except InvalidFile as exc:
        raise InvalidFile(
            [
                FileError(e.file, max(1, e.line - ENTITY_OFFSET), e.field, e.message)
                for e in exc.errors
            ]
        ) from None


def retire_rule(
    *, session: Session, rule_id: str, author: str, now: datetime, reason: str
) -> Revision:
    """End a rule yesterday (UTC) so it stops applying today but still answers for the past."""
    from dataclasses import replace
    from datetime import timedelta

    from bot.domain.errors import BotError, NotFound
    from bot.domain.rules.checks import validate_table

    lock_rule_table(session=session)
    current = load_table(session=session)
    rule = current.rules.get(rule_id)
    if rule is None:
        raise NotFound(f"No rule with id '{rule_id}'.")
    end = now.date() - timedelta(days=1)
    if rule.effective_to is not None and rule.effective_to <= end:
        raise BotError(f"Rule '{rule_id}' already ended on {rule.effective_to}.")
    new = load_table(session=session)
    if rule.effective_from is not None and rule.effective_from > end:
        del new.rules[rule_id]  # it never came into force: retiring it removes it
    else:
        new.rules[rule_id] = replace(rule, effective_to=end)
    problems = validate_table(new, build_place_catalog())
    if problems:
        raise BotError(
            "Retiring it would break: "
            + "; ".join(f"{p.kind} {p.id}: {p.message}" for p in problems[:5])
        )
    return write_revision(
        session=session,
        old=current,
        new=new,
        author=author,
        now=now,
        summary=f"retire rule {rule_id}: {reason}",
    )
