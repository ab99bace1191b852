"""A workspace's review and audit channels: its own choice, else (one workspace) the settings."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.services.workspace_channels import configured_channel
from bot.settings import Settings
from storage.db import session_scope
from storage.workspace_channels import store_channel
from storage.workspaces import Workspace

ONE = Settings(
    SLACK_BOT_TOKEN="xoxb-1",
    CLEARANCE_REVIEW_CHANNEL="CENVREV",
    CLEARANCE_AUDIT_CHANNEL="CENVAUD",
)
MANY = Settings(
    SLACK_CLIENT_ID="1.2",
    SLACK_CLIENT_SECRET="client-secret-value",
    CLEARANCE_REVIEW_CHANNEL="CENVREV",
    CLEARANCE_AUDIT_CHANNEL="CENVAUD",
)
A, B, ORG = Workspace("TA"), Workspace("TB"), Workspace(None, "E1")


def _set(engine: Engine, workspace: Workspace, kind: str, channel: str | None) -> None:
    with session_scope(engine) as session:
        store_channel(session=session, workspace=workspace, kind=kind, channel=channel)
        session.commit()


@pytest.mark.storage
@pytest.mark.parametrize(
    ("settings", "workspace", "kind", "expected"),
    [
        (ONE, B, "review", "CENVREV"),  # nothing chosen: the environment's, in one workspace
        (ONE, B, "audit", "CENVAUD"),
        (ONE, A, "review", "CAREV"),  # chosen: wins over the environment
        (ONE, A, "audit", "CENVAUD"),
        (MANY, A, "review", "CAREV"),
        (MANY, B, "review", None),  # many workspaces: never the environment's, never A's
        (MANY, B, "audit", None),
        (MANY, ORG, "review", "CORGREV"),  # an org-wide install keeps its own
    ],
)
def test_a_workspaces_channel(
    engine: Engine, settings: Settings, workspace: Workspace, kind: str, expected: str | None
) -> None:
    _set(engine, A, "review", "CAREV")
    _set(engine, ORG, "review", "CORGREV")
    assert configured_channel(engine, settings, workspace, kind) == expected


@pytest.mark.storage
def test_clearing_falls_back(engine: Engine) -> None:
    _set(engine, A, "review", "CAREV")
    _set(engine, A, "review", None)
    assert configured_channel(engine, ONE, A, "review") == "CENVREV"
    assert configured_channel(engine, MANY, A, "review") is None
