"""Policy tracking in Slack: subscriptions, sources, changes, digest preview, Update group."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from bot.domain.rules.checks import validate_table
from bot.domain.tracking.digest import build_digest
from bot.domain.tracking.digest_schedule import parse_schedule
from bot.services.jobs import Jobs
from bot.services.workspace import current_workspace
from handlers.deps import Deps, guarded
from handlers.render.blocks import (
    Payload,
    escape,
    header,
    list_section,
    message,
    plural,
    render_notice,
    section,
)
from handlers.render.digests import render_digest
from storage.db import session_scope
from storage.models import PolicyChange, PolicySource, Subscription
from storage.policies import (
    list_changes,
    list_sources,
    list_subscriptions,
    resolve_sources,
    subscribe,
    unsubscribe,
)
from storage.rules import load_table, write_revision

SUBCOMMANDS = {"subscribe", "unsubscribe", "subscriptions", "sources", "changes", "digest"}
_SCHEDULE = re.compile(r"\b(daily|weekly)\b.*$", re.I)


def _jobs(deps: Deps, client: WebClient | None = None) -> Jobs:
    return Jobs(deps.engine, deps.settings, client=client, cache=deps.cache)


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


def subcommand(
    deps: Deps, client: WebClient, word: str, rest: str, *, user: str, channel: str
) -> Payload:
    """Run a policy-tracking subcommand and return its message."""
    if word in ("subscribe", "unsubscribe"):
        if not deps.settings.subscribe_anyone and not deps.is_admin(user, client):
            deps.record_admin_action(user_id=user, action=word, target=channel, allowed=False)
            return render_notice("Sorry, only compliance admins can change subscriptions.")
        refs, schedule = _split(rest)
        with session_scope(deps.engine) as session:
            ids, tags = resolve_sources(session=session, refs=refs)
            if word == "subscribe":
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
            else:
                left = unsubscribe(session=session, channel=channel, source_ids=ids, tags=tags)
                session.commit()
                text = (
                    f"<#{channel}> is unsubscribed."
                    if left is None
                    else f"<#{channel}> now gets {_scope(left)}."
                )
        deps.record_admin_action(
            user_id=user, action=word, target=channel, allowed=True, reason=rest or None
        )
        return render_notice(text)
    if word == "subscriptions":
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
                list_section(
                    plural(len(subs), "channel"), items or ["none yet"], limit=30, raw=True
                ),
            ],
        )
    if word == "sources":
        with session_scope(deps.engine) as session:
            sources = list_sources(session=session)
        return render_sources(sources)
    if word == "changes":
        since = None
        m = re.match(r"^since\s+(\d{4}-\d{2}-\d{2})$", rest.strip(), re.I)
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
            changes = list_changes(session=session, since=since, limit=30)
        return render_changes(_jobs(deps).views(changes))
    if word == "digest":
        if rest.strip().lower() != "preview":
            raise BotError("Use `/clearance digest preview` to see the next digest here.")
        with session_scope(deps.engine) as session:
            sub = session.exec(_sub_query(channel)).first()
        if sub is None:
            raise BotError(
                f"<#{channel}> has no subscription. `/clearance subscribe` first.", markup=True
            )
        jobs = _jobs(deps)
        changes = jobs.pending_changes(sub, until=deps.clock())
        if not changes:
            return render_notice(
                "Nothing new since the last digest: the next one would be "
                "empty, so none would be posted."
            )
        parts = render_digest(
            build_digest(jobs.views(changes), since=sub.last_digest_at, now=deps.clock())
        )
        preview = parts[0]
        note = (
            f"Preview only; {len(parts) - 1} thread message(s) would follow."
            if len(parts) > 1
            else "Preview only."
        )
        return {"text": preview["text"], "blocks": [*preview["blocks"][:48], section(f"_{note}_")]}
    raise BotError("Unknown subcommand.")


def _sub_query(channel: str) -> Any:
    from sqlmodel import select

    return select(Subscription).where(Subscription.channel == channel)


def _scope(sub: Subscription) -> str:
    if not sub.source_ids and not sub.tags:
        return "every source"
    parts = []
    if sub.source_ids:
        parts.append("sources " + ", ".join(str(i) for i in sub.source_ids))
    if sub.tags:
        parts.append("tags " + ", ".join(escape(t) for t in sub.tags))
    return " and ".join(parts)


def render_sources(sources: list[PolicySource]) -> Payload:
    """Return the sources with their health."""
    items = []
    for s in sources:
        if s.kind == "rule_table":
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
            list_section(plural(len(sources), "source"), items or ["none"], limit=30),
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


def update_group(deps: Deps, *, change_id: int, user: str) -> str:
    """Apply a country-list change to its linked group as a new revision; return a summary."""
    with session_scope(deps.engine) as session:
        change = session.get(PolicyChange, change_id)
        source = (
            session.get(PolicySource, change.source_id) if change and change.source_id else None
        )
        if change is None or source is None or not source.country_list_group:
            raise BotError("That change is not from a country-list source.")
        old = load_table(session=session)
        group = old.groups.get(source.country_list_group)
        if group is None:
            raise BotError(f"The linked group '{source.country_list_group}' no longer exists.")
        added = [c for c in change.details.get("added") or [] if c not in group.members]
        removed = [c for c in change.details.get("removed") or [] if c in group.members]
        if not added and not removed:
            raise BotError(f"Group {group.id} already reflects change #{change_id}.")
        new = load_table(session=session)
        members = tuple(m for m in group.members if m not in removed) + tuple(added)
        new.groups[group.id] = replace(group, members=members)
        problems = validate_table(new, deps.cache.get().places)
        if problems:
            raise BotError(
                "Updating the group would break: "
                + "; ".join(f"{p.kind} {p.id}: {p.message}" for p in problems[:5])
            )
        detail = f"added {', '.join(added) or 'none'}; removed {', '.join(removed) or 'none'}"
        rev = write_revision(
            session=session,
            old=old,
            new=new,
            author=f"slack:{user}",
            now=deps.clock(),
            summary=f"update group {group.id} from change #{change_id}: {detail}",
        )
        session.commit()
    deps.cache.invalidate()
    deps.record_admin_action(
        user_id=user,
        action="update group",
        target=group.id,
        allowed=True,
        revision=rev.number,
        reason=detail,
    )
    return f"Group *{group.id}* updated in revision {rev.number}: {detail}."


def register(app: App, deps: Deps) -> None:
    """Register the Update group button."""

    @app.action("update_group")
    def handle_update_group(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        deps.later(
            lambda: _update_group_for(deps, body["user"]["id"], action["value"], respond, client),
            respond=respond,
        )


def _update_group_for(
    deps: Deps, user: str, change: str, respond: Respond, client: WebClient
) -> None:
    """Update a group from a country-list change, for an admin; tell them and the audit channel."""
    if not deps.is_admin(user, client):
        deps.record_admin_action(user_id=user, action="update group", target=change, allowed=False)
        respond(
            **render_notice("Sorry, only compliance admins can update groups."),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    payload = guarded(lambda: render_notice(update_group(deps, change_id=int(change), user=user)))
    respond(**payload, response_type="ephemeral", replace_original=False)
    if deps.settings.audit_channel and "updated in revision" in payload["text"]:
        client.chat_postMessage(
            channel=deps.settings.audit_channel, text=f"<@{user}>: {payload['text']}"
        )
