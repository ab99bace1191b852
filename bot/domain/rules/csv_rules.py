"""Rules as CSV for spreadsheets: written flat, one rule a row, and guarded against formulas.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) as
a formula, so an exported cell that starts so is written behind an apostrophe, which spreadsheets
show as text and the import takes off again. An imported cell that starts so without the
apostrophe is refused rather than stored as it is.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.domain.errors import BotError
from bot.domain.rules.table import RuleTable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
# Parts of a rule beyond the columns of a hand-written CSV file, so that an export holds all of it.
CONTROL_FIELDS = (
    "customer.controlled_from.in",
    "customer.controlled_from.not_in",
    "customer.controlled_from.more_than",
    "customer.controlled_from.at_least",
)
CONTROL_LIST_FIELDS = frozenset(CONTROL_FIELDS[:2])


def guard_cell(text: str) -> str:
    """Return a cell a spreadsheet shows as text, never runs as a formula."""
    return GUARD + text if text.startswith(FORMULA_START) else text


def unguard_cell(text: str) -> tuple[str, str | None]:
    """Return an imported cell's value and, when it would run as a formula, what to do instead."""
    if text.startswith(GUARD) and text[1:].startswith(FORMULA_START):
        return text[1:], None
    if text.startswith(FORMULA_START):
        return text, (
            f"'{text[:40]}' starts with '{text[0]}', which a spreadsheet runs as a formula; "
            f"if it is text, write it with an apostrophe first ({GUARD}{text[:20]})"
        )
    return text, None


def _flatten(data: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(value, name, out)
        else:
            out[name] = value


def _cell(rule_id: str, column: str, value: Any) -> str:
    if isinstance(value, list):
        items = [str(v) for v in value]
        if not items or any(not i or any(c.isspace() or c == ";" for c in i) for i in items):
            raise BotError(
                f"Rule '{rule_id}' cannot be written as CSV: its {column} list "
                f"{'is empty' if not items else 'has an item with a space or ;'}. "
                "Export it as YAML instead (a file name ending in .yaml)."
            )
        return guard_cell(" ".join(items))
    if isinstance(value, bool):
        return "true" if value else "false"
    return guard_cell(str(value))


def rules_to_csv(table: RuleTable, columns: tuple[str, ...]) -> str:
    """Return the table's rules as CSV with a header row; raise `BotError` if one does not fit."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for rule_id in sorted(table.rules):
        flat: dict[str, Any] = {}
        _flatten(table.rules[rule_id].to_dict(), "", flat)
        unknown = sorted(set(flat) - set(columns))
        if unknown:
            raise BotError(
                f"Rule '{rule_id}' cannot be written as CSV: it has {', '.join(unknown)}. "
                "Export it as YAML instead (a file name ending in .yaml)."
            )
        writer.writerow([_cell(rule_id, c, flat[c]) if c in flat else "" for c in columns])
    return out.getvalue()
