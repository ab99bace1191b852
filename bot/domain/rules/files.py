"""Rule-table and customer files: read YAML (or CSV) with line numbers, check, and report.

Every error is `FILE:LINE: field: message`. A file is checked whole (syntax, unknown keys, types,
dates, duplicates) and then merged with the current table and checked again (references, ownership,
rules that can never match), so nothing half-valid ever reaches the database. `read_file` defers the
first kind of error to `check_merged`, so one run lists the errors of both kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain.errors import FileError, InvalidFile
from bot.domain.rules.csv_import import parse_csv
from bot.domain.rules.limits import (
    DEFAULT_MAX_FILE_BYTES,
    check_text_size,
    read_limited,
    shown,
)
from bot.domain.rules.parsed_file import ParsedFile, check_item
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import KINDS
from bot.domain.rules.yaml_events import load_yaml
from bot.domain.rules.yaml_lines import Duplicates, LineDict, LineList, collection_paused


def _key_paths(data: Any, prefix: str, out: dict[int, str]) -> None:
    """Record the field path of every mapping, naming list items by id where they have one."""
    if isinstance(data, dict):
        out[id(data)] = prefix
        for key, value in data.items():
            _key_paths(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            label = value.get("id") if isinstance(value, dict) else None
            label = label if isinstance(label, str) and prefix in KINDS else i
            _key_paths(value, f"{prefix}[{label}]", out)


def _type_word(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    return "text" if isinstance(value, str) else shown(value)


def _check_version(parsed: ParsedFile, data: LineDict) -> None:
    version = data.get("version")
    if "version" not in data:
        parsed.errors.append(
            FileError(parsed.name, 1, "version", "missing; add `version: 1` at the top of the file")
        )
    elif type(version) is not int or version != 1:
        parsed.errors.append(
            FileError(
                parsed.name,
                data.lines["version"],
                "version",
                f"unsupported version {shown(version)}; this Clearance reads "
                "version 1 files, so write `version: 1`",
            )
        )


def _check_duplicates(parsed: ParsedFile, data: LineDict, duplicates: Duplicates) -> None:
    """Report every key written twice in one mapping, naming the mapping's path."""
    paths: dict[int, str] = {}
    if duplicates:  # the paths name where a duplicate key is; a walk of the whole file
        _key_paths(data, "", paths)
    for line, key, mapping, first in duplicates:
        where = paths.get(id(mapping), "")
        parsed.errors.append(
            FileError(
                parsed.name,
                line,
                f"{where}.{key}" if where else key,
                f"duplicate key '{key}' (also on line {first}); YAML would keep only the last one, "
                "so remove one",
            )
        )


def _check_sections(parsed: ParsedFile, data: LineDict, allowed: tuple[str, ...]) -> None:
    """Report the top-level keys that are not a section this file may hold."""
    for key in data:
        if key == "version" or key in allowed:
            continue
        if key in KINDS:
            message = (
                f"'{key}' cannot be imported here: this command takes only "
                f"{', '.join(allowed)}; use `clearance rules import` for {key}"
            )
        else:
            message = (
                f"unknown section '{key}'{did_you_mean(key, allowed)}; "
                f"allowed: version, {', '.join(allowed)}"
            )
        parsed.errors.append(FileError(parsed.name, data.lines[key], key, message))


def _read_sections(parsed: ParsedFile, data: LineDict, allowed: tuple[str, ...]) -> None:
    """Schema-check the entries of every allowed section into `parsed`."""
    for kind in allowed:
        items = data.get(kind)
        if items is None:
            continue
        if not isinstance(items, LineList):
            parsed.errors.append(
                FileError(
                    parsed.name,
                    data.lines[kind],
                    kind,
                    f"must be a list of entries, one `- id: ...` each, not {_type_word(items)}",
                )
            )
            continue
        section: dict[str, dict[str, Any]] = {}
        for i, item in enumerate(items):
            check_item(parsed, kind, item, items.lines[i], i, section)
        parsed.sections[kind] = section


@collection_paused()
def parse_text(
    text: str,
    name: str,
    *,
    allowed: tuple[str, ...] = KINDS,
    defer: bool = False,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ParsedFile:
    """Parse and schema-check a version-1 file; raise `InvalidFile` unless `defer`."""
    # With `defer` only a syntax error raises; the rest wait in `errors` for `check_merged`.
    check_text_size(text, name, max_bytes=max_bytes)
    data, duplicates = load_yaml(text, name)
    parsed = ParsedFile(name)
    if not isinstance(data, LineDict):
        raise InvalidFile(
            [
                FileError(
                    name,
                    1,
                    "file",
                    "expected a mapping: `version: 1` and then "
                    f"sections such as {', '.join(allowed)}",
                )
            ]
        )
    _check_duplicates(parsed, data, duplicates)
    _check_version(parsed, data)
    _check_sections(parsed, data, allowed)
    _read_sections(parsed, data, allowed)
    if not defer:
        parsed.raise_errors()
    return parsed


def read_file(
    path: Path, *, allowed: tuple[str, ...] = KINDS, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> ParsedFile:
    """Read a file (YAML, or CSV of flat rules); schema errors wait for `check_merged`."""
    text = read_limited(path, max_bytes=max_bytes)
    if path.suffix.lower() == ".csv":
        if "rules" not in allowed:
            raise InvalidFile(
                [
                    FileError(
                        str(path), 1, "file", "a CSV file holds rules only; write customers as YAML"
                    )
                ]
            )
        return parse_csv(text, str(path), defer=True)
    return parse_text(text, str(path), allowed=allowed, defer=True, max_bytes=max_bytes)
