"""Migration 0005: stored customer name keys follow the question's normalization."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage.db import MIGRATIONS, create_db_engine


def test_migration_0005_renormalizes_name_keys_with_invisible_characters(db_url: str) -> None:
    engine = create_db_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        conn.execute(
            text(
                "INSERT INTO revision (number, author, created_at, summary, changes) "
                "VALUES (1, 'old', '2026-01-01', 'old', '[]')"
            )
        )
        # Saved before: a soft hyphen and a zero-width space inside the name, the old keys.
        conn.execute(
            text(
                "INSERT INTO customer (key, rev_from, body, names) VALUES ('dragon', 1, :body, "
                "'|dragon|dragon hol dings co|')"
            ),
            {"body": '{"id": "dragon", "name": "Dragon Hol\\u00addings\\u200b Co", "hq": "CN"}'},
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        names = conn.execute(text("SELECT names FROM customer")).scalar()
    engine.dispose()
    assert names == "|dragon|dragon holdings co|"
