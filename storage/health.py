"""Database health: can it still be written, and is a SQLite file intact."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

HEALTH_KEY = "healthz"


def check_writable(engine: Engine) -> None:
    """Write and commit one small row; raise when the database takes no writes.

    A health check that only reads says "ok" on a read-only or full disk, while every answer
    fails to reach the audit log.
    """
    now = datetime.now(UTC).isoformat()
    with engine.begin() as conn:
        # One upsert: workers checking a new database at once must not both try to insert.
        conn.execute(
            text(
                "INSERT INTO app_state (key, value) VALUES (:key, :now) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"now": now, "key": HEALTH_KEY},
        )


def quick_check(engine: Engine) -> str | None:
    """Return what SQLite's `PRAGMA quick_check` finds wrong with the file, or None if intact."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    if rows == ["ok"]:
        return None
    return "; ".join(rows[:3]) + (f" (and {len(rows) - 3} more)" if len(rows) > 3 else "")
