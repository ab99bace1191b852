"""Rules read from CSV: a header row, one flat rule per row, lists split by ';' or spaces."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.domain.errors import FileError, InvalidFile
from bot.domain.rules.csv_rules import CONTROL_FIELDS, CONTROL_LIST_FIELDS, unguard_cell
from bot.domain.rules.parsed_file import ParsedFile, check_item
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.yaml_lines import LineDict
from bot.domain.rules.yaml_lines import line_dict as _line_dict

CSV_LIST_FIELDS = {
    "models.ids",
    "models.families",
    "models.vendors",
    "models.tags",
    "places.in",
    "places.not_in",
    "customer.hq_in",
    "customer.hq_not_in",
    "customer.tags",
    "access",
    "listed.lists",
    "listed.programs",
}
CSV_BOOL_FIELDS = {"models.open_weights", "unverified", "everywhere"}
CSV_FIELDS = (
    "id",
    "effect",
    "title",
    "models.ids",
    "models.families",
    "models.vendors",
    "models.tags",
    "models.open_weights",
    "places.in",
    "places.not_in",
    "customer.hq_in",
    "customer.hq_not_in",
    "customer.tags",
    "access",
    "effective_from",
    "effective_to",
    "citation",
    "url",
    "explanation",
    "unverified",
    "everywhere",
    *CONTROL_FIELDS,
    "listed.lists",
    "listed.programs",
    "listed.party",
)
CSV_LIST_FIELDS |= CONTROL_LIST_FIELDS
CSV_REQUIRED = ("id", "effect", "title")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def _csv_header(name: str, header: list[str], line: int) -> list[FileError]:
    if len(header) == 1 and ";" in header[0]:
        return [
            FileError(
                name,
                line,
                "header",
                "one column only: separate the columns with "
                "commas, not semicolons (save as 'CSV UTF-8, comma delimited')",
            )
        ]
    errors = []
    # Spreadsheets export trailing unnamed columns; they are ignored while their cells are empty.
    named = [c for c in header if c]
    for column in named:
        if column not in CSV_FIELDS:
            errors.append(
                FileError(
                    name,
                    line,
                    column,
                    (
                        f"unknown column '{column}'{did_you_mean(column, CSV_FIELDS)}; "
                        f"allowed: {', '.join(CSV_FIELDS)}"
                    ),
                )
            )
    for column in sorted({c for c in named if named.count(c) > 1}):
        errors.append(FileError(name, line, column, "column appears twice; keep one"))
    for column in CSV_REQUIRED:
        if column not in named:
            errors.append(
                FileError(
                    name,
                    line,
                    column,
                    f"required column '{column}' is missing; add it to the header row",
                )
            )
    return errors


def _csv_item(
    name: str, header: list[str], cells: list[str], line: int, index: int, errors: list[FileError]
) -> LineDict:
    """Build one rule in file form from a CSV row; every value is on the row's line."""
    item = _line_dict(line)
    row = dict(zip(header, cells, strict=False))
    label = row.get("id", "").strip() or str(index)
    for column, raw in zip(header, cells, strict=False):
        value, formula = unguard_cell(raw.strip())
        if not value:
            continue
        if formula is not None:  # refused, but read on: the row's other errors are reported too
            errors.append(FileError(name, line, f"rules[{label}].{column or '?'}", formula))
        if not column:
            errors.append(
                FileError(
                    name,
                    line,
                    f"rules[{label}]",
                    f"'{value}' is in a column without a name; name the column or move the value",
                )
            )
            continue
        parsed: Any = value
        if column in CSV_LIST_FIELDS:
            parsed = value.replace(";", " ").split()
        elif column in CSV_BOOL_FIELDS:
            if value.lower() not in _TRUE + _FALSE:
                errors.append(
                    FileError(
                        name,
                        line,
                        f"rules[{label}].{column}",
                        f"must be true or false, not '{value}'",
                    )
                )
                continue
            parsed = value.lower() in _TRUE
        target = item
        *parents, leaf = column.split(".")
        for p in parents:
            if p not in target:
                target[p] = _line_dict(line)
                target.lines[p] = line
            target = target[p]
        target[leaf] = parsed
        target.lines[leaf] = line
    return item


def _add_row(
    parsed: ParsedFile,
    header: list[str],
    cells: list[str],
    line: int,
    index: int,
    section: dict[str, dict[str, Any]],
) -> None:
    """Schema-check one row as a rule and add it (or its errors) to `parsed`."""
    name = parsed.name
    if len(cells) > len(header):
        label = dict(zip(header, cells, strict=False)).get("id", "").strip() or index
        parsed.errors.append(
            FileError(
                name,
                line,
                f"rules[{label}]",
                f"row has {len(cells)} cells but the header "
                f"has {len(header)} columns; quote cells that contain commas",
            )
        )
        return
    row_errors: list[FileError] = []
    item = _csv_item(name, header, cells, line, index, row_errors)
    parsed.errors += row_errors
    check_item(parsed, "rules", item, line, index, section)


def parse_csv(text: str, name: str, *, defer: bool = False) -> ParsedFile:
    """Parse a CSV of flat rules (a header row, one rule per row; lists split by ';' or spaces)."""
    parsed = ParsedFile(name)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    section: dict[str, dict[str, Any]] = {}
    index = 0
    try:
        start = 1
        for cells in reader:
            # A row starts right after the previous one ended (quoted cells may span lines).
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                header_errors = _csv_header(name, header, line)
                if header_errors:
                    raise InvalidFile(header_errors)
                continue
            _add_row(parsed, header, cells, line, index, section)
            index += 1
    except csv.Error as exc:
        parsed.errors.append(FileError(name, reader.line_num, "csv", f"cannot read: {exc}"))
    if header is None:
        raise InvalidFile(
            [
                FileError(
                    name,
                    1,
                    "file",
                    "empty CSV; the first row must name the "
                    f"columns, e.g. {','.join(CSV_REQUIRED)}",
                )
            ]
        )
    parsed.sections["rules"] = section
    if not defer:
        parsed.raise_errors()
    return parsed
