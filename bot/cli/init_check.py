"""`clearance init` leaves nothing behind when it fails: the pack is checked first, and a SQLite
file the failed run created is removed."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url


def check_pack(path: Path, *, max_bytes: int) -> None:
    """Check a rule pack as the whole table of a new database; raise `InvalidFile` if it is bad."""
    from bot.domain.names.places import build_place_catalog
    from bot.domain.rules.files import read_file
    from bot.domain.rules.merging import check_merged, merge
    from bot.domain.rules.table import RuleTable

    parsed = read_file(path, max_bytes=max_bytes)
    check_merged(merge(RuleTable(), parsed, replace=True), parsed, build_place_catalog())


def _sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def sqlite_file_is_new(url: str) -> bool:
    """Return whether the URL names a SQLite file that does not exist yet."""
    path = _sqlite_file(url)
    return path is not None and not path.exists()


def remove_new_sqlite_file(url: str) -> None:
    """Remove the SQLite file (and its journal files) a failed init created."""
    path = _sqlite_file(url)
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")
