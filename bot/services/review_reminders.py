"""Reminders for review requests left open: a reply in each request's thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.services.workspace_clients import NoInstallation, WorkspaceClients
from storage.db import session_scope
from storage.reviews import claim_reminder, stale_reviews
from storage.workspaces import Workspace

log = logging.getLogger("clearance.reviews")


@dataclass
class ReviewReminders:
    """Remind the review channel of requests open longer than `after` (once per period)."""

    engine: Engine
    client: WebClient
    after: timedelta
    clients: WorkspaceClients | None = None  # each workspace's own token (installs)

    def run(self, *, now: datetime) -> int:
        """Post a reminder in the thread of each stale request; return how many were posted.

        Each reminder is claimed in the database first, so replicas post it once.
        """
        before = now - self.after
        with session_scope(self.engine) as session:
            due = stale_reviews(session=session, before=before)
        posted = 0
        for review in due:
            if not (review.channel and review.ts) or review.id is None:
                continue
            if not claim_reminder(self.engine, review_id=review.id, before=before, now=now):
                continue
            hours = (now - review.requested_at).total_seconds() / 3600
            who = f"<@{review.claimed_by}> claimed it" if review.claimed_by else "nobody claimed it"
            try:
                client = self._client_for(Workspace(review.team_id, review.enterprise_id))
            except NoInstallation as exc:
                log.warning("review %s not reminded: %s", review.id, exc)
                continue
            client.chat_postMessage(
                channel=review.channel,
                thread_ts=review.ts,
                reply_broadcast=True,
                text=f"⏰ Review #{review.id} has been open for {hours:.0f} hours; {who} yet.",
            )
            posted += 1
        return posted

    def _client_for(self, workspace: Workspace) -> WebClient:
        return self.client if self.clients is None else self.clients.for_workspace(workspace)
