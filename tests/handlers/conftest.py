"""Fixtures for listener tests: real dependencies on a database, Slack's side faked."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

import handlers
from bot.domain.rules.files import parse_text
from bot.services.asking import initialize
from bot.services.rule_changes import import_parsed
from handlers.deps import Deps
from storage.db import create_db_engine, session_scope
from storage.tables.audit import AdminAction
from tests.support.listeners import NOW, FakeClient, Listeners, make_deps, settle

CUSTOMERS = """version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - id: nimbus
    name: Nimbus Pte Ltd
    aliases: [Nimbus]
    hq: SG
    owners: [{owner: dragon, share: 60}]
    uses: [{model: claude-sonnet-4-5, country: SG}]
  - {id: acme-de, name: Acme GmbH, aliases: [Acme], hq: DE}
"""


def add_customers(engine: Engine, text: str = CUSTOMERS) -> None:
    """Import customers as one revision, as `clearance customers import` does."""
    with session_scope(engine) as session:
        import_parsed(
            session=session, parsed=parse_text(text, "c.yaml"), replace=False, author="t", now=NOW
        )
        session.commit()


def refusals(engine: Engine) -> list[tuple[str, str, str | None]]:
    """Return the refused admin actions: (user, action, target), oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(select(AdminAction).where(AdminAction.allowed == False))  # noqa: E712
        return [(r.user_id, r.action, r.target) for r in rows]


def _prepare(url: str) -> Engine:
    engine = create_db_engine(url)
    initialize(engine, seed_sources=False)
    add_customers(engine)
    return engine


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A SQLite database with the pack and the customers, copied for each test (None: PostgreSQL)."""
    url = os.environ.get("CLEARANCE_DATABASE_URL")
    if url and not url.startswith("sqlite"):
        return None
    path = tmp_path_factory.mktemp("template") / "clearance.db"
    _prepare(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def engine(db_url: str, tmp_path: Path, _sqlite_template: Path | None) -> Iterator[Engine]:
    """An engine on a database with the default pack and three customers (one revision each)."""
    if _sqlite_template is None:
        made = _prepare(db_url)
    else:
        # Loading the pack costs most of a listener test; a copy of a loaded database does not.
        assert db_url == f"sqlite:///{tmp_path / 'clearance.db'}"
        shutil.copy(_sqlite_template, tmp_path / "clearance.db")
        made = create_db_engine(db_url)
    yield made
    made.dispose()


@pytest.fixture
def deps(engine: Engine) -> Iterator[Deps]:
    """Listener dependencies on a database with the default pack and three customers."""
    made = make_deps(engine)
    yield made
    settle(made)


@pytest.fixture
def app(deps: Deps) -> Listeners:
    """Every listener, registered as `bot.app` registers them."""
    found = Listeners()
    handlers.register(found, deps)  # type: ignore[arg-type]
    return found


@pytest.fixture
def client() -> FakeClient:
    """Slack's Web API client, recording calls."""
    return FakeClient()
