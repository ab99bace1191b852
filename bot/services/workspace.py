"""The Slack workspace (team, Enterprise Grid org) a request came from, for the rows it writes.

Set once per request by the app's middleware and carried into after-ack work, so every audited
answer, review, subscription and admin action names its workspace without each call passing it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from storage.workspaces import NONE, Workspace

_CURRENT: ContextVar[Workspace] = ContextVar("clearance_workspace", default=NONE)


def set_workspace(body: dict[str, Any]) -> Workspace:
    """Read the workspace of a Slack request body and make it the current one."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id")
    if not team and not enterprise:
        for auth in body.get("authorizations") or ():
            team, enterprise = auth.get("team_id"), auth.get("enterprise_id")
            break
    workspace = Workspace(str(team) if team else None, str(enterprise) if enterprise else None)
    _CURRENT.set(workspace)
    return workspace


def use_workspace(workspace: Workspace) -> None:
    """Make `workspace` the current one (a question answered away from its request)."""
    _CURRENT.set(workspace)


def current_workspace() -> Workspace:
    """Return the workspace of the request being handled (empty outside requests: the CLI)."""
    return _CURRENT.get()
