"""Country-list changes in Slack: Update group (confirm, then apply) and Decline."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from bot.services.group_updates import apply_group_update, plan_group_update
from bot.services.workspace import current_workspace
from bot.services.workspace_channels import configured_channel
from handlers.deps import Deps, guarded
from handlers.render.blocks import escape
from handlers.render.group_updates import (
    decided_line,
    render_group_update_modal,
    replace_message_actions,
)
from handlers.render.notices import render_notice
from storage.db import session_scope
from storage.rules import current_revision


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
