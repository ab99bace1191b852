"""Migrations: every earlier revision upgrades to Alembic's head, and the head is the models.

Runs on the configured database (SQLite, or a schema of its own on PostgreSQL).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.db
import storage.tables
from storage.db import (
    _alembic_config,
    create_db_engine,
    ensure_schema,
    schema_head,
    schema_version,
)

pytestmark = pytest.mark.storage

REVISIONS = [
    s.revision
    for s in reversed(list(ScriptDirectory.from_config(_alembic_config()).walk_revisions()))
]


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database with no schema at all."""
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def upgrade_to(engine: Engine, revision: str) -> None:
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


# Tables that slack_sdk's OAuth installation and state stores define and own (migration 0009).
SLACK_SDK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def _ours(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    table = obj.name if kind == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in SLACK_SDK_TABLES


def differences(engine: Engine) -> list[object]:
    """Return what autogenerate would change to make the database match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _ours}
        )
        return list(compare_metadata(context, SQLModel.metadata))


def test_the_head_is_the_newest_script() -> None:
    assert schema_head() == REVISIONS[-1]
    assert len(REVISIONS) >= 4


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_a_database_at_an_earlier_revision_upgrades_to_head(
    bare_engine: Engine, revision: str
) -> None:
    upgrade_to(bare_engine, revision)
    assert schema_version(bare_engine) == revision
    assert ensure_schema(bare_engine) is True
    assert schema_version(bare_engine) == schema_head()
    assert differences(bare_engine) == []
    assert ensure_schema(bare_engine) is False  # now at head: nothing to do


def test_a_new_database_gets_the_schema_of_the_models(bare_engine: Engine) -> None:
    assert ensure_schema(bare_engine) is True
    assert differences(bare_engine) == []
    assert set(inspect(bare_engine).get_table_names()) >= set(SQLModel.metadata.tables)


NEW_MIGRATION = '''"""A migration added after the database was last upgraded.

Revision ID: 9999
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("added_later", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("added_later")
'''


def test_a_new_migration_upgrades_an_existing_database_with_nothing_else_edited(
    bare_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ensure_schema(bare_engine) is True
    assert ensure_schema(bare_engine) is False
    migrations = tmp_path / "migrations"
    shutil.copytree(storage.db.MIGRATIONS, migrations)
    head = schema_head()
    (migrations / "versions" / "9999_added_later.py").write_text(
        NEW_MIGRATION.format(head=head), encoding="utf-8"
    )
    monkeypatch.setattr(storage.db, "MIGRATIONS", migrations)
    assert ensure_schema(bare_engine) is True
    assert schema_version(bare_engine) == "9999"
    assert inspect(bare_engine).has_table("added_later")


def test_a_database_at_head_is_checked_without_loading_alembic(db_url: str) -> None:
    """`clearance ask` starts a process per question: a database at head costs no Alembic import."""
    engine = create_db_engine(db_url)
    ensure_schema(engine)
    engine.dispose()
    code = (
        "import sys; from storage.db import create_db_engine, ensure_schema; "
        f"changed = ensure_schema(create_db_engine({db_url!r})); "
        "print(changed, 'alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["False", "False"]
