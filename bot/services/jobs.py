"""Scheduled jobs: poll sources, record impact, queue alerts and digests, deliver the outbox.

Every job takes `now` and can run on demand (the CLI) or from the scheduler, on any number of
replicas: sources are claimed by compare-and-set, changes/digests/alerts have unique keys, and each
delivery is claimed with a lease. A delivery counts its attempt before posting and carries its id in
the message metadata, so after a crash it is looked up in the channel before being posted again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.domain.asking.answers import build_knowledge
from bot.domain.tracking.country_lists import read_country_list
from bot.domain.tracking.digest import ChangeView, Digest, build_digest
from bot.domain.tracking.digest_schedule import parse_schedule
from bot.domain.tracking.html_limits import ParseLimits
from bot.domain.tracking.impact import flips_between, flips_on, rules_changing_on
from bot.domain.tracking.kinds import is_polled, kind_named
from bot.domain.tracking.severity import assess, assess_country_list, customer_countries
from bot.domain.tracking.shape import Shape, page_problem, shape_problem
from bot.domain.tracking.snapshots import Item, Snapshot, SourceError, SourceSpec
from bot.domain.tracking.sources import diff_snapshots, extract
from bot.services.asking import KnowledgeCache
from bot.services.fetching import Fetched, fetch
from bot.services.screening_polls import record_list_poll
from bot.services.workspace_clients import (
    NoInstallation,
    WorkspaceClients,
    delivery_workspace,
    record_no_installation,
)
from bot.settings import Settings
from storage.db import session_scope
from storage.models import Delivery, PolicyChange, PolicySnapshot, PolicySource, Subscription
from storage.outbox import claim_delivery, due_deliveries, finish
from storage.policies import (
    claim_source,
    due_sources,
    get_state,
    insert_unique,
    mark_fetched,
    rule_table_source_id,
    set_state,
    subscribed,
)
from storage.rules import current_revision, get_revision, load_table

log = logging.getLogger("clearance.jobs")
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
FAILURES_BEFORE_ALERT = 3
MAX_BACKOFF_S = 3600.0
ALERT_WINDOW = timedelta(days=7)
DIGEST_LOOKBACK = timedelta(days=31)  # how far back a digest looks for undelivered changes
MAX_SEEN = 2000  # document ids remembered per list source
MAX_FULL_DIFF_CHARS = 2_000_000  # the whole diff stored with a change
Fetcher = Callable[..., Fetched]


class Renderer(Protocol):
    """Turns changes into Slack messages; the wiring passes `handlers.render.digests`."""

    def render_alert(self, c: ChangeView, tz: str = "UTC") -> dict[str, Any]:
        """Return one high-severity change as a message."""

    def render_digest(self, d: Digest) -> list[dict[str, Any]]:
        """Return a digest as a message and its thread replies."""


@dataclass
class Jobs:
    """What the jobs need: the database, settings, a Slack client and this worker's name."""

    engine: Engine
    settings: Settings
    client: WebClient | None = None
    fetcher: Fetcher = fetch
    worker: str = field(default_factory=lambda: f"w-{uuid.uuid4().hex[:8]}")
    lease_s: float = 120.0
    fetch_threads: int = 16
    cache: KnowledgeCache | None = None
    renderer: Renderer = field(kw_only=True)
    clients: WorkspaceClients | None = None  # each workspace's own token (installs)

    def __post_init__(self) -> None:
        if self.cache is None:
            self.cache = KnowledgeCache(self.engine, settings=self.settings)

    # ------------------------------------------------------------ polling

    def poll(
        self, *, now: datetime, ids: list[int] | None = None, force: bool = False
    ) -> list[PolicyChange]:
        """Poll the due sources (or the given ones); return the changes found."""
        with session_scope(self.engine) as session:
            candidates = ids if ids is not None else due_sources(session=session, now=now)
        claimed = [i for i in candidates if claim_source(self.engine, i, now=now, force=force)]
        if not claimed:
            return []
        with session_scope(self.engine) as session:
            sources = {i: session.get(PolicySource, i) for i in claimed}
        with ThreadPoolExecutor(max_workers=max(1, min(self.fetch_threads, len(claimed)))) as ex:
            fetched = dict(
                zip(claimed, ex.map(lambda i: self._fetch(sources[i]), claimed), strict=True)
            )
        changes = []
        for source_id, result in fetched.items():
            source = sources[source_id]
            if source is None:
                continue
            change = self._record(source, result, now=now)
            if change is not None:
                changes.append(change)
        return changes

    def _fetch(self, source: PolicySource | None) -> Fetched:
        if source is None or not is_polled(source.kind):
            return Fetched(304)
        listed = kind_named(source.kind).size == "list"
        return self.fetcher(
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            timeout=self.settings.list_fetch_timeout_s if listed else self.settings.fetch_timeout_s,
            max_bytes=self.settings.list_max_bytes if listed else self.settings.fetch_max_bytes,
            allowed=self.settings.fetch_allowed_networks(),
        )

    def _record(
        self, source: PolicySource, result: Fetched, *, now: datetime
    ) -> PolicyChange | None:
        """Store a fetch outcome: health, snapshot, and the change (if any)."""
        if result.error is not None or (result.body is None and not result.not_modified):
            self._failed(source, result.error or f"HTTP {result.status}", now=now)
            return None
        if result.not_modified:
            self._healthy(source, now=now)
            return None
        assert result.body is not None
        kind = kind_named(source.kind)
        if kind.restricted_party_list:
            return record_list_poll(self, source, result, now=now)
        spec = SourceSpec(
            source.kind,
            source.selector,
            tuple(source.ignore),
            source.country_list_group is not None,
            source.url,
        )
        problem = page_problem(result.body, html_page=kind.html)
        if problem is not None:
            self._failed(source, f"not a change: {problem}", now=now)
            return None
        # Reading the page gets as long as fetching it may take.
        deadline = time.monotonic() + self.settings.fetch_timeout_s
        limits = ParseLimits(out_of_time=lambda: time.monotonic() > deadline)
        try:
            snapshot = extract(spec, result.body, limits)
        except SourceError as exc:
            self._failed(source, str(exc), now=now)
            return None
        except Exception as exc:  # a parser's own failure (RecursionError...) is the source's
            log.warning("source %s could not be read", source.name, exc_info=exc)
            self._failed(source, f"could not read the body ({type(exc).__name__})", now=now)
            return None
        with session_scope(self.engine) as session:
            previous = session.exec(
                select(PolicySnapshot)
                .where(PolicySnapshot.source_id == source.id)
                .order_by(col(PolicySnapshot.id).desc())
            ).first()
        unchanged = previous is not None and previous.hash == snapshot.hash
        if unchanged:
            self._healthy(source, now=now, fetched=result)
            return None
        kb = self._kb()
        shape = shape_of(spec, snapshot, kb.places)
        before = _before(previous) if previous is not None else None
        difference = (
            diff_snapshots(spec, before, snapshot, kb.places) if before is not None else None
        )
        prior = None
        if previous is not None and before is not None:
            stored = previous.content.get("shape")
            prior = Shape.from_dict(stored) if stored else shape_of(spec, before, kb.places)
        problem = shape_problem(
            prior,
            shape,
            removed=len(difference.removed) if difference else 0,
            max_removed_share=self.settings.country_list_max_removed,
        )
        if problem is not None:
            self._failed(source, f"not a change: {problem}", now=now)
            return None
        with session_scope(self.engine) as session:
            row = mark_fetched(
                session=session,
                source_id=source.id,
                etag=result.etag,
                last_modified=result.last_modified,
                now=now,
            )
            content = {**snapshot.to_dict(), "shape": shape.to_dict()}
            if snapshot.items:
                content["seen"] = _seen(previous, snapshot)
            session.add(
                PolicySnapshot(
                    source_id=source.id or 0,
                    fetched_at=now,
                    hash=snapshot.hash,
                    content=content,
                )
            )
            row.last_hash = snapshot.hash
            session.add(row)
            session.commit()
        if previous is None or difference is None:
            return None  # the first fetch is the baseline, not a change
        if spec.country_list:
            severity = assess_country_list(
                added=difference.added,
                removed=difference.removed,
                excluded=difference.excluded,
                readmitted=difference.readmitted,
                unresolved=difference.unresolved,
                countries=customer_countries(kb.table),
                places=kb.places,
            )
        else:
            severity = assess(
                difference.text + "\n" + difference.summary,
                default=source.severity,
                keywords=self.settings.high_keywords(),
                countries=customer_countries(kb.table),
                places=kb.places,
                added=difference.added,
                removed=difference.removed,
            )
        link: str | None = source.url
        if len(difference.items) == 1:
            link = difference.items[0].link
        elif kind.own_links:
            link = None  # the source URL is an API's: each item carries its own link
        details = {**difference.to_dict(), "reasons": list(severity.reasons)}
        if difference.full_diff:
            details["full_diff"] = difference.full_diff[:MAX_FULL_DIFF_CHARS]
        return insert_unique(
            self.engine,
            PolicyChange(
                dedupe_key=f"source:{source.id}:{previous.hash[:16]}:{snapshot.hash[:16]}",
                source_id=source.id,
                detected_at=now,
                summary=difference.summary,
                diff=difference.diff,
                link=link,
                severity=severity.level,
                details=details,
            ),
        )

    def _kb(self) -> Any:
        assert self.cache is not None
        return self.cache.get()

    def _healthy(
        self,
        source: PolicySource,
        *,
        now: datetime,
        fetched: Fetched | None = None,
    ) -> None:
        with session_scope(self.engine) as session:
            row = session.get(PolicySource, source.id)
            if row is not None:
                if fetched is not None:  # a full answer: keep its validators for the next GET
                    row.etag, row.last_modified = fetched.etag, fetched.last_modified
                row.last_success_at, row.last_error, row.failures = now, None, 0
                row.failure_alerted = False
                session.add(row)
                session.commit()

    def _failed(self, source: PolicySource, error: str, *, now: datetime) -> None:
        """Count a failure and back off; alert the admins once after repeated failures."""
        with session_scope(self.engine) as session:
            row = session.get(PolicySource, source.id)
            if row is None:
                return
            row.failures += 1
            row.last_error = error[:500]
            # Back off: 5 minutes, then doubling, never more than a day between tries.
            delay = min(300 * 2 ** min(row.failures - 1, 10), 24 * 3600)
            row.next_poll_at = now + timedelta(seconds=delay)
            failures = row.failures
            alert = row.failures >= FAILURES_BEFORE_ALERT and not row.failure_alerted
            if alert:
                row.failure_alerted = True
            session.add(row)
            session.commit()
        log.warning("source %s failed (%s in a row): %s", source.name, failures, error)
        if alert:
            text = (
                f"Policy source *{source.name}* has failed {FAILURES_BEFORE_ALERT} times in a "
                f"row. Last error: {error[:300]}. See `/clearance sources`."
            )
            self._notify_admins(text, key=f"health:{source.id}:{now.isoformat()}", now=now)

    # ------------------------------------------------------------ impact

    def record_revisions(self, *, now: datetime) -> list[PolicyChange]:
        """Record a change for each new rule-table revision, with the usages whose verdict flips."""
        with session_scope(self.engine) as session:
            newest = current_revision(session=session)
            mark = get_state(session=session, key="impact:revision")
            if mark is None:  # first run: history before now is not news
                set_state(session=session, key="impact:revision", value=str(newest))
                session.commit()
                return []
            source_id = rule_table_source_id(session=session)
        out = []
        for rev in range(int(mark) + 1, newest + 1):
            with session_scope(self.engine) as session:
                old = build_knowledge(load_table(session=session, revision=rev - 1))
                new = build_knowledge(load_table(session=session, revision=rev))
                revision = get_revision(session=session, number=rev)
            flips = flips_between(old, new, on=now.date())
            summary = (
                f"Revision {rev} by {revision.author if revision else '?'}: "
                f"{revision.summary if revision else ''}"
            )
            change = insert_unique(
                self.engine,
                PolicyChange(
                    dedupe_key=f"revision:{rev}",
                    source_id=source_id,
                    detected_at=now,
                    summary=summary,
                    severity="high" if flips else "normal",
                    revision=rev,
                    details={
                        "flips": [f.to_dict() for f in flips],
                        "flip_texts": [f.describe() for f in flips],
                        "reasons": ["verdicts flip for recorded usage"] if flips else [],
                    },
                ),
            )
            if change is not None:
                out.append(change)
            with session_scope(self.engine) as session:
                set_state(session=session, key="impact:revision", value=str(rev))
                session.commit()
        return out

    def record_rule_dates(self, *, now: datetime) -> list[PolicyChange]:
        """Record rules that come into force or lapse today, with the usages that flip."""
        today = now.date()
        with session_scope(self.engine) as session:
            mark = get_state(session=session, key="impact:day")
            source_id = rule_table_source_id(session=session)
        start = date.fromisoformat(mark) + timedelta(days=1) if mark else today
        start = max(start, today - timedelta(days=31))
        kb = self._kb()
        out = []
        day = start
        while day <= today:
            rules = rules_changing_on(kb, day)
            flips = flips_on(kb, day)
            if rules or flips:
                summary = (
                    f"Rules changing on {day}: {', '.join(rules) or 'none'}; "
                    f"{len(flips)} recorded usage(s) flip"
                )
                change = insert_unique(
                    self.engine,
                    PolicyChange(
                        dedupe_key=f"dates:{day.isoformat()}",
                        source_id=source_id,
                        detected_at=now,
                        summary=summary,
                        severity="high" if flips else "normal",
                        details={
                            "rules": rules,
                            "flips": [f.to_dict() for f in flips],
                            "flip_texts": [f.describe() for f in flips],
                            "reasons": ["verdicts flip for recorded usage"] if flips else [],
                        },
                    ),
                )
                if change is not None:
                    out.append(change)
            day += timedelta(days=1)
        with session_scope(self.engine) as session:
            set_state(session=session, key="impact:day", value=today.isoformat())
            session.commit()
        return out

    # ------------------------------------------------------------ alerts and digests

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

    # ------------------------------------------------------------ delivery

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
        return self.clients.for_workspace(delivery_workspace(self.engine, d))

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

    def _notify_admins(self, text: str, *, key: str, now: datetime) -> None:
        """Queue a direct message to each admin (through the outbox, so it is not lost)."""
        for admin in sorted(self.settings.admin_users()):
            insert_unique(
                self.engine,
                Delivery(
                    dedupe_key=f"{key}:{admin}",
                    channel=admin,
                    kind="notice",
                    payload={
                        "text": text,
                        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                    },
                    next_attempt_at=now,
                    created_at=now,
                ),
            )

    # ------------------------------------------------------------ everything

    def run_cycle(
        self, *, now: datetime, force: bool = False, channel: str | None = None
    ) -> dict[str, Any]:
        """Record impact, queue alerts and digests, then deliver (what `digest run` does)."""
        revisions = self.record_revisions(now=now)
        dates = self.record_rule_dates(now=now)
        alerts = self.queue_alerts(now=now)
        digests = self.queue_digests(now=now, channel=channel, force=force)
        delivered = self.deliver(now=now)
        return {
            "revisions": len(revisions),
            "date_changes": len(dates),
            "alerts": alerts,
            "digests": digests,
            "delivered": delivered,
        }


def shape_of(spec: SourceSpec, snapshot: Snapshot, places: Any) -> Shape:
    """Return the shape of a snapshot: its size, its places or items, and its intro."""
    if spec.country_list:
        listing = read_country_list(snapshot.text, places)
        return Shape(len(snapshot.text), len(listing.entries), None, spec.selector, listing.intro)
    items = len(snapshot.items) if kind_named(spec.kind).items is not None else None
    intro = "\n".join(snapshot.text.splitlines()[:2])[:300]
    return Shape(len(snapshot.text), None, items, spec.selector, intro)


def _before(previous: PolicySnapshot) -> Snapshot:
    """Return the stored snapshot, its items extended by every id seen before (so a document
    that drops off the list and comes back is not new again)."""
    snap = Snapshot.from_dict(previous.content)
    have = {i.id for i in snap.items}
    extra = [Item(str(i), "") for i in previous.content.get("seen") or () if str(i) not in have]
    return Snapshot(snap.text, snap.items + tuple(extra)) if extra else snap


def _seen(previous: PolicySnapshot | None, snapshot: Snapshot) -> list[str]:
    """Return the ids seen so far, newest first, at most MAX_SEEN."""
    ids = [i.id for i in snapshot.items]
    if previous is not None:
        ids += [i.get("id", "") for i in previous.content.get("items") or ()]
        ids += [str(i) for i in previous.content.get("seen") or ()]
    return list(dict.fromkeys(i for i in ids if i))[:MAX_SEEN]


def _tz(sub: Subscription) -> str:
    """Return the time zone of a subscription's schedule (UTC if it can't be read)."""
    try:
        return parse_schedule(sub.schedule).tz
    except Exception:
        return "UTC"


def _aware(value: datetime) -> datetime:
    """Return a datetime with a time zone (naive values from the database are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
