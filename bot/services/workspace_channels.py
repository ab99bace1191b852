"""Where a workspace's review requests and audit announcements go.

Each workspace's admins may set their own review and audit channels
(`/clearance settings review-channel #c`). In one workspace the CLEARANCE_REVIEW_CHANNEL and
CLEARANCE_AUDIT_CHANNEL settings apply until then. With installs into many workspaces they never
do: a channel of one workspace means nothing (or another team's channel) in the next.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.settings import Settings
from storage.db import session_scope
from storage.workspace_channels import stored_channel
from storage.workspaces import Workspace


def configured_channel(
    engine: Engine, settings: Settings, workspace: Workspace, kind: str
) -> str | None:
    """Return the workspace's `review` or `audit` channel (None: not configured)."""
    with session_scope(engine) as session:
        chosen = stored_channel(session=session, workspace=workspace, kind=kind)
    if chosen or settings.multi_workspace():
        return chosen
    return settings.review_channel if kind == "review" else settings.audit_channel
