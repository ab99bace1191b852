"""A parsed file: its entities in file form, where each one is, and the errors found so far."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.domain.errors import FileError, InvalidFile
from bot.domain.rules.limits import shown
from bot.domain.rules.provenance import source_problems
from bot.domain.rules.schema import SCHEMAS
from bot.domain.rules.schema_messages import pydantic_errors
from bot.domain.rules.yaml_lines import LineDict
from bot.domain.rules.yaml_lines import line_of as _line_of


def _path_of(dotted: str) -> tuple[str | int, ...]:
    """Split "owners[0].share" into ("owners", 0, "share")."""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", dotted))


@dataclass
class ParsedFile:
    """A checked file: its entities in file form by kind and id, where each one is, and errors."""

    name: str
    sections: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    lines: dict[tuple[str, str], LineDict] = field(default_factory=dict)
    # The file's own errors (a syntax error raises at once); `check_merged` reports them together
    # with the semantic ones, so one run lists both.
    errors: list[FileError] = field(default_factory=list)
    # Entities that failed the schema: references to them are not reported again as unknown.
    invalid: set[tuple[str, str]] = field(default_factory=set)
    # Entities kept without (or with stand-ins for) the fields that failed the schema, so that
    # their other problems are reported too: those fields' problems are not reported again.
    replaced: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def line(self, kind: str, eid: str, dotted: str) -> int:
        """Return the line of a field of an entity (or of the entity) in the file."""
        node = self.lines.get((kind, eid))
        if node is None:
            return 1
        return _line_of(node, _path_of(dotted), node.line)

    def raise_errors(self) -> None:
        """Raise `InvalidFile` if the file has errors of its own."""
        if self.errors:
            raise InvalidFile(sort_errors(self.errors))


def sort_errors(errors: list[FileError]) -> list[FileError]:
    return sorted(errors, key=lambda e: e.line)


def plain_data(value: Any) -> Any:
    """Drop the line-number wrappers (pydantic and JSON want plain containers)."""
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value


def _drop(data: Any, loc: tuple[Any, ...]) -> None:
    """Remove the key at `loc` from plain nested data."""
    for part in loc[:-1]:
        data = data[part]
    data.pop(loc[-1], None)


# Entries kept when a field fails the schema, so that their other fields are still checked
# against the table (the file is refused all the same): rules and customers, whose optional
# fields no other entry's checks read. A bad optional field is left out; a bad required one
# gets a stand-in. Models and groups are not kept: rules' selectors and places read their
# tags, flags and members, and leaving one out would report errors that are not there.
_STAND_INS: dict[str, dict[str, Any]] = {
    "rules": {"effect": "review", "title": ""},
    "customers": {"name": ""},
}


# Fields of such an entry that other entries' checks read: a license names only
# license_required rules, so it is not judged against a stand-in effect.
READ_BY_OTHERS: dict[str, frozenset[str]] = {"rules": frozenset({"effect"})}


def _validate(
    kind: str, item: LineDict
) -> tuple[BaseModel | None, ValidationError | None, frozenset[str]]:
    """Validate one entity; on errors, also return it without the bad fields, when it can be.

    The third value names the top-level fields left out or stood in for: problems about them
    are not reported again. Unknown keys are only dropped: the entity is otherwise whole.
    """
    schema = SCHEMAS[kind]
    try:
        return schema.model_validate(item), None, frozenset()  # line-numbered, still dicts
    except ValidationError as error:
        exc = error
    plain = plain_data(item)
    unknown = [e for e in exc.errors() if e["type"] == "extra_forbidden"]
    other = [e for e in exc.errors() if e["type"] != "extra_forbidden"]
    stand_ins = _STAND_INS.get(kind, {})
    bad = {str(e["loc"][0]) for e in other if e["loc"]}
    required = {f for f in bad if f in schema.model_fields and schema.model_fields[f].is_required()}
    if other and (
        kind not in _STAND_INS or not all(e["loc"] for e in other) or required - stand_ins.keys()
    ):
        return None, exc, frozenset()  # not kept: an id, or a kind others read (_STAND_INS)
    for e in unknown:
        _drop(plain, tuple(e["loc"]))
    for name in bad:
        plain.pop(name, None)
        if name in stand_ins:
            plain[name] = stand_ins[name]
    try:
        return schema.model_validate(plain), exc, frozenset(bad)
    except ValidationError:
        return None, exc, frozenset()


def check_item(
    parsed: ParsedFile,
    kind: str,
    item: Any,
    line: int,
    index: int,
    section: dict[str, dict[str, Any]],
) -> None:
    """Schema-check one entity of a section and add it (or its errors) to `parsed`."""
    name = parsed.name
    if not isinstance(item, LineDict):
        parsed.errors.append(
            FileError(
                name,
                line,
                f"{kind}[{index}]",
                f"must be a mapping with id: ... and the {kind} fields, not {shown(item)}",
            )
        )
        return
    raw_id = item.get("id")
    label = str(raw_id) if isinstance(raw_id, str | int) else str(index)
    model, exc, replaced = _validate(kind, item)
    if exc is not None:
        parsed.errors += pydantic_errors(name, item, kind, label, exc)
    if model is None:
        if isinstance(raw_id, str):
            parsed.invalid.add((kind, raw_id))
        return
    eid = str(raw_id)
    if eid in section:
        first = parsed.lines[(kind, eid)].lines.get("id", parsed.lines[(kind, eid)].line)
        parsed.errors.append(
            FileError(
                name,
                item.lines.get("id", line),
                f"{kind}[{eid}].id",
                f"duplicate id '{eid}' (first used on line {first}); give each entry its own id",
            )
        )
        return
    section[eid] = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    parsed.lines[(kind, eid)] = item
    for where, message in source_problems(kind, section[eid]):
        parsed.errors.append(
            FileError(name, _line_of(item, (where,), line), f"{kind}[{eid}].{where}", message)
        )
    if replaced:
        parsed.replaced[(kind, eid)] = replaced
