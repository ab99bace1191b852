"""Policy tracking in Slack: subscriptions, sources, changes, digest preview, Update group."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from bot.domain.tracking.digest import build_digest
from bot.domain.tracking.digest_schedule import parse_schedule
from bot.services.group_updates import apply_group_update, plan_group_update
from bot.services.jobs import Jobs
from bot.services.workspace import current_workspace
from bot.services.workspace_channels import configured_channel
from handlers.deps import Deps, guarded
from handlers.render import digests
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
from handlers.render.group_updates import (
    decided_line,
    render_group_update_modal,
    replace_message_actions,
)
from storage.db import session_scope
from storage.models import PolicySource, Subscription
from storage.policies import (
    channel_subscription,
    list_changes,
    list_sources,
    list_subscriptions,
    resolve_sources,
    subscribe,
    unsubscribe,
)
from storage.rules import current_revision

SUBCOMMANDS = {"subscribe", "unsubscribe", "subscriptions", "sources", "changes", "digest"}
_SCHEDULE = re.compile(r"\b(daily|weekly)\b.*$", re.I)


def _jobs(deps: Deps, client: WebClient | None = None) -> Jobs:
    return Jobs(deps.engine, deps.settings, client=client, cache=deps.cache, renderer=digests)


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
            own = channel_subscription(session=session, channel=channel)
        if own is None:
            raise BotError(
                f"<#{channel}> has no subscription. `/clearance subscribe` first.", markup=True
            )
        jobs = _jobs(deps)
        changes = jobs.pending_changes(own, until=deps.clock())
        if not changes:
            return render_notice(
                "Nothing new since the last digest: the next one would be "
                "empty, so none would be posted."
            )
        parts = render_digest(
            build_digest(
                jobs.views(changes),
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
    raise BotError("Unknown subcommand.")


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
    plan, rev = apply_group_update(
        deps.engine,
        change_id,
        user=user,
        now=deps.clock(),
        places=deps.cache.get().places,
        share=deps.settings.country_list_max_removed,
    )
    deps.cache.invalidate()
    detail = plan.describe()
    deps.record_admin_action(
        user_id=user,
        action="update group",
        target=plan.group,
        allowed=True,
        revision=rev.number,
        reason=detail,
    )
    return f"Group *{plan.group}* updated in revision {rev.number}: {detail}."


def register(app: App, deps: Deps) -> None:
    """Register Update group (a confirmation modal, then the change) and Decline."""

    @app.action("update_group")
    def handle_update_group(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        deps.later(
            lambda: _confirm_update(deps, body, action["value"], respond, client),
            respond=respond,
        )

    @app.view("update_group_confirm")
    def handle_confirm(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        deps.later(lambda: _apply_update(deps, body["user"]["id"], meta, client))

    @app.action("decline_group_update")
    def handle_decline(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        deps.later(
            lambda: _decline_update(deps, body, action["value"], respond, client), respond=respond
        )


def _refuse(deps: Deps, user: str, change: str, respond: Respond, action: str) -> None:
    deps.record_admin_action(user_id=user, action=action, target=change, allowed=False)
    respond(
        **render_notice("Sorry, only compliance admins can update groups."),
        response_type="ephemeral",
        replace_original=False,
    )


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return the channel and ts of the message a button was on."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


def _confirm_update(
    deps: Deps, body: dict[str, Any], change: str, respond: Respond, client: WebClient
) -> None:
    """Open the confirmation modal (places, sizes, impact preview) for an admin."""
    user = body["user"]["id"]
    if not deps.is_admin(user, client):
        _refuse(deps, user, change, respond, "update group")
        return
    try:
        plan = plan_group_update(
            deps.engine,
            int(change),
            on=deps.clock().date(),
            share=deps.settings.country_list_max_removed,
        )
    except BotError as exc:
        respond(
            **render_notice(escape(exc.message)), response_type="ephemeral", replace_original=False
        )
        return
    channel, ts = _where(body)
    view = render_group_update_modal(plan, deps.cache.get().places, channel=channel, ts=ts)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _apply_update(deps: Deps, user: str, meta: dict[str, Any], client: WebClient) -> None:
    """Apply a confirmed update; update the message for everyone and tell the audit channel."""
    change = str(meta.get("change", ""))
    channel, ts = meta.get("channel"), meta.get("ts")
    if not deps.is_admin(user, client):
        deps.record_admin_action(user_id=user, action="update group", target=change, allowed=False)
        return
    payload = guarded(lambda: render_notice(update_group(deps, change_id=int(change), user=user)))
    done = "updated in revision" in payload["text"]
    if channel:
        client.chat_postEphemeral(
            channel=channel, user=user, text=payload["text"], blocks=payload.get("blocks")
        )
    if done:
        revision = payload["text"].split("updated in revision ", 1)[1].split(":", 1)[0]
        _mark_decided(
            deps, client, channel, ts, int(change), user, f"Applied in revision {revision}"
        )
        audit = configured_channel(deps.engine, deps.settings, current_workspace(), "audit")
        if audit:
            client.chat_postMessage(channel=audit, text=f"<@{user}>: {payload['text']}")


def _decline_update(
    deps: Deps, body: dict[str, Any], change: str, respond: Respond, client: WebClient
) -> None:
    """Record that an admin declined a country-list change, and update the message."""
    user = body["user"]["id"]
    if not deps.is_admin(user, client):
        _refuse(deps, user, change, respond, "decline group update")
        return
    with session_scope(deps.engine) as session:
        revision = current_revision(session=session)
    deps.record_admin_action(
        user_id=user, action="decline group update", target=change, allowed=True, revision=revision
    )
    channel, ts = _where(body)
    _mark_decided(deps, client, channel, ts, int(change), user, f"Declined at revision {revision}")


def _mark_decided(
    deps: Deps,
    client: WebClient,
    channel: str | None,
    ts: str | None,
    change_id: int,
    user: str,
    outcome: str,
) -> None:
    """Replace the change's buttons in the original message with who decided what, and when."""
    if not channel or not ts:
        return
    found = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    messages = [m for m in found.get("messages") or [] if m.get("ts") == ts]
    if not messages:
        return
    line = decided_line(user=user, when=deps.clock(), outcome=f"{outcome} (change #{change_id})")
    update = replace_message_actions(messages[0], change_id, line)
    if update is not None:
        client.chat_update(channel=channel, ts=ts, text=messages[0].get("text", ""), **update)
