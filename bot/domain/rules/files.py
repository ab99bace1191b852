"""Rule-table and customer files: read YAML (or CSV) with line numbers, check, and report.

Every error is `FILE:LINE: field: message`. A file is checked whole (syntax, unknown keys, types,
dates, duplicates) and then merged with the current table and checked again (references, ownership,
rules that can never match), so nothing half-valid ever reaches the database. `read_file` defers the
first kind of error to `check_merged`, so one run lists the errors of both kinds.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bot.domain.errors import FileError, InvalidFile
from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.checks import validate_table
from bot.domain.rules.conditions import LISTED_PARTIES
from bot.domain.rules.csv_rules import CONTROL_FIELDS, CONTROL_LIST_FIELDS, unguard_cell
from bot.domain.rules.entities import PARTY_TYPES
from bot.domain.rules.limits import (
    DEFAULT_MAX_FILE_BYTES,
    check_text_size,
    cut,
    read_limited,
    shown,
)
from bot.domain.rules.name_clashes import name_clash_problems
from bot.domain.rules.provenance import source_problems
from bot.domain.rules.table import EFFECTS, ENTITY_TYPES, KINDS, RuleTable
from bot.domain.rules.yaml_events import load_yaml
from bot.domain.rules.yaml_lines import LineDict, LineList, collection_paused
from bot.domain.rules.yaml_lines import line_dict as _line_dict
from bot.domain.rules.yaml_lines import line_of as _line_of

# ---------------------------------------------------------------- paths and lines


def _path_of(dotted: str) -> tuple[str | int, ...]:
    """Split "owners[0].share" into ("owners", 0, "share")."""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", dotted))


def _dotted(loc: tuple[Any, ...]) -> str:
    """Join a path as people write it: owners[0].share."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---------------------------------------------------------------- the file schema


def _iso_date(value: Any) -> Any:
    """Accept only YYYY-MM-DD (a bare number would otherwise be read as Unix seconds)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = value.strip() if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(
            f"'{cut(str(value))}' is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31"
        )
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"'{cut(str(value))}' is not a real date ({exc}); write it as YYYY-MM-DD"
        ) from None


Code = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$", max_length=200)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class VendorIn(_Strict):
    id: Id
    name: str | None = None
    hq: str | None = None


class GroupVersionIn(_Strict):
    from_: IsoDate | None = Field(default=None, alias="from")
    to: IsoDate | None = None
    members: list[Code]
    citation: str | None = None


class GroupIn(_Strict):
    id: Id
    name: str
    members: list[Code]
    citation: str | None = None
    url: str | None = None
    effective_from: IsoDate | None = None
    effective_to: IsoDate | None = None
    unverified: bool = False
    notes: str | None = None
    except_: list[Code] = Field(default_factory=list, alias="except")
    versions: list[GroupVersionIn] = []
    known_from: IsoDate | None = None


class ModelIn(_Strict):
    id: Id
    name: str
    vendor: str
    family: str
    open_weights: bool = False
    multimodal: bool = False
    tags: list[str] = []
    aliases: list[str] = []
    api_ids: list[str] = []
    cloud_ids: list[str] = []
    released: IsoDate | None = None
    license: str | None = None
    unverified: bool = False
    retired: IsoDate | None = None


class OwnerIn(_Strict):
    owner: Id
    share: float


class UsageIn(_Strict):
    model: str
    country: str
    access: Literal["api", "weights", "hosted"] = "api"


class CustomerIn(_Strict):
    id: Id
    name: str
    type: Literal["org", "person"] = "org"
    hq: str
    aliases: list[str] = []
    tags: list[str] = []
    owners: list[OwnerIn] = []
    uses: list[UsageIn] = []


class ModelSelectorIn(_Strict):
    ids: list[str] = []
    families: list[str] = []
    vendors: list[str] = []
    tags: list[str] = []
    open_weights: bool | None = None


class PlacesIn(_Strict):
    in_: list[Code] | None = Field(default=None, alias="in")
    not_in: list[Code] = []


class ControlIn(_Strict):
    in_: list[Code] | None = Field(default=None, alias="in")
    not_in: list[Code] = []
    more_than: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> ControlIn:
        if self.more_than is not None and self.at_least is not None:
            raise ValueError("give either more_than or at_least, not both")
        if self.in_ is None and not self.not_in:
            raise ValueError("say where control comes from: add in: [...] or not_in: [...]")
        return self


class CustomerCondIn(_Strict):
    hq_in: list[Code] | None = None
    hq_not_in: list[Code] = []
    tags: list[str] = []
    controlled_from: ControlIn | None = None


class ListedIn(_Strict):
    lists: list[Code] = Field(min_length=1)
    programs: list[Code] = []
    party: Literal["customer", "owners", "either"] = "customer"


class RuleIn(_Strict):
    id: Id
    effect: Literal["allow", "review", "license_required", "deny"]
    title: str
    models: ModelSelectorIn | None = None
    places: PlacesIn | None = None
    customer: CustomerCondIn | None = None
    access: list[str] | None = None
    effective_from: IsoDate | None = None
    effective_to: IsoDate | None = None
    citation: str = ""
    url: str = ""
    explanation: str = ""
    unverified: bool = False
    everywhere: bool = False
    listed: ListedIn | None = None


class LicenseIn(_Strict):
    id: Id
    customer: Id
    rules: list[Id] = Field(min_length=1)
    models: ModelSelectorIn | None = None
    places: list[Code] | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    reference: str | None = None


SCHEMAS: dict[str, type[_Strict]] = {
    "vendors": VendorIn,
    "groups": GroupIn,
    "models": ModelIn,
    "customers": CustomerIn,
    "rules": RuleIn,
    "licenses": LicenseIn,
}

# ---------------------------------------------------------------- loading


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
            raise InvalidFile(_sorted(self.errors))


def _sorted(errors: list[FileError]) -> list[FileError]:
    return sorted(errors, key=lambda e: e.line)


def _plain(value: Any) -> Any:
    """Drop the line-number wrappers (pydantic and JSON want plain containers)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Return the schema classes inside an annotation such as `list[OwnerIn] | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _schema_at(kind: str, loc: tuple[Any, ...]) -> type[BaseModel]:
    """Return the schema class that holds the last element of `loc`."""
    schema: type[BaseModel] = SCHEMAS[kind]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = schema.model_fields
        key = "in_" if part == "in" else part
        if key not in fields:
            break
        inner = _models_in(fields[key].annotation)
        if inner:
            schema = inner[0]
    return schema


def _allowed_keys(schema: type[BaseModel]) -> list[str]:
    return sorted(f.alias or k for k, f in schema.model_fields.items())


def _message(kind: str, loc: tuple[Any, ...], err: Any) -> str:
    """Turn a pydantic error into what is wrong and how to fix it."""
    kind_of, value = err["type"], err.get("input")
    leaf = str(loc[-1]) if loc else ""
    if kind_of == "extra_forbidden":
        allowed = _allowed_keys(_schema_at(kind, loc))
        return (
            f"unknown key '{leaf}'{_did_you_mean(leaf, allowed)}; "
            f"allowed here: {', '.join(allowed)}"
        )
    if kind_of == "missing":
        return f"required field '{leaf}' is missing; add `{leaf}: ...` to this entry"
    if kind_of == "literal_error" and leaf == "effect":
        return (
            f"unknown effect '{cut(str(value))}'{_did_you_mean(str(value)[:200], EFFECTS)}; "
            "use allow, review, license_required or deny"
        )
    if kind_of == "literal_error" and kind == "customers" and leaf == "type":
        return (
            f"unknown type '{cut(str(value))}'{_did_you_mean(str(value)[:200], PARTY_TYPES)}; "
            "use org or person"
        )
    if kind_of == "literal_error" and kind == "rules" and leaf == "party":
        return (
            f"unknown party '{cut(str(value))}'{_did_you_mean(str(value)[:200], LISTED_PARTIES)}; "
            "use customer, owners or either"
        )
    if kind_of == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"'{cut(str(value))}' is not allowed here; use {expected}"
    if kind_of == "list_type":
        return f"must be a list such as [a, b], not {shown(value)}; write [{cut(str(value))}] for one item"
    if kind_of in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping (key: value lines), not {shown(value)}"
    if kind_of == "string_type":
        return f"must be text, not {shown(value)}; put it in quotes"
    if kind_of in ("bool_type", "bool_parsing"):
        return f"must be true or false, not {shown(value)}"
    if kind_of in ("float_type", "float_parsing"):
        return f"must be a number such as 50, not {shown(value)}"
    if kind_of == "string_pattern_mismatch":
        return (
            f"'{cut(str(value))}' is not a valid id; use letters, digits and _ . : @ - "
            "(no spaces), starting with a letter or digit"
        )
    if kind_of == "string_too_short":
        return "must not be empty"
    if kind_of == "too_short":
        return "must not be empty; name at least one"
    msg = str(err["msg"])
    return cut(msg.removeprefix("Value error, "), 300)


def _pydantic_errors(
    name: str, node: LineDict, kind: str, label: str, exc: ValidationError
) -> list[FileError]:
    out = []
    for err in exc.errors():
        loc = tuple("in" if p == "in_" else p for p in err["loc"])
        line = _line_of(node, loc, node.line)
        where = f"{kind}[{label}]" + (f".{_dotted(loc)}" if loc else "")
        out.append(FileError(name, line, where, _message(kind, loc, err)))
    return out


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
_READ_BY_OTHERS: dict[str, frozenset[str]] = {"rules": frozenset({"effect"})}


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
    plain = _plain(item)
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


def _check_item(
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
        parsed.errors += _pydantic_errors(name, item, kind, label, exc)
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
    paths: dict[int, str] = {}
    if duplicates:  # the paths name where a duplicate key is; a walk of the whole file
        _key_paths(data, "", paths)
    for line, key, mapping, first in duplicates:
        where = paths.get(id(mapping), "")
        parsed.errors.append(
            FileError(
                name,
                line,
                f"{where}.{key}" if where else key,
                f"duplicate key '{key}' (also on line {first}); YAML would keep only the last one, "
                "so remove one",
            )
        )
    _check_version(parsed, data)
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
                f"unknown section '{key}'{_did_you_mean(key, allowed)}; "
                f"allowed: version, {', '.join(allowed)}"
            )
        parsed.errors.append(FileError(name, data.lines[key], key, message))
    for kind in allowed:
        items = data.get(kind)
        if items is None:
            continue
        if not isinstance(items, LineList):
            parsed.errors.append(
                FileError(
                    name,
                    data.lines[kind],
                    kind,
                    f"must be a list of entries, one `- id: ...` each, not {_type_word(items)}",
                )
            )
            continue
        section: dict[str, dict[str, Any]] = {}
        for i, item in enumerate(items):
            _check_item(parsed, kind, item, items.lines[i], i, section)
        parsed.sections[kind] = section
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


# ---------------------------------------------------------------- merging and checking


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
        if p.ref is not None and parsed.replaced.get(p.ref, frozenset()) & _READ_BY_OTHERS.get(
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
        raise InvalidFile(_sorted(errors))


# ---------------------------------------------------------------- CSV rules

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
                        f"unknown column '{column}'{_did_you_mean(column, CSV_FIELDS)}; "
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
                index += 1
                continue
            row_errors: list[FileError] = []
            item = _csv_item(name, header, cells, line, index, row_errors)
            parsed.errors += row_errors
            _check_item(parsed, "rules", item, line, index, section)
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
