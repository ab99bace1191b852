"""Test fixtures.

Strategy: domain tests build small rule tables inline from YAML text (`tests.support.factories`), never
touching a database. Storage and end-to-end tests use a real database: a fresh SQLite file per
test by default, or, when CLEARANCE_DATABASE_URL points at PostgreSQL, a fresh schema per test in
that database (dropped afterwards). `.ci/run` runs the whole suite once for each.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.db import create_db_engine, normalize_url

# Tests never reach the real policy sources: the shipped sources are not seeded, here or in any
# process a test starts (they inherit this environment).
os.environ["CLEARANCE_SEED_SOURCES"] = "false"
# Sources in tests are served on 127.0.0.1, which fetches otherwise refuse.
os.environ["CLEARANCE_FETCH_ALLOWED_ADDRESSES"] = "127.0.0.1"


def _base_url() -> str | None:
    url = os.environ.get("CLEARANCE_DATABASE_URL")
    return normalize_url(url) if url else None


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """Yield a URL to an empty database: a SQLite file, or a new PostgreSQL schema."""
    base = _base_url()
    if base is None or base.startswith("sqlite"):
        yield f"sqlite:///{directory / 'clearance.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Knowledge snapshots of `clearance ask` go to a temporary directory, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARANCE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of its own, for one test."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL to an empty database shared by the tests of one module (one server per module)."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def _sqlite_file(db_url: str) -> Path | None:
    """Return the file of a SQLite URL (None on PostgreSQL)."""
    return Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None


@dataclass
class Templates:
    """SQLite databases made once per run (schema only; default pack), copied for each test."""

    folder: Path
    made: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


def _from_template(
    db_url: str, templates: Templates, kind: str, make: Callable[[Engine], object]
) -> Engine:
    """Return an engine on a database made by `make`: on SQLite, a copy of one made once."""
    target = _sqlite_file(db_url)
    if target is None:  # PostgreSQL: each test's own schema, made for it
        engine = create_db_engine(db_url)
        make(engine)
        return engine
    if kind not in templates.made:
        # Migrating and loading the pack cost most of a storage test; a file copy does not.
        path = templates.folder / f"{kind}.db"
        made = create_db_engine(f"sqlite:///{path}")
        make(made)
        made.dispose()
        templates.made[kind] = path
    shutil.copy(templates.made[kind], target)
    return create_db_engine(db_url)


@pytest.fixture
def empty_engine(db_url: str, _templates: Templates) -> Iterator[Engine]:
    """An engine on a database with the schema and nothing else."""
    from storage.db import ensure_schema

    engine = _from_template(db_url, _templates, "schema", ensure_schema)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(db_url: str, _templates: Templates) -> Iterator[Engine]:
    """An engine on a database initialised with the default rule pack (revision 1)."""
    from bot.services.asking import initialize

    engine = _from_template(db_url, _templates, "pack", lambda e: initialize(e, seed_sources=False))
    yield engine
    engine.dispose()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an end-to-end test, so `-m "not e2e"` always leaves it out."""
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        if e2e in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
