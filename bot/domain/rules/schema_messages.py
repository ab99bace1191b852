"""Schema errors as people read them: where in the file, what is wrong, and how to fix it."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.domain.errors import FileError
from bot.domain.rules.conditions import LISTED_PARTIES
from bot.domain.rules.entities import PARTY_TYPES
from bot.domain.rules.limits import (
    cut,
    shown,
)
from bot.domain.rules.schema import SCHEMAS
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import EFFECTS
from bot.domain.rules.yaml_lines import LineDict
from bot.domain.rules.yaml_lines import line_of as _line_of


def _dotted(loc: tuple[Any, ...]) -> str:
    """Join a path as people write it: owners[0].share."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


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
            f"unknown key '{leaf}'{did_you_mean(leaf, allowed)}; allowed here: {', '.join(allowed)}"
        )
    if kind_of == "missing":
        return f"required field '{leaf}' is missing; add `{leaf}: ...` to this entry"
    if kind_of == "literal_error" and leaf == "effect":
        return (
            f"unknown effect '{cut(str(value))}'{did_you_mean(str(value)[:200], EFFECTS)}; "
            "use allow, review, license_required or deny"
        )
    if kind_of == "literal_error" and kind == "customers" and leaf == "type":
        return (
            f"unknown type '{cut(str(value))}'{did_you_mean(str(value)[:200], PARTY_TYPES)}; "
            "use org or person"
        )
    if kind_of == "literal_error" and kind == "rules" and leaf == "party":
        return (
            f"unknown party '{cut(str(value))}'{did_you_mean(str(value)[:200], LISTED_PARTIES)}; "
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


def pydantic_errors(
    name: str, node: LineDict, kind: str, label: str, exc: ValidationError
) -> list[FileError]:
    out = []
    for err in exc.errors():
        loc = tuple("in" if p == "in_" else p for p in err["loc"])
        line = _line_of(node, loc, node.line)
        where = f"{kind}[{label}]" + (f".{_dotted(loc)}" if loc else "")
        out.append(FileError(name, line, where, _message(kind, loc, err)))
    return out
