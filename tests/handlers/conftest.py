"""Fixtures for listener tests: real dependencies on a database, Slack's side faked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

import handlers
from bot.domain.rules.files import parse_text
from bot.services.rule_changes import import_parsed
from handlers.deps import Deps
from storage.db import session_scope
from storage.models import AdminAction
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


@pytest.fixture
def deps(engine: Engine) -> Iterator[Deps]:
    """Listener dependencies on a database with the default pack and three customers."""
    add_customers(engine)
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
