"""Polling policy sources: fetch, check the shape, store the snapshot, record the change.

Sources are claimed by compare-and-set, so any number of replicas poll each source once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.domain.asking.knowledge import Knowledge
from bot.domain.tracking.country_lists import read_country_list
from bot.domain.tracking.html_limits import ParseLimits
from bot.domain.tracking.kinds import is_polled, kind_named
from bot.domain.tracking.severity import assess, assess_country_list, customer_countries
from bot.domain.tracking.shape import Shape, page_problem, shape_problem
from bot.domain.tracking.snapshots import Item, Snapshot, SourceError, SourceSpec
from bot.domain.tracking.sources import Difference, diff_snapshots, extract
from bot.services.fetching import Fetched
from bot.services.job_context import JobContext, log
from bot.services.screening_polls import record_list_poll
from storage.db import session_scope
from storage.policies import (
    claim_source,
    due_sources,
    insert_unique,
    mark_fetched,
)
from storage.tables.tracking import PolicyChange, PolicySnapshot, PolicySource

FAILURES_BEFORE_ALERT = 3
MAX_SEEN = 2000  # document ids remembered per list source
MAX_FULL_DIFF_CHARS = 2_000_000  # the whole diff stored with a change


class SourcePolls(JobContext):
    """Poll due sources: fetch each on its own, store health and snapshots, record changes."""

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
        if kind_named(source.kind).restricted_party_list:
            return record_list_poll(self, source, result, now=now)
        spec = SourceSpec(
            source.kind,
            source.selector,
            tuple(source.ignore),
            source.country_list_group is not None,
            source.url,
        )
        snapshot = self._read(source, spec, result.body, now=now)
        if snapshot is None:
            return None
        with session_scope(self.engine) as session:
            previous = session.exec(
                select(PolicySnapshot)
                .where(PolicySnapshot.source_id == source.id)
                .order_by(col(PolicySnapshot.id).desc())
            ).first()
        if previous is not None and previous.hash == snapshot.hash:
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
        self._store(source, result, snapshot, shape, previous, now=now)
        if previous is None or difference is None:
            return None  # the first fetch is the baseline, not a change
        return self._change(source, spec, previous, snapshot, difference, kb, now=now)

    def _read(
        self, source: PolicySource, spec: SourceSpec, body: bytes, *, now: datetime
    ) -> Snapshot | None:
        """Read a fetched page as a snapshot; a body that isn't one is a failure, and None."""
        problem = page_problem(body, html_page=kind_named(source.kind).html)
        if problem is not None:
            self._failed(source, f"not a change: {problem}", now=now)
            return None
        # Reading the page gets as long as fetching it may take.
        deadline = time.monotonic() + self.settings.fetch_timeout_s
        limits = ParseLimits(out_of_time=lambda: time.monotonic() > deadline)
        try:
            return extract(spec, body, limits)
        except SourceError as exc:
            self._failed(source, str(exc), now=now)
        except Exception as exc:  # a parser's own failure (RecursionError...) is the source's
            log.warning("source %s could not be read", source.name, exc_info=exc)
            self._failed(source, f"could not read the body ({type(exc).__name__})", now=now)
        return None

    def _store(
        self,
        source: PolicySource,
        result: Fetched,
        snapshot: Snapshot,
        shape: Shape,
        previous: PolicySnapshot | None,
        *,
        now: datetime,
    ) -> None:
        """Keep the new snapshot (with its shape and the ids seen) and the source's validators."""
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

    def _change(
        self,
        source: PolicySource,
        spec: SourceSpec,
        previous: PolicySnapshot,
        snapshot: Snapshot,
        difference: Difference,
        kb: Knowledge,
        *,
        now: datetime,
    ) -> PolicyChange | None:
        """Record the change between two snapshots, with its severity and link (once)."""
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
        elif kind_named(source.kind).own_links:
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
