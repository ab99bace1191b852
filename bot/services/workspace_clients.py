"""The Web API client a scheduled post goes out with: the one bot token, or its workspace's own.

In one workspace every post uses SLACK_BOT_TOKEN. With installs into many workspaces each
subscription's digests and alerts (and each review's reminders) use the bot token installed in
that subscription's workspace or Enterprise Grid org, found in slack_sdk's installation store. A
rotating token is refreshed here, since no incoming request does it for a scheduled post. A
workspace with no installation (never installed, or uninstalled) gets no post at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.outbox import finish
from storage.tables.tracking import Delivery, Subscription
from storage.workspaces import NONE, Workspace

log = logging.getLogger("clearance.workspaces")
ROTATE_BEFORE_MIN = 120  # as Bolt does for requests: refresh two hours before expiry


class NoInstallation(Exception):
    """The workspace a post belongs to has no installed bot: never installed, or removed."""


@dataclass
class WorkspaceClients:
    """Find the client for a workspace: `base` itself, or `base` with the installation's token."""

    base: WebClient
    store: InstallationStore | None = None  # None: one workspace, one token
    rotator: TokenRotator | None = None

    def for_workspace(self, workspace: Workspace) -> WebClient:
        """Return the client to post into a workspace with; NoInstallation when there is none."""
        if self.store is None:
            return self.base
        bot = self._bot(workspace)
        if bot is None or not bot.bot_token:
            name = workspace.team_id or workspace.enterprise_id or "no workspace"
            raise NoInstallation(f"no_installation: Clearance is not installed in {name}")
        return type(self.base)(
            token=self._fresh(bot, workspace),
            base_url=self.base.base_url,
            timeout=self.base.timeout,
            retry_handlers=self.base.retry_handlers,
        )

    def _bot(self, workspace: Workspace) -> Bot | None:
        """Return the workspace's own install, else its Enterprise Grid org-wide install."""
        assert self.store is not None
        if workspace == NONE:
            return None
        bot = None
        if workspace.team_id:
            bot = self.store.find_bot(
                enterprise_id=workspace.enterprise_id, team_id=workspace.team_id
            )
        if bot is None and workspace.enterprise_id:
            bot = self.store.find_bot(
                enterprise_id=workspace.enterprise_id, team_id=None, is_enterprise_install=True
            )
        return bot

    def _fresh(self, bot: Bot, workspace: Workspace) -> str:
        """Return the bot's token, refreshed and saved first when it is about to expire."""
        assert self.store is not None
        if self.rotator is None:
            return str(bot.bot_token)
        try:
            rotated = self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_BEFORE_MIN
            )
        except SlackTokenRotationError:
            # Refresh tokens are single-use: another worker may have rotated it just now.
            log.warning("token rotation failed for %s; using the stored token", workspace)
            again = self._bot(workspace)
            return str((again or bot).bot_token)
        if rotated is None:
            return str(bot.bot_token)
        self.store.save_bot(rotated)
        return str(rotated.bot_token)


def notice_workspace(team: str | None) -> Workspace:
    """Return the workspace admin notices go to (CLEARANCE_ADMIN_TEAM: a T… team or an E… org)."""
    team = (team or "").strip()
    if not team:
        return NONE
    return Workspace(None, team) if team.startswith("E") else Workspace(team)


def delivery_workspace(
    engine: Engine, delivery: Delivery, *, notices: Workspace = NONE
) -> Workspace:
    """Return the workspace a delivery belongs to: its subscription's, or for an admin notice
    (no subscription) the one admins are told in."""
    if delivery.subscription_id is None:
        return notices
    with session_scope(engine) as session:
        sub = session.get(Subscription, delivery.subscription_id)
    return Workspace(sub.team_id, sub.enterprise_id) if sub is not None else NONE


def record_no_installation(
    engine: Engine, delivery: Delivery, error: str, *, now: datetime
) -> None:
    """Record a delivery that has no workspace to go to as failed, and pause its subscription.

    No admin is told through the outbox: that notice would have nowhere to go either.
    """
    log.warning("delivery %s to %s not posted: %s", delivery.id, delivery.channel, error)
    finish(engine, delivery.id or 0, status="failed", now=now, error=error)
    if delivery.subscription_id is None:
        return
    with session_scope(engine) as session:
        sub = session.get(Subscription, delivery.subscription_id)
        if sub is not None and not sub.paused:
            sub.paused, sub.paused_reason = True, error[:200]
            session.add(sub)
            session.commit()
