"""A poll of a restricted-party list source: store a list version, re-screen, record the change.

A download that fails the guards (empty, truncated, unparseable, removing more than the allowed
share of entries, or losing every alias or address the stored version had) is a failed fetch: the stored version stays, the source's health records the
error, and admins hear of it after repeated failures, as for any source.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.errors import BotError
from bot.domain.screening.companions import companion_urls
from bot.services.fetching import Fetched
from bot.services.list_imports import import_list
from bot.services.rescreening import hit_change_texts, rescreen_customers
from bot.services.screening_cache import ScreeningCache
from storage.db import session_scope
from storage.list_versions import StoredVersion
from storage.policies import insert_unique, mark_fetched
from storage.tables.tracking import PolicyChange, PolicySource

if TYPE_CHECKING:
    from bot.services.source_polls import SourcePolls

log = logging.getLogger("clearance.screening")
MAX_DIFF_LINES = 60


def list_id_for(source: PolicySource) -> str:
    """The list a source feeds: one list per source."""
    return f"source-{source.id}"


def fetch_companions(jobs: SourcePolls, source: PolicySource) -> dict[str, bytes] | str:
    """Download the files that go with a list file (OFAC's ALT.CSV and ADD.CSV), or say why not.

    A companion that fails fails the whole fetch: a version without the aliases would drop them.
    """
    out = {}
    for part, url in companion_urls(source.kind, source.url).items():
        got = jobs.fetcher(
            url,
            etag=None,
            last_modified=None,
            timeout=jobs.settings.list_fetch_timeout_s,
            max_bytes=jobs.settings.list_max_bytes,
            allowed=jobs.settings.fetch_allowed_networks(),
        )
        name = url.rsplit("/", 1)[-1]
        if got.error is not None or got.body is None:
            return f"{name}: {got.error or f'HTTP {got.status}'}"
        if not got.body.strip(b" \r\n\t\x1a"):
            return f"{name}: the download is empty"
        out[part] = got.body
    return out


def record_list_poll(
    jobs: SourcePolls, source: PolicySource, result: Fetched, *, now: datetime
) -> PolicyChange | None:
    """Store a polled list file as a new version; on a new version re-screen and record a change."""
    stored = _store_download(jobs, source, result, now=now)
    if stored is None:
        return None
    return _record_version(jobs, source, stored, now=now)


def _store_download(
    jobs: SourcePolls, source: PolicySource, result: Fetched, *, now: datetime
) -> StoredVersion | None:
    """Store a downloaded list file with its companions and mark the source fetched.

    Returns None when a companion or the guards refused the download, recorded as a failed fetch.
    """
    assert result.body is not None
    companions = fetch_companions(jobs, source)
    if isinstance(companions, str):
        jobs._failed(source, companions, now=now)
        return None
    try:
        stored = import_list(
            jobs.engine,
            kind=source.kind,
            body=result.body,
            alt=companions.get("alt"),
            add=companions.get("add"),
            list_id=list_id_for(source),
            name=source.name,
            now=now,
            origin="poll",
            source_id=source.id,
            max_removed_share=jobs.settings.list_max_removed,
        )
    except BotError as exc:
        jobs._failed(source, exc.message, now=now)
        return None
    with session_scope(jobs.engine) as session:
        mark_fetched(
            session=session,
            source_id=source.id,
            etag=result.etag,
            last_modified=result.last_modified,
            now=now,
        )
        session.commit()
    return stored


def _record_version(
    jobs: SourcePolls, source: PolicySource, stored: StoredVersion, *, now: datetime
) -> PolicyChange | None:
    """Re-screen customers on a new list version and record it as a change, unless it is the first."""
    version = stored.version
    if version is None:
        return None
    state = ScreeningCache(jobs.engine).get()
    kb = jobs._kb()
    rescreen = rescreen_customers(jobs.engine, state, kb, now=now)
    first = version.added == version.entries and not version.removed
    if first:
        return None  # the first version is the baseline, not a change
    texts = hit_change_texts(kb, rescreen, state, on=now.date())
    lines = [c.describe(source.name) for c in stored.diff.all()[:MAX_DIFF_LINES]]
    summary = (
        f"{source.name}: {version.added} added, {version.removed} removed, "
        f"{version.changed} changed ({version.entries} entries)"
    )
    if texts:
        summary = (
            f"{texts[0]} ({source.name}: +{version.added} -{version.removed} ~{version.changed})"
        )
    return insert_unique(
        jobs.engine,
        PolicyChange(
            dedupe_key=f"list:{list_id_for(source)}:{version.id}",
            source_id=source.id,
            detected_at=now,
            summary=summary,
            diff="\n".join(lines),
            link=source.url,
            severity="high" if texts else source.severity,
            details={
                "list": list_id_for(source),
                "version": version.id,
                "changes": version.changes[:MAX_DIFF_LINES],
                "flip_texts": texts,
                "reasons": ["screening hits changed for registered customers"] if texts else [],
            },
        ),
    )
