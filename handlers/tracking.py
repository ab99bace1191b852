"""Policy-tracking subcommands: subscriptions, sources, recent changes and the digest preview."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import BotError
from bot.domain.tracking.digest import build_digest
from bot.domain.tracking.digest_schedule import parse_schedule
from bot.domain.tracking.kinds import is_polled
from bot.services.jobs import Jobs
from bot.services.workspace import current_workspace
from handlers.deps import Deps
from handlers.render import digests
from handlers.render.blocks import Payload, escape, header, list_section, message, plural, section
from handlers.render.digests import render_digest
from handlers.render.notices import render_notice
from storage.db import session_scope
from storage.policies import (
    channel_subscription,
    list_changes,
    list_sources,
    list_subscriptions,
    resolve_sources,
    subscribe,
    unsubscribe,
)
from storage.tables.tracking import PolicySource, Subscription

_SCHEDULE = re.compile(r"\b(daily|weekly)\b.*$", re.I)
_SINCE = re.compile(r"^since\s+(\d{4}-\d{2}-\d{2})$", re.I)


def _jobs(deps: Deps) -> Jobs:
    return Jobs(deps.engine, deps.settings, cache=deps.cache, renderer=digests)


def _split(rest: str) -> tuple[list[str], str | None]:
    """Split "bis 'OFAC recent actions' weekly MON 09:00 Europe/Berlin" into refs and schedule."""
    schedule = None
    m = _SCHEDULE.search(rest)
    if m:
        schedule = parse_schedule(m.group(0)).describe()
        rest = rest[: m.start()]
    try:
        refs = shlex.split(rest.replace("\u201c", '"').replace("\u201d", '"'))
    except ValueError as exc:
        raise BotError(f"Can't read the source names ({exc}); quote names with spaces.") from None
    return refs, schedule


def subscribe_channel(deps: Deps, rest: str, *, user: str, channel: str) -> Payload:
    """`subscribe [SOURCES or TAGS] [SCHEDULE]`: digests of policy changes in this channel."""
    refs, schedule = _split(rest)
    with session_scope(deps.engine) as session:
        ids, tags = resolve_sources(session=session, refs=refs)
        sub = subscribe(
            session=session,
            channel=channel,
            source_ids=ids,
            tags=tags,
            schedule=schedule,
            user=user,
            now=deps.clock(),
            workspace=current_workspace(),
        )
        session.commit()
        text = (
            f"<#{channel}> now gets {_scope(sub)} on a {sub.schedule} digest; "
            "urgent changes are posted at once."
        )
    deps.record_admin_action(
        user_id=user, action="subscribe", target=channel, allowed=True, reason=rest or None
    )
    return render_notice(text)


def unsubscribe_channel(deps: Deps, rest: str, *, user: str, channel: str) -> Payload:
    """`unsubscribe [SOURCES or TAGS]`: stop this channel's digests, or some of their sources."""
    refs, _schedule = _split(rest)
    with session_scope(deps.engine) as session:
        ids, tags = resolve_sources(session=session, refs=refs)
        left = unsubscribe(session=session, channel=channel, source_ids=ids, tags=tags)
        session.commit()
        text = (
            f"<#{channel}> is unsubscribed."
            if left is None
            else f"<#{channel}> now gets {_scope(left)}."
        )
    deps.record_admin_action(
        user_id=user, action="unsubscribe", target=channel, allowed=True, reason=rest or None
    )
    return render_notice(text)


def subscriptions(deps: Deps) -> Payload:
    """`subscriptions`: the channels that get digests, and what each gets."""
    with session_scope(deps.engine) as session:
        subs = list_subscriptions(session=session, team=deps.team_scope())
    items = [
        f"<#{escape(s.channel)}>: {_scope(s)} · {escape(s.schedule)}"
        + (f" · *paused* ({escape(s.paused_reason)})" if s.paused else "")
        for s in subs
    ]
    return message(
        "Subscriptions",
        [
            header("Subscriptions"),
            list_section(plural(len(subs), "channel"), items or ["none yet"], limit=30, raw=True),
        ],
    )


def sources(deps: Deps) -> Payload:
    """`sources`: the tracked sources and their health."""
    with session_scope(deps.engine) as session:
        return render_sources(list_sources(session=session))


def changes(deps: Deps, rest: str) -> Payload:
    """`changes [since DATE]`: recent policy changes."""
    since = None
    m = _SINCE.match(rest.strip())
    if rest.strip() and not m:
        raise BotError("Use `/clearance changes` or `/clearance changes since 2026-11-01`.")
    if m:
        try:
            since = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
        except ValueError:
            raise BotError(
                f"'{m.group(1)}' is not a date. Use `/clearance changes since 2026-11-01` "
                "(year-month-day)."
            ) from None
    with session_scope(deps.engine) as session:
        found = list_changes(session=session, since=since, limit=30)
    return render_changes(_jobs(deps).views(found))


def digest_preview(deps: Deps, rest: str, *, channel: str) -> Payload:
    """`digest preview`: the next digest of this channel's subscription, shown only here."""
    if rest.strip().lower() != "preview":
        raise BotError("Use `/clearance digest preview` to see the next digest here.")
    with session_scope(deps.engine) as session:
        own = channel_subscription(session=session, channel=channel)
    if own is None:
        raise BotError(
            f"<#{channel}> has no subscription. `/clearance subscribe` first.", markup=True
        )
    jobs = _jobs(deps)
    pending = jobs.pending_changes(own, until=deps.clock())
    if not pending:
        return render_notice(
            "Nothing new since the last digest: the next one would be "
            "empty, so none would be posted."
        )
    parts = render_digest(
        build_digest(
            jobs.views(pending),
            since=own.last_digest_at,
            now=deps.clock(),
            tz=parse_schedule(own.schedule).tz,
        )
    )
    preview = parts[0]
    note = (
        f"Preview only; {len(parts) - 1} thread message(s) would follow."
        if len(parts) > 1
        else "Preview only."
    )
    return {"text": preview["text"], "blocks": [*preview["blocks"][:48], section(f"_{note}_")]}


def _scope(sub: Subscription) -> str:
    if not sub.source_ids and not sub.tags:
        return "every source"
    parts = []
    if sub.source_ids:
        parts.append("sources " + ", ".join(str(i) for i in sub.source_ids))
    if sub.tags:
        parts.append("tags " + ", ".join(escape(t) for t in sub.tags))
    return " and ".join(parts)


def render_sources(found: list[PolicySource]) -> Payload:
    """Return the sources with their health."""
    items = []
    for s in found:
        if not is_polled(s.kind):
            health = "internal"
        elif s.failures:
            health = f"⚠️ failing x{s.failures}: {s.last_error}"
        elif s.last_success_at:
            health = f"ok {s.last_success_at:%Y-%m-%d %H:%M} UTC"
        else:
            health = "not polled yet"
        items.append(
            f"`{s.id}` {s.name} ({s.kind}, every {s.interval_s // 3600 or 1}h"
            f"{', tags ' + ', '.join(s.tags) if s.tags else ''}) · {health}"
        )
    return message(
        "Tracked sources",
        [
            header("Tracked sources"),
            list_section(plural(len(found), "source"), items or ["none"], limit=30),
        ],
    )


def render_changes(views: list[Any]) -> Payload:
    """Return recent changes."""
    items = [
        f"{v.detected_at:%Y-%m-%d} · {'🔴 ' if v.severity == 'high' else ''}{v.source}: {v.summary}"
        for v in views
    ]
    return message(
        "Recent policy changes",
        [
            header("Recent policy changes"),
            list_section(plural(len(views), "change"), items or ["none"], limit=30),
        ],
    )
