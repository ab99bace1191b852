"""Policy sources, snapshots, changes, subscriptions and job state.

Claims are compare-and-set updates on our own rows, so several replicas on one database poll each
source once per interval; unique keys make each change, digest period and alert exist once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.errors import BotError, NotFound
from bot.domain.tracking.kinds import INTERNAL_KIND_NAMES, POLLED_KIND_NAMES, check_source
from storage.db import session_scope
from storage.tables.app_state import AppState
from storage.tables.tracking import Delivery, PolicyChange, PolicySource, Subscription
from storage.workspaces import NONE, Workspace

_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_S = 60


def parse_interval(text: str) -> int:
    """Parse "6h", "30m", "1d" or "90s" to seconds (at least a minute)."""
    m = _INTERVAL.match(text.strip().lower())
    if not m:
        raise BotError(f"Can't read the interval '{text}'. Use e.g. 30m, 6h or 1d.")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds < MIN_INTERVAL_S:
        raise BotError("Poll at most once a minute: use an interval of 1m or more.")
    return seconds


def add_source(
    *,
    session: Session,
    name: str,
    kind: str,
    url: str,
    now: datetime,
    selector: str | None = None,
    interval_s: int = 6 * 3600,
    tags: list[str] | None = None,
    severity: str = "normal",
    country_list_group: str | None = None,
    ignore: list[str] | None = None,
    known_groups: set[str] | None = None,
) -> PolicySource:
    """Add a source; its first fetch becomes the baseline, not a change."""
    check_source(
        name=name,
        kind=kind,
        url=url,
        selector=selector,
        country_list=country_list_group is not None,
    )
    if severity not in ("normal", "high"):
        raise BotError("Severity is 'normal' or 'high'.")
    if (
        country_list_group is not None
        and known_groups is not None
        and country_list_group not in known_groups
    ):
        raise BotError(f"Unknown group '{country_list_group}' for --country-list.")
    for pattern in ignore or ():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise BotError(f"Bad ignore pattern '{pattern}': {exc}") from None
    if session.exec(select(PolicySource).where(PolicySource.name == name)).first():
        raise BotError(f"A source called '{name}' exists already.")
    source = PolicySource(
        name=name,
        kind=kind,
        url=url,
        selector=selector,
        interval_s=interval_s,
        tags=tags or [],
        severity=severity,
        country_list_group=country_list_group,
        ignore=ignore or [],
        next_poll_at=now,
        created_at=now,
    )
    session.add(source)
    session.flush()
    return source


def find_source(*, session: Session, ref: str) -> PolicySource:
    """Return a source by id or name."""
    source = (
        session.get(PolicySource, int(ref))
        if ref.isdigit()
        else session.exec(select(PolicySource).where(PolicySource.name == ref)).first()
    )
    if source is None:
        raise NotFound(f"No source '{ref}'. See `clearance sources list`.")
    return source


def list_sources(*, session: Session) -> list[PolicySource]:
    """Return every source."""
    return list(session.exec(select(PolicySource).order_by(col(PolicySource.id))))


def polled_sources(*, session: Session) -> list[PolicySource]:
    """Return every source the scheduler fetches (all but the rule table's own)."""
    query = select(PolicySource).where(col(PolicySource.kind).in_(POLLED_KIND_NAMES))
    return list(session.exec(query.order_by(col(PolicySource.id))))


def rule_table_source_id(*, session: Session) -> int | None:
    """Return the id of the source the rule table's own revisions are recorded against."""
    return session.exec(
        select(PolicySource.id).where(col(PolicySource.kind).in_(INTERNAL_KIND_NAMES))
    ).first()


def claim_source(engine: Engine, source_id: int, *, now: datetime, force: bool = False) -> bool:
    """Claim a due source for polling: move its next poll on; False if another replica did."""
    with session_scope(engine) as session:
        source = session.get(PolicySource, source_id)
        if source is None:
            return False
        query = update(PolicySource).where(col(PolicySource.id) == source_id)
        if not force:
            query = query.where(col(PolicySource.next_poll_at) <= now)
        # The compare-and-set on next_poll_at is the claim: one replica wins the row.
        result = session.execute(
            query.values(
                next_poll_at=now + timedelta(seconds=source.interval_s), last_polled_at=now
            )
        )
        session.commit()
        return bool(getattr(result, "rowcount", 0))


def mark_fetched(
    *,
    session: Session,
    source_id: int | None,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
) -> PolicySource:
    """Record a successful fetch: the validators for the next conditional GET, health reset."""
    row = None if source_id is None else session.get(PolicySource, source_id)
    if row is None:
        raise NotFound(f"No source {source_id}.")
    row.etag, row.last_modified = etag, last_modified
    row.last_success_at, row.last_error, row.failures = now, None, 0
    row.failure_alerted = False
    session.add(row)
    return row


def due_sources(*, session: Session, now: datetime) -> list[int]:
    """Return the ids of sources due for a poll."""
    return [
        s
        for s in session.exec(
            select(PolicySource.id).where(
                PolicySource.next_poll_at <= now, col(PolicySource.kind).in_(POLLED_KIND_NAMES)
            )
        )
        if s is not None
    ]


def insert_unique(engine: Engine, row: Any) -> Any | None:
    """Insert a row in its own transaction; return None if its unique key exists (idempotent)."""
    with session_scope(engine) as session:
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
        session.refresh(row)
        return row


def list_changes(
    *, session: Session, since: datetime | None = None, limit: int = 50
) -> list[PolicyChange]:
    """Return recent changes, newest first."""
    query = select(PolicyChange).order_by(col(PolicyChange.detected_at).desc()).limit(limit)
    if since is not None:
        query = query.where(PolicyChange.detected_at >= since)
    return list(session.exec(query))


def get_state(*, session: Session, key: str) -> str | None:
    """Return a job marker."""
    row = session.get(AppState, key)
    return row.value if row else None


def set_state(*, session: Session, key: str, value: str) -> None:
    """Set a job marker."""
    row = session.get(AppState, key) or AppState(key=key, value=value)
    row.value = value
    session.add(row)


def subscribe(
    *,
    session: Session,
    channel: str,
    source_ids: list[int],
    tags: list[str],
    schedule: str | None,
    user: str,
    now: datetime,
    workspace: Workspace = NONE,
) -> Subscription:
    """Create or extend a channel's subscription (one per channel)."""
    sub = session.exec(select(Subscription).where(Subscription.channel == channel)).first()
    if sub is None:
        sub = Subscription(
            channel=channel,
            created_by=user,
            created_at=now,
            last_period=now,  # digests cover changes from now on
            **workspace.columns(),
        )
    sub.source_ids = sorted(set(sub.source_ids) | set(source_ids))
    sub.tags = sorted(set(sub.tags) | set(tags))
    if schedule:
        sub.schedule = schedule
    sub.paused, sub.paused_reason = False, None
    session.add(sub)
    session.flush()
    return sub


def unsubscribe(
    *, session: Session, channel: str, source_ids: list[int], tags: list[str]
) -> Subscription | None:
    """Remove sources or tags from a subscription, or the whole subscription when none given."""
    sub = session.exec(select(Subscription).where(Subscription.channel == channel)).first()
    if sub is None:
        raise NotFound(f"<#{channel}> has no subscription.", markup=True)
    left_ids = [s for s in sub.source_ids if s not in source_ids]
    left_tags = [t for t in sub.tags if t not in tags]
    # Removing a scoped subscription's last source or tag ends it: an empty scope means
    # "every source", the opposite of what was asked.
    scoped = bool(sub.source_ids or sub.tags)
    if (not source_ids and not tags) or (scoped and not (left_ids or left_tags)):
        # Sent deliveries stay in the outbox as history, no longer tied to the subscription;
        # pending ones are not posted to a channel that asked to stop.
        delivery = col(Delivery.subscription_id) == sub.id
        session.execute(
            update(Delivery)
            .where(delivery, col(Delivery.status) == "pending")
            .values(status="cancelled", last_error="unsubscribed")
        )
        session.execute(update(Delivery).where(delivery).values(subscription_id=None))
        session.delete(sub)
        return None
    sub.source_ids, sub.tags = left_ids, left_tags
    session.add(sub)
    return sub


def list_subscriptions(*, session: Session, team: str | None = None) -> list[Subscription]:
    """Return every subscription, or one workspace's."""
    query = select(Subscription).order_by(col(Subscription.id))
    if team:
        query = query.where(Subscription.team_id == team)
    return list(session.exec(query))


def subscribed(sub: Subscription, source: PolicySource | None) -> bool:
    """Return whether a change of this source goes to the subscription."""
    if not sub.source_ids and not sub.tags:
        return True
    if source is None:
        return False
    return source.id in sub.source_ids or bool(set(sub.tags) & set(source.tags))


def resolve_sources(*, session: Session, refs: list[str]) -> tuple[list[int], list[str]]:
    """Split subscription arguments into source ids (by id or name) and tags."""
    ids, tags = [], []
    sources = list_sources(session=session)
    by_name = {s.name.lower(): s for s in sources}
    all_tags = {t for s in sources for t in s.tags}
    for ref in refs:
        if ref.isdigit() and any(s.id == int(ref) for s in sources):
            ids.append(int(ref))
        elif ref.lower() in by_name:
            ids.append(by_name[ref.lower()].id or 0)
        elif ref in all_tags:
            tags.append(ref)
        else:
            raise BotError(f"'{ref}' is neither a source nor a tag. See `/clearance sources`.")
    return ids, tags


def channel_subscription(*, session: Session, channel: str) -> Subscription | None:
    """Return a channel's subscription, if it has one."""
    return session.exec(select(Subscription).where(Subscription.channel == channel)).first()
