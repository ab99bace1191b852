"""Rule-table and customer files: read YAML (or CSV) with line numbers, check, and report.

Every error is `FILE:LINE: field: message`. A file is checked whole (syntax, unknown keys, types,
dates, duplicates) and then merged with the current table and checked again (references, ownership,
rules that can never match), so nothing half-valid ever reaches the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import FileError, InvalidFile
from bot.places import PlaceCatalog
from bot.ruletable import ENTITY_TYPES, KINDS, RuleTable
from bot.validate import validate_table

# ---------------------------------------------------------------- YAML with line numbers


class LineDict(dict[str, Any]):
    """A mapping that remembers the line of each key."""

    line: int = 0
    lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that remembers the line of each item."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader with line numbers, duplicate-key errors and YAML 1.2 booleans."""

    duplicates: list[tuple[int, str]]


# YAML 1.1 reads NO (Norway), yes, on and off as booleans; only true/false are booleans here.
_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in out:
            loader.duplicates.append((line, str(key)))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)  # type: ignore[arg-type]
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)  # type: ignore[arg-type]


def _line_of(data: Any, path: tuple[Any, ...], default: int) -> int:
    """Return the line of the deepest element of `path` that has one."""
    line = default
    for key in path:
        if isinstance(data, LineDict) and key in data:
            line = data.lines.get(key, line)
            data = data[key]
        elif isinstance(data, LineList) and isinstance(key, int) and key < len(data):
            line = data.lines[key]
            data = data[key]
        else:
            break
    return line


# ---------------------------------------------------------------- the file schema

Code = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$", max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class VendorIn(_Strict):
    id: Id
    name: str | None = None
    hq: str | None = None


class GroupIn(_Strict):
    id: Id
    name: str
    members: list[Code]
    citation: str | None = None
    url: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    unverified: bool = False
    notes: str | None = None


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
    released: date | None = None
    license: str | None = None
    unverified: bool = False


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
            raise ValueError("give the places: in: [...] or not_in: [...]")
        return self


class CustomerCondIn(_Strict):
    hq_in: list[Code] | None = None
    hq_not_in: list[Code] = []
    tags: list[str] = []
    controlled_from: ControlIn | None = None


class RuleIn(_Strict):
    id: Id
    effect: Literal["allow", "review", "license_required", "deny"]
    title: str
    models: ModelSelectorIn | None = None
    places: PlacesIn | None = None
    customer: CustomerCondIn | None = None
    access: list[str] | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    citation: str = ""
    url: str = ""
    explanation: str = ""
    unverified: bool = False


class LicenseIn(_Strict):
    id: Id
    customer: Id
    rules: list[Id] = Field(min_length=1)
    models: ModelSelectorIn | None = None
    places: list[Code] | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    reference: str | None = None


SCHEMAS: dict[str, type[_Strict]] = {
    "vendors": VendorIn, "groups": GroupIn, "models": ModelIn,
    "customers": CustomerIn, "rules": RuleIn, "licenses": LicenseIn,
}

# ---------------------------------------------------------------- loading


@dataclass
class ParsedFile:
    """A checked file: its entities in file form by kind and id, and where each one is."""

    name: str
    sections: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    lines: dict[tuple[str, str], LineDict] = field(default_factory=dict)

    def line(self, kind: str, eid: str, dotted: str) -> int:
        """Return the line of a field of an entity (or of the entity) in the file."""
        node = self.lines.get((kind, eid))
        if node is None:
            return 1
        path = tuple(p for p in dotted.replace("[", ".").replace("]", "").split(".") if p)
        return _line_of(node, path, node.line)


def _plain(value: Any) -> Any:
    """Drop the line-number wrappers (pydantic and JSON want plain containers)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _pydantic_errors(name: str, node: LineDict, kind: str, label: str,
                     exc: ValidationError) -> list[FileError]:
    out = []
    for err in exc.errors():
        loc = tuple("in" if p == "in_" else p for p in err["loc"])
        line = _line_of(node, loc, node.line)
        dotted = ".".join(str(p) for p in loc) or label
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(f.alias or k for k, f in _schema_fields(kind, loc)))
            message = f"unknown key (allowed here: {allowed})"
        elif err["type"] == "literal_error" and loc and loc[-1] == "effect":
            message = f"unknown effect '{err.get('input')}' (use allow, review, " \
                      "license_required or deny)"
        elif err["type"] == "missing":
            message = "required"
        out.append(FileError(name, line, f"{kind}[{label}].{dotted}" if dotted != label
                             else f"{kind}[{label}]", message))
    return out


def _schema_fields(kind: str, loc: tuple[Any, ...]) -> list[tuple[str, Any]]:
    schema: Any = SCHEMAS[kind]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = schema.model_fields
        key = "in_" if part == "in" else part
        if key not in fields:
            break
        ann = fields[key].annotation
        for arg in (*getattr(ann, "__args__", ()), ann):
            inner = getattr(arg, "__args__", (arg,))
            for cand in inner:
                if isinstance(cand, type) and issubclass(cand, BaseModel):
                    schema = cand
    return list(schema.model_fields.items())


def parse_text(text: str, name: str, *, allowed: tuple[str, ...] = KINDS) -> ParsedFile:
    """Parse and schema-check a version-1 file; raise `InvalidFile` listing every error."""
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidFile([FileError(name, line, "yaml", f"syntax error: {problem}")]) from None
    finally:
        loader.dispose()
    errors = [FileError(name, line, key, "duplicate key") for line, key in loader.duplicates]
    parsed = ParsedFile(name)
    if not isinstance(data, LineDict):
        raise InvalidFile([FileError(name, 1, "file", "expected a mapping with version: 1 and "
                                     f"sections {', '.join(allowed)}")])
    if data.get("version") != 1:
        errors.append(FileError(name, data.lines.get("version", 1), "version",
                                "must be 1 (add `version: 1` at the top)"))
    for key in data:
        if key != "version" and key not in allowed:
            errors.append(FileError(name, data.lines[key], str(key),
                                    f"unknown section (allowed: {', '.join(allowed)})"))
    for kind in allowed:
        items = data.get(kind)
        if items is None:
            continue
        if not isinstance(items, LineList):
            errors.append(FileError(name, data.lines[kind], kind, "must be a list"))
            continue
        section: dict[str, dict[str, Any]] = {}
        for i, item in enumerate(items):
            line = items.lines[i]
            if not isinstance(item, LineDict):
                errors.append(FileError(name, line, f"{kind}[{i}]", "must be a mapping"))
                continue
            label = str(item.get("id", i))
            try:
                model = SCHEMAS[kind].model_validate(_plain(item))
            except ValidationError as exc:
                errors += _pydantic_errors(name, item, kind, label, exc)
                continue
            eid = str(item["id"])
            if eid in section:
                errors.append(FileError(name, item.lines.get("id", line), f"{kind}[{eid}].id",
                                        f"duplicate id '{eid}' (first at line "
                                        f"{parsed.lines[(kind, eid)].line})"))
                continue
            section[eid] = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
            parsed.lines[(kind, eid)] = item
        parsed.sections[kind] = section
    if errors:
        raise InvalidFile(sorted(errors, key=lambda e: e.line))
    return parsed


def read_file(path: Path, *, allowed: tuple[str, ...] = KINDS) -> ParsedFile:
    """Read a rule-table file: YAML, or CSV of flat rules when it ends in .csv."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidFile([FileError(str(path), 0, "file", f"cannot read: {exc}")]) from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, str(path))
    return parse_text(text, str(path), allowed=allowed)


# ---------------------------------------------------------------- merging and checking


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


def check_merged(merged: RuleTable, parsed: ParsedFile, places: PlaceCatalog) -> None:
    """Raise `InvalidFile` if the merged table has semantic problems, located in the file."""
    problems = validate_table(merged, places)
    if not problems:
        return
    errors = []
    for p in problems:
        in_file = (p.kind, p.id) in parsed.lines
        line = parsed.line(p.kind, p.id, p.field) if in_file else 1
        where = "" if in_file else " (already in the database)"
        errors.append(FileError(parsed.name, line, f"{p.kind}[{p.id}].{p.field}",
                                p.message + where))
    raise InvalidFile(sorted(errors, key=lambda e: e.line))


# ---------------------------------------------------------------- CSV rules

CSV_LIST_FIELDS = {
    "models.ids", "models.families", "models.vendors", "models.tags", "places.in",
    "places.not_in", "customer.hq_in", "customer.hq_not_in", "customer.tags", "access",
}
CSV_FIELDS = (
    "id", "effect", "title", "models.ids", "models.families", "models.vendors", "models.tags",
    "models.open_weights", "places.in", "places.not_in", "customer.hq_in", "customer.hq_not_in",
    "customer.tags", "access", "effective_from", "effective_to", "citation", "url",
    "explanation", "unverified",
)


def parse_csv(text: str, name: str) -> ParsedFile:
    """Parse a CSV of flat rules (one per row; lists separated by ';' or spaces)."""
    reader = csv.DictReader(io.StringIO(text))
    errors: list[FileError] = []
    unknown = [h for h in reader.fieldnames or () if h not in CSV_FIELDS]
    if unknown:
        raise InvalidFile([FileError(name, 1, h, f"unknown column (allowed: {', '.join(CSV_FIELDS)})")
                           for h in unknown])
    items = LineList()
    items.lines = []
    for row in reader:
        item = LineDict()
        item.line = reader.line_num
        item.lines = {}
        for column, raw in row.items():
            value = (raw or "").strip()
            if not value or column is None:
                continue
            parsed: Any = value
            if column in CSV_LIST_FIELDS:
                parsed = [v for v in value.replace(";", " ").split() if v]
            elif column in ("models.open_weights", "unverified"):
                parsed = value.lower() in ("true", "yes", "1")
            target = item
            *parents, leaf = column.split(".")
            for p in parents:
                if p not in target:
                    child = LineDict()
                    child.line = reader.line_num
                    child.lines = {}
                    target[p] = child
                    target.lines[p] = reader.line_num
                target = target[p]
            target[leaf] = parsed
            target.lines[leaf] = reader.line_num
        items.append(item)
        items.lines.append(reader.line_num)
    if errors:
        raise InvalidFile(errors)
    doc = LineDict({"version": 1, "rules": items})
    doc.line, doc.lines = 1, {"version": 1, "rules": 1}
    return parse_text(yaml.safe_dump(_plain(doc), sort_keys=False), name) \
        if not items else _parse_loaded(doc, name)


def _parse_loaded(doc: LineDict, name: str) -> ParsedFile:
    """Schema-check an already loaded document (used by the CSV reader to keep row numbers)."""
    errors: list[FileError] = []
    parsed = ParsedFile(name)
    section: dict[str, dict[str, Any]] = {}
    items: LineList = doc["rules"]
    for item in items:
        label = str(item.get("id", item.line))
        try:
            model = RuleIn.model_validate(_plain(item))
        except ValidationError as exc:
            errors += _pydantic_errors(name, item, "rules", label, exc)
            continue
        if label in section:
            errors.append(FileError(name, item.line, f"rules[{label}].id",
                                    f"duplicate id '{label}'"))
            continue
        section[label] = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
        parsed.lines[("rules", label)] = item
    parsed.sections["rules"] = section
    if errors:
        raise InvalidFile(sorted(errors, key=lambda e: e.line))
    return parsed
