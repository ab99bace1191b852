"""SQLModel tables, one module per aggregate.

Importers name the module that defines a table (`from storage.tables.audit import Decision`).
This package imports every table module only so that importing any of them registers all tables
on SQLModel.metadata: Alembic's env and autogenerate compare against the whole schema, and
foreign keys between modules resolve by table name.
"""

from storage.tables import (  # noqa: F401  (registers every table on SQLModel.metadata)
    app_state,
    audit,
    reviews,
    rule_table,
    screening,
    slack,
    tracking,
)
