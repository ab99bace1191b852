"""Alerts and digests: urgent changes at once, the rest on each subscription's schedule.

Each has a unique key, so a replica or a rerun never queues one twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.domain.tracking.digest import ChangeView, build_digest
from bot.domain.tracking.digest_schedule import parse_schedule
from bot.services.job_context import JobContext, log
from storage.db import session_scope
from storage.policies import (
    insert_unique,
    subscribed,
)
from storage.tables.tracking import Delivery, PolicyChange, PolicySource, Subscription

ALERT_WINDOW = timedelta(days=7)
DIGEST_LOOKBACK = timedelta(days=31)  # how far back a digest looks for undelivered changes


class AlertsAndDigests(JobContext):
    """Queue an alert per subscribed channel for urgent changes, and each channel's digests."""

    def views(self, changes: list[PolicyChange]) -> list[ChangeView]:
        """Return changes as digests and alerts show them."""
        with session_scope(self.engine) as session:
            sources = {s.id: s for s in session.exec(select(PolicySource))}
        kb = self._kb()
        out = []
        for c in changes:
            source = sources.get(c.source_id)
            d = c.details or {}
            out.append(
                ChangeView(
                    id=c.id or 0,
                    source=source.name if source else "Clearance",
                    detected_at=c.detected_at,
                    summary=c.summary,
                    severity=c.severity,
                    link=c.link,
                    diff=c.diff,
                    reasons=tuple(d.get("reasons") or ()),
                    items=tuple(d.get("items") or ()),
                    flips=tuple(d.get("flip_texts") or ()),
                    added=tuple(d.get("added") or ()),
                    removed=tuple(d.get("removed") or ()),
                    excluded=tuple(d.get("excluded") or ()),
                    readmitted=tuple(d.get("readmitted") or ()),
                    group=source.country_list_group
                    if source and source.country_list_group in kb.table.groups
                    else None,
                )
            )
        return out

    def queue_alerts(self, *, now: datetime) -> int:
        """Queue an immediate alert per subscribed channel for each recent high-severity change."""
        with session_scope(self.engine) as session:
            changes = list(
                session.exec(
                    select(PolicyChange).where(
                        PolicyChange.severity == "high",
                        col(PolicyChange.detected_at) >= now - ALERT_WINDOW,
                    )
                )
            )
            subs = list(
                session.exec(select(Subscription).where(col(Subscription.paused).is_(False)))
            )
            sources = {s.id: s for s in session.exec(select(PolicySource))}
        queued = 0
        for change, view in zip(changes, self.views(changes), strict=True):
            for sub in subs:
                if change.detected_at < sub.created_at or not subscribed(
                    sub, sources.get(change.source_id)
                ):
                    continue
                row = insert_unique(
                    self.engine,
                    Delivery(
                        dedupe_key=f"alert:{change.id}:{sub.id}",
                        channel=sub.channel,
                        subscription_id=sub.id,
                        kind="alert",
                        payload=self.renderer.render_alert(view, _tz(sub)),
                        change_ids=[change.id or 0],
                        next_attempt_at=now,
                        created_at=now,
                    ),
                )
                queued += row is not None
        return queued

    def queue_digests(
        self, *, now: datetime, channel: str | None = None, force: bool = False
    ) -> int:
        """Queue the digests that are due (or, with force, whatever is pending now)."""
        with session_scope(self.engine) as session:
            query = select(Subscription).where(col(Subscription.paused).is_(False))
            if channel:
                query = query.where(Subscription.channel == channel)
            subs = list(session.exec(query))
        return sum(self._queue_digest(sub, now=now, force=force) for sub in subs)

    def pending_changes(self, sub: Subscription, *, until: datetime) -> list[PolicyChange]:
        """Return changes for a subscription that no digest or alert has sent to its channel.

        Selection is by what was delivered, not by a time window alone: a change recorded by
        another replica just after a digest was built still goes into the next one.
        """
        start = max(_aware(sub.created_at), until - DIGEST_LOOKBACK)
        with session_scope(self.engine) as session:
            sources = {s.id: s for s in session.exec(select(PolicySource))}
            changes = [
                c
                for c in session.exec(
                    select(PolicyChange)
                    .where(
                        col(PolicyChange.detected_at) > start,
                        col(PolicyChange.detected_at) <= until,
                    )
                    .order_by(col(PolicyChange.id))
                )
                if subscribed(sub, sources.get(c.source_id))
            ]
            sent = {
                cid
                for d in session.exec(
                    select(Delivery).where(
                        Delivery.channel == sub.channel, col(Delivery.kind).in_(("alert", "digest"))
                    )
                )
                for cid in d.change_ids
            }
        return [c for c in changes if c.id not in sent]

    def _queue_digest(self, sub: Subscription, *, now: datetime, force: bool) -> int:
        period = now if force else parse_schedule(sub.schedule).last_due(now)
        if not force and sub.last_period is not None and period <= _aware(sub.last_period):
            return 0
        changes = self.pending_changes(sub, until=now)
        payloads = (
            self.renderer.render_digest(
                build_digest(self.views(changes), since=sub.last_digest_at, now=now, tz=_tz(sub))
            )
            if changes
            else []
        )
        key = f"digest:{sub.id}:{period.isoformat()}"
        with session_scope(self.engine) as session:
            row = session.get(Subscription, sub.id)
            assert row is not None
            # Claim the period: one replica moves last_period on; the others find it moved.
            if not force and row.last_period is not None and period <= _aware(row.last_period):
                return 0
            row.last_period = period
            if payloads:
                row.last_digest_at = now
            session.add(row)
            parent = None
            for part, payload in enumerate(payloads):
                delivery = Delivery(
                    dedupe_key=f"{key}:{part}",
                    channel=sub.channel,
                    subscription_id=sub.id,
                    kind="digest",
                    parent_id=parent.id if parent else None,
                    payload=payload,
                    change_ids=[c.id or 0 for c in changes],
                    next_attempt_at=now,
                    created_at=now,
                )
                session.add(delivery)
                session.flush()
                parent = parent or delivery
            try:
                session.commit()
            except Exception:
                session.rollback()
                log.info("digest %s was queued by another worker", key)
                return 0
        return 1 if payloads else 0


def _tz(sub: Subscription) -> str:
    """Return the time zone of a subscription's schedule (UTC if it can't be read)."""
    try:
        return parse_schedule(sub.schedule).tz
    except Exception:
        return "UTC"


def _aware(value: datetime) -> datetime:
    """Return a datetime with a time zone (naive values from the database are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
