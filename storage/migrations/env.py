"""Alembic environment: runs on the connection `storage.db.upgrade_schema` passes in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run migrations on the caller's connection, or on sqlalchemy.url from alembic.ini."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import engine_from_config, pool

        connectable = engine_from_config(
            context.config.get_section(context.config.config_ini_section) or {},
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with connectable.connect() as connection:
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
