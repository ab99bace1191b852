"""Merging a parsed file into the current table, then checking the result before it is stored."""

from __future__ import annotations

import re

from bot.domain.errors import FileError, InvalidFile
from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.checks import validate_table
from bot.domain.rules.name_clashes import name_clash_problems
from bot.domain.rules.parsed_file import READ_BY_OTHERS, ParsedFile, sort_errors
from bot.domain.rules.table import ENTITY_TYPES, KINDS, RuleTable
from bot.domain.rules.yaml_lines import collection_paused


@collection_paused()
def merge(current: RuleTable, parsed: ParsedFile, *, replace: bool) -> RuleTable:
    """Return the table that importing the file would produce."""
    merged = RuleTable(revision=current.revision)
    for kind in KINDS:
        section = merged.section(kind)
        if not replace:
            section.update(current.section(kind))
        for eid, body in parsed.sections.get(kind, {}).items():
            section[eid] = ENTITY_TYPES[kind].from_dict(body)
    return merged


def _top_field(dotted: str) -> str:
    return re.split(r"[.\[]", dotted, maxsplit=1)[0]


def check_merged(merged: RuleTable, parsed: ParsedFile, places: PlaceCatalog) -> None:
    """Raise `InvalidFile` with the file's own errors and the merged table's problems."""
    errors = list(parsed.errors)
    for p in [*validate_table(merged, places), *name_clash_problems(merged)]:
        # An entity that failed the schema already has its error; what follows from it is noise.
        if (p.kind, p.id) in parsed.invalid or (p.ref is not None and p.ref in parsed.invalid):
            continue
        # Nor what follows from a field left out or stood in for (see `_validate`).
        if _top_field(p.field) in parsed.replaced.get((p.kind, p.id), ()):
            continue
        if p.ref is not None and parsed.replaced.get(p.ref, frozenset()) & READ_BY_OTHERS.get(
            p.ref[0], frozenset()
        ):
            continue
        where = f"{p.kind}[{p.id}].{p.field}" if p.field else f"{p.kind}[{p.id}]"
        if (p.kind, p.id) in parsed.lines:
            errors.append(
                FileError(parsed.name, parsed.line(p.kind, p.id, p.field), where, p.message)
            )
            continue
        # The entity is in the database; point at the entry in this file that broke it, if known.
        line = parsed.line(*p.ref, "") if p.ref is not None and p.ref in parsed.lines else 1
        errors.append(
            FileError(
                parsed.name,
                line,
                where,
                f"{p.message} ({p.kind}[{p.id}] is "
                "already in the database and this file breaks it; include a "
                "fixed version of it in this file)",
            )
        )
    if errors:
        raise InvalidFile(sort_errors(errors))
