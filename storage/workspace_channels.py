"""The review and audit channels one workspace's admins chose, kept per team (or org)."""

from __future__ import annotations

from sqlmodel import Session

from storage.tables.app_state import AppState
from storage.workspaces import Workspace

KINDS = ("review", "audit")


def channel_key(workspace: Workspace, kind: str) -> str:
    """Return the app-state key of a workspace's channel of one kind."""
    assert kind in KINDS, kind
    owner = workspace.team_id or workspace.enterprise_id or "-"
    return f"workspace:{owner}:{kind}_channel"


def stored_channel(*, session: Session, workspace: Workspace, kind: str) -> str | None:
    """Return the channel a workspace's admins set for `kind`, if any."""
    row = session.get(AppState, channel_key(workspace, kind))
    return row.value if row is not None and row.value else None


def store_channel(
    *, session: Session, workspace: Workspace, kind: str, channel: str | None
) -> None:
    """Set (or, with None, clear) a workspace's channel of one kind; the caller commits."""
    key = channel_key(workspace, kind)
    row = session.get(AppState, key)
    if channel is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = AppState(key=key, value=channel)
    row.value = channel
    session.add(row)
