"""Changing the rule table from files and Slack: check, then record one revision.

Each function takes a keyword-only `session`; the caller commits, so a change is all-or-nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.domain.errors import BotError, FileError, InvalidFile, NotFound
from bot.domain.names.places import build_place_catalog
from bot.domain.rules.checks import validate_table
from bot.domain.rules.table import KINDS
from storage.rules import load_table, lock_rule_table, write_revision
from storage.tables.rule_table import Revision

if TYPE_CHECKING:
    from bot.domain.rules.parsed_file import ParsedFile

# The file modules (and YAML) are imported by the functions that read files, not here:
# `clearance ask` imports this module and only reads the table.


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
    from bot.domain.rules.merging import check_merged, merge

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


ENTITY_OFFSET = 2  # lines before the entity in the document `import_entity_text` builds


_ENTITY_FILE = "input"  # the file name errors in typed text report


def _shifted(errors: list[FileError]) -> InvalidFile:
    """Return errors renumbered to the lines of the text as typed."""
    return InvalidFile(
        [FileError(e.file, max(1, e.line - ENTITY_OFFSET), e.field, e.message) for e in errors]
    )


def _parse_entity(kind: str, text: str) -> ParsedFile:
    """Parse one entity's YAML as a one-entry rule file, deferring its schema errors."""
    from bot.domain.rules.files import parse_text

    lines = text.strip("\n").splitlines() or [""]
    body = "\n".join(("- " if i == 0 else "  ") + line for i, line in enumerate(lines))
    try:
        # Schema errors wait for `check_merged`, which adds the table's own problems (unknown
        # models, groups, ...): the modal lists every error, as `rules validate` does.
        return parse_text(
            f"version: 1\n{kind}:\n{body}\n", _ENTITY_FILE, allowed=(kind,), defer=True
        )
    except InvalidFile as exc:
        raise _shifted(exc.errors) from None


def _id_errors(*, eid: str, mode: str, expected_id: str | None, taken: bool) -> list[FileError]:
    """Return what is wrong with an entry's id: taken on add, or changed on edit."""
    errors = []
    if mode == "add" and taken:
        errors.append(
            FileError(_ENTITY_FILE, 1 + ENTITY_OFFSET, "id", f"'{eid}' already exists; use edit")
        )
    if mode == "edit" and eid != expected_id:
        errors.append(
            FileError(
                _ENTITY_FILE,
                1 + ENTITY_OFFSET,
                "id",
                f"the id must stay '{expected_id}' (add a new entry to use another id)",
            )
        )
    return errors


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
    parsed = _parse_entity(kind, text)
    ids = list(parsed.sections.get(kind, {}))
    current = load_table(session=session)
    if len(ids) != 1:
        if parsed.errors:
            raise _shifted(parsed.errors)
        raise InvalidFile([FileError(_ENTITY_FILE, 1, kind, "write exactly one entry")])
    eid = ids[0]
    id_errors = _id_errors(
        eid=eid, mode=mode, expected_id=expected_id, taken=eid in current.section(kind)
    )
    if id_errors:
        # Reported with the entry's other errors, so one save shows everything to fix.
        parsed.errors[:0] = id_errors
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
        raise _shifted(exc.errors) from None


def retire_rule(
    *, session: Session, rule_id: str, author: str, now: datetime, reason: str
) -> Revision:
    """End a rule yesterday (UTC) so it stops applying today but still answers for the past."""
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
