"""The database engine, sessions, and schema set-up (Alembic migrations).

Callers own transactions: open `session_scope(engine)` (or `Session(engine)`), do the work, commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# The app_state key under which the database keeps the migration scripts it was last brought to
# the head of (their file names): with the same scripts beside it, it is still at their head.
SCHEMA_SCRIPTS_KEY = "schema:scripts"
DEFAULT_URL = "sqlite:///clearance.db"


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs (psycopg2 is not a dependency)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets `clearance serve` and the CLI read and write the same file at once.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def dump_json(value: Any) -> str:
    """Encode a JSON column's value (orjson: every audited answer is encoded, so speed matters)."""
    try:
        # Non-string keys become strings, as the standard library's encoder makes them.
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        # What orjson refuses and the standard library wrote before it (a lone surrogate
        # from a YAML escape, an integer over 64 bits) is still stored, as it was.
        return json.dumps(value)


CONNECT_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_S = 30.0


def with_statement_timeout(url: str, seconds: float) -> str:
    """Add a server-side statement timeout to a PostgreSQL URL's options (unless it has one)."""
    parsed = make_url(url)
    options = str(parsed.query.get("options") or "")
    if "statement_timeout" in options:
        return url
    options = f"{options} -c statement_timeout={int(seconds * 1000)}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def create_db_engine(
    url: str = DEFAULT_URL,
    *,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    statement_timeout_s: float = STATEMENT_TIMEOUT_S,
) -> Engine:
    """Create an engine for SQLite (the default) or PostgreSQL.

    On PostgreSQL a connection attempt gives up after `connect_timeout_s` (a server that accepts
    and never answers must not hang a command) and a statement after `statement_timeout_s`.
    """
    url = normalize_url(url)
    # Read with the standard library: orjson would read integers over 64 bits as floats.
    codec: dict[str, Any] = {"json_serializer": dump_json, "json_deserializer": json.loads}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **codec)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        with_statement_timeout(url, statement_timeout_s),
        pool_pre_ping=True,
        connect_args={"connect_timeout": max(1, round(connect_timeout_s))},
        **codec,
    )


def read_scalar(engine: Engine, sql: str) -> Any:
    """Run one read-only query (no parameters) on a pooled connection; return its first value."""
    # Straight to the driver: for a query run on every question, SQLAlchemy's execute (result
    # objects, events) cost several times the query itself.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else row[0]
    finally:
        raw.close()  # back to the pool, which ends any transaction the query opened


def read_rows(engine: Engine, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one read-only query (positional parameters in the driver's style); return every row."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()
    finally:
        raw.close()  # back to the pool, which ends any transaction the query opened


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session; roll back on error. The caller commits."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def append_only_sql(dialect: str, table: str) -> list[str]:
    """Return the statements that make a table refuse UPDATE and DELETE (audit tables)."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION clearance_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION USING MESSAGE = 'the ' || TG_TABLE_NAME || ' table is append-only'; "
            "END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION clearance_append_only()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def schema_version(engine: Engine) -> str | None:
    """Return the Alembic revision the database is at, or None when it has no schema."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_head() -> str:
    """Return the newest revision of the migration scripts, as Alembic reads them."""
    # Imported here, as in `upgrade_schema`: Alembic costs start-up time `ask` rarely needs.
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"No migration scripts in {MIGRATIONS}")
    return head


def upgrade_schema(engine: Engine) -> None:
    """Run the Alembic migrations up to head."""
    from alembic import command  # imported here: Alembic costs start-up time `ask` rarely needs

    config = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # A migration may rewrite large tables: the per-statement timeout is for answers.
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def migration_scripts() -> str:
    """Return the migration scripts' file names, which change when a migration is added."""
    return ",".join(sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py")))


def _schema_state(engine: Engine) -> tuple[str | None, str | None]:
    """Return the database's revision and the scripts it was last brought to the head of."""
    with engine.connect() as conn:
        tables = inspect(conn)
        if not tables.has_table("alembic_version"):
            return None, None
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if not tables.has_table("app_state"):
            return version, None
        seen = conn.execute(
            text("SELECT value FROM app_state WHERE key = :key"), {"key": SCHEMA_SCRIPTS_KEY}
        ).scalar()
    return version, seen


def ensure_schema(engine: Engine) -> bool:
    """Bring the schema to Alembic's head; return True when it had to be created or upgraded.

    Reading the head loads Alembic, so it is read only when the scripts differ from those the
    database was last brought to the head of: a one-shot `clearance ask` skips it.
    """
    scripts = migration_scripts()
    version, seen = _schema_state(engine)
    if version is not None and seen == scripts:
        return False
    changed = version != schema_head()
    if changed:
        upgrade_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO app_state (key, value) VALUES (:key, :value) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"key": SCHEMA_SCRIPTS_KEY, "value": scripts},
        )
    return changed
