"""One fact, three declarations: each rule-table entity is a dataclass (bot.domain.rules.entities,
.table), a pydantic schema for files (bot.domain.rules.schema.SCHEMAS) and a stored row whose body
is the file form (storage.tables.rule_table.ROW_TYPES). These tests fail when the three disagree.

An entry with every field set to a value other than its default is built from the schema; it
must survive schema -> dataclass -> file form unchanged (a field the dataclass lacks is lost, one
only the dataclass has is refused by the schema), and a revision written and read back.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from bot.domain.rules.schema import SCHEMAS
from bot.domain.rules.table import ENTITY_TYPES, KINDS, RuleTable
from storage.db import session_scope
from storage.rules import load_table, write_revision
from storage.tables.rule_table import ROW_TYPES

# Fields that exclude each other: a full entry takes the first, a second entry the other.
EXCLUSIVE = {("ControlIn", "more_than"): ("ControlIn", "at_least")}


def _sample(annotation: Any, name: str, default: Any, skip: tuple[str, str]) -> Any:
    """Return a value for a field that is valid, normal (as the file form writes it), and not
    the default."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _sample(inner, name, default, skip)
    if origin is typing.Annotated:
        return _sample(typing.get_args(annotation)[0], name, default, skip)
    if origin is typing.Literal:
        return next(v for v in reversed(typing.get_args(annotation)) if v != default)
    if origin is list:
        (inner,) = typing.get_args(annotation)
        return [_sample(inner, name, None, skip)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return full_entry(annotation, skip)
    if annotation is bool:
        return not default if default is not None else True
    if annotation is float:
        return 25.5
    if annotation is date:
        return "2026-01-31"
    if annotation is str:
        if name in ("access",):
            return "weights"
        return f"X{name.upper().replace('_', '')}"  # upper case: places and codes are
    raise AssertionError(f"no sample for {annotation!r} ({name})")


def full_entry(schema: type[BaseModel], skip: tuple[str, str] = ("", "")) -> dict[str, Any]:
    """Return an entry in file form with every field of the schema set."""
    out: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        if (schema.__name__, name) == skip:
            continue
        if (schema.__name__, name) in EXCLUSIVE.values() and skip == ("", ""):
            continue
        out[info.alias or name] = _sample(info.annotation, name, info.default, skip)
    return out


def entries(kind: str) -> list[dict[str, Any]]:
    """Every field set, once with each of the fields that exclude each other."""
    schema = SCHEMAS[kind]
    first = full_entry(schema)
    second = full_entry(schema, skip=next(iter(EXCLUSIVE)))
    return [first] if first == second else [first, second]


def test_each_kind_is_declared_three_times() -> None:
    assert set(SCHEMAS) == set(ENTITY_TYPES) == set(ROW_TYPES) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_field_survives_the_dataclass(kind: str) -> None:
    for entry in entries(kind):
        validated = SCHEMAS[kind].model_validate(entry)
        entity = ENTITY_TYPES[kind].from_dict(
            validated.model_dump(mode="json", by_alias=True, exclude_unset=True)
        )
        assert entity.to_dict() == entry


@pytest.mark.parametrize("kind", KINDS)
def test_every_dataclass_field_is_in_the_schema(kind: str) -> None:
    """A field only the dataclass has would be refused by the schema (extra keys are errors)."""
    entity = ENTITY_TYPES[kind].from_dict(entries(kind)[0])
    for f in dataclasses.fields(entity):
        assert getattr(entity, f.name) not in (None, (), "", f.default), (
            f"{kind}: the dataclass field '{f.name}' is not set from any schema field"
        )
    SCHEMAS[kind].model_validate(entity.to_dict())


@pytest.mark.storage
def test_every_field_survives_a_stored_revision(empty_engine: Engine) -> None:
    table = RuleTable.from_dict({kind: [entries(kind)[-1]] for kind in KINDS})
    with session_scope(empty_engine) as session:
        write_revision(
            session=session,
            old=RuleTable(),
            new=table,
            author="test",
            now=datetime(2026, 1, 31, tzinfo=UTC),
        )
        session.commit()
    with session_scope(empty_engine) as session:
        stored = load_table(session=session)
    assert stored.to_dict() == table.to_dict()
