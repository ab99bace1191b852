"""Delivering the outbox exactly once per channel.

A delivery counts its attempt before posting and carries its id in the message metadata, so
after a crash it is looked up in the channel before being posted again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.job_context import JobContext, log
from bot.services.workspace_clients import (
    NoInstallation,
    delivery_workspace,
    notice_workspace,
    record_no_installation,
)
from storage.db import session_scope
from storage.outbox import claim_delivery, due_deliveries, finish
from storage.tables.tracking import Delivery, Subscription

METADATA_EVENT = "clearance_delivery"
PERMANENT_ERRORS = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "account_inactive",
    "invalid_auth",
    "restricted_action",
    "token_revoked",
}
MAX_BACKOFF_S = 3600.0


class Delivering(JobContext):
    """Post the outbox: each delivery claimed with a lease, posted once, retried or paused."""

    def deliver(self, *, now: datetime, limit: int = 200) -> dict[str, int]:
        """Post due deliveries exactly once each; return counts by outcome."""
        counts: dict[str, int] = {}
        with session_scope(self.engine) as session:
            ids = due_deliveries(session=session, now=now, limit=limit)
        for delivery_id in ids:
            outcome = self._deliver_one(delivery_id, now=now)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def _deliver_one(self, delivery_id: int, *, now: datetime) -> str:
        if self.client is None:
            return "no_client"
        d = claim_delivery(
            self.engine, delivery_id, now=now, worker=self.worker, lease_s=self.lease_s
        )
        if d is None:
            return "skipped"
        thread_ts = None
        if d.parent_id is not None:
            with session_scope(self.engine) as session:
                parent = session.get(Delivery, d.parent_id)
            if parent is None or parent.ts is None:
                finish(
                    self.engine,
                    delivery_id,
                    status="pending",
                    now=now,
                    undo_attempt=True,
                    retry_at=now,
                )
                return "waiting"
            thread_ts = parent.ts
        try:
            client = self._client_for(d)
        except NoInstallation as exc:
            record_no_installation(self.engine, d, str(exc), now=now)
            return "failed"
        try:
            if d.attempts > 1:
                found = self._find_posted(client, d, thread_ts)
                if found is not None:
                    finish(self.engine, delivery_id, status="sent", now=now, ts=found)
                    return "recovered"
            response = client.chat_postMessage(
                channel=d.channel,
                text=d.payload.get("text", ""),
                blocks=d.payload.get("blocks"),
                attachments=d.payload.get("attachments"),  # a verdict's colour bar
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"delivery_id": d.id, "key": d.dedupe_key},
                },
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if error in PERMANENT_ERRORS:
                self._pause(d, error, now=now)
                return "paused"
            return self._retry(d, error or str(exc), now=now)
        except Exception as exc:  # network errors after the client's own retries
            return self._retry(d, f"{type(exc).__name__}: {exc}", now=now)
        finish(self.engine, delivery_id, status="sent", now=now, ts=str(response["ts"]))
        return "sent"

    def _client_for(self, d: Delivery) -> WebClient:
        """Return the client to post a delivery with: its workspace's token when installed."""
        assert self.client is not None
        if self.clients is None:
            return self.client
        notices = notice_workspace(self.settings.admin_team)
        return self.clients.for_workspace(delivery_workspace(self.engine, d, notices=notices))

    def _find_posted(self, client: WebClient, d: Delivery, thread_ts: str | None) -> str | None:
        """Look for a message carrying this delivery's id (posted before a crash)."""
        oldest = f"{d.created_at.timestamp() - 60:.6f}"
        if thread_ts:
            resp = client.conversations_replies(
                channel=d.channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        else:
            resp = client.conversations_history(
                channel=d.channel, oldest=oldest, include_all_metadata=True, limit=200
            )
        for message in resp.get("messages") or []:
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT
                and (meta.get("event_payload") or {}).get("delivery_id") == d.id
            ):
                return str(message["ts"])
        return None

    def _retry(self, d: Delivery, error: str, *, now: datetime) -> str:
        delay = min(30.0 * 2 ** (d.attempts - 1), MAX_BACKOFF_S)
        log.warning("delivery %s to %s failed (%s); retrying in %ss", d.id, d.channel, error, delay)
        finish(
            self.engine,
            d.id or 0,
            status="pending",
            now=now,
            error=error,
            retry_at=now + timedelta(seconds=delay),
        )
        return "retry"

    def _pause(self, d: Delivery, error: str, *, now: datetime) -> None:
        finish(self.engine, d.id or 0, status="paused", now=now, error=error)
        with session_scope(self.engine) as session:
            sub = session.get(Subscription, d.subscription_id) if d.subscription_id else None
            if sub is not None:
                sub.paused, sub.paused_reason = True, error
                session.add(sub)
                session.commit()
        if d.kind == "notice":
            return  # a notice to an admin that can't be posted must not queue another
        hint = (
            f"Clearance can't post to <#{d.channel}> ({error}). Its subscription is paused. "
            f"Invite the bot with `/invite @Clearance` in that channel, then run "
            f"`/clearance subscribe` there to resume."
        )
        self._notify_admins(hint, key=f"paused:{d.channel}:{now.isoformat()}", now=now)
