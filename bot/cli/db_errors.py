"""One line for each way the database can fail a command: what is wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path

EXIT_DATABASE = 3  # the database could not be reached, read or written


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    tail = url.split("///", 1)[1] if "///" in url else ""
    tail = tail.split("?", 1)[0]
    return Path(tail) if tail and tail != ":memory:" else None


def describe(exc: BaseException, url: str) -> str:
    """Return one line saying what went wrong with the database and what to do about it."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return (
            f"--db '{_cut(url)}' is not a database URL. Write sqlite:///path/to/clearance.db "
            "or postgresql://user@host:5432/dbname (or set CLEARANCE_DATABASE_URL)."
        )
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    path = _sqlite_path(url)
    if path is not None:
        if "unable to open database file" in low:
            if not path.parent.exists():
                return (
                    f"Cannot create the database {path}: the folder {path.parent} does not "
                    "exist. Create it, or give another --db."
                )
            return (
                f"Cannot open the database {path}: check that it and its folder are readable "
                "and writable by this user."
            )
        if "readonly" in low or "read-only" in low:
            return (
                f"The database {path} is read-only: give this user write access to it and its "
                "folder (SQLite writes a -wal file beside it), or use another --db."
            )
        if "disk is full" in low or "disk i/o" in low:
            return (
                f"Cannot write the database {path}: the disk is full or failing ({text}). Free "
                "space, then run the command again; nothing was changed."
            )
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return (
                f"The database {path} is damaged ({text}). Restore it from a backup, or recover "
                "what is readable with `sqlite3 FILE .recover`."
            )
    if "timeout" in low or "timed out" in low:
        return (
            f"The database did not answer in time ({_cut(text)}). Check that it is up and "
            "reachable, or raise CLEARANCE_DB_CONNECT_TIMEOUT_S / CLEARANCE_DB_STATEMENT_TIMEOUT_S."
        )
    if "permission denied" in low:
        return (
            f"The database refused this user ({_cut(text)}). Grant the role the privileges the "
            "README lists, or use another --db."
        )
    return f"Database error: {_cut(text, 200)}. Check --db / CLEARANCE_DATABASE_URL and that the database is up."


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
