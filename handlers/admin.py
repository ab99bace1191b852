"""Admin edits from Slack: modals for rules and customers, validated like file imports."""

from __future__ import annotations

import json
import logging
from typing import Any

import yaml
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import BotError, FileError, InvalidFile
from bot.services.customer_lookup import registered_customer
from bot.services.rule_changes import import_entity_text, retire_rule
from bot.services.workspace import current_workspace
from bot.services.workspace_channels import configured_channel
from handlers.deps import Deps, failure_payload
from handlers.render.views import (
    MAX_INPUT,
    REASON_BLOCK,
    YAML_BLOCK,
    edit_modal,
    render_change,
    retire_modal,
)
from storage.db import session_scope
from storage.models import Revision

log = logging.getLogger("clearance.admin")
KINDS = {"rule": "rules", "customer": "customers"}

RULE_TEMPLATE = """id: my-rule
effect: review
title: What this rule does
models: {vendors: [anthropic]}
places: {in: [DE]}
citation: "Source document"
url: "https://example.com/source"
explanation: "Why it applies"
"""
CUSTOMER_TEMPLATE = """id: acme-gmbh
name: Acme GmbH
aliases: [Acme]
hq: DE
tags: []
owners: []
uses: [{model: claude-sonnet-4-5, country: DE}]
"""
HINTS = {
    "rules": "Fields: id, effect (allow, review, license_required, deny), title, models, "
    "places, customer, access, effective_from, effective_to, citation, url, explanation.",
    "customers": "Fields: id, name, aliases, hq, tags, owners [{owner, share}], "
    "uses [{model, country}].",
}


def _dump(entity: Any, *, leave_out: tuple[str, ...] = ()) -> str:
    data = {k: v for k, v in entity.to_dict().items() if k not in leave_out}
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=90))


# A customer too large for one Slack text input is edited without these parts, which are
# kept as they are on save; they change through `clearance customers import`.
KEPT_PARTS = ("uses",)
TOO_LARGE = (
    "{name} is too large to edit in Slack ({size:,} characters; a Slack text box holds "
    "{limit:,}). Nothing was changed. Write it out with `clearance rules export`, edit the "
    "entry, and apply it with `clearance {kind} import FILE`."
)


def open_editor(
    deps: Deps, client: WebClient, *, kind: str, action: str, target: str, trigger_id: str
) -> None:
    """Open the modal for `rule add|edit|retire` or `customer add|edit` (the caller checks admin)."""
    client.views_open(
        trigger_id=trigger_id, view=_editor_view(deps, kind=kind, action=action, target=target)
    )


def _editor_view(deps: Deps, *, kind: str, action: str, target: str) -> dict[str, Any]:
    kb = deps.cache.get()
    plural = KINDS[kind]
    if action == "add":
        template = RULE_TEMPLATE if kind == "rule" else CUSTOMER_TEMPLATE
        return edit_modal(
            callback_id="edit_entity",
            title=f"Add {kind}",
            yaml_text=template,
            hint=HINTS[plural],
            metadata={"kind": plural, "mode": "add"},
        )
    if not target:
        raise BotError(f"Say which {kind}: `/clearance {kind} {action} ID`.")
    if kind == "rule":
        rule = kb.table.rules.get(target)
        if rule is None:
            raise BotError(f"No rule with id '{target}'.")
        if action == "retire":
            return retire_modal(rule)
        entity: Any = rule
    else:
        entity = registered_customer(kb, target)
        if entity is None:
            raise BotError(f"No registered customer called '{target}'.")
    text = _dump(entity)
    metadata: dict[str, Any] = {"kind": plural, "mode": "edit", "id": entity.id}
    note = None
    if len(text) > MAX_INPUT and kind == "customer":
        text = _dump(entity, leave_out=KEPT_PARTS)
        metadata["keep"] = list(KEPT_PARTS)
        note = (
            f"{len(entity.uses):,} recorded usages are not shown and are kept as they are. "
            "Change them with `clearance customers import`."
        )
    if len(text) > MAX_INPUT:
        raise BotError(
            TOO_LARGE.format(name=entity.id, size=len(text), limit=MAX_INPUT, kind=plural)
        )
    return edit_modal(
        callback_id="edit_entity",
        title=f"Edit {kind} {entity.id}",
        yaml_text=text,
        hint=HINTS[plural],
        metadata=metadata,
        note=note,
    )


def _with_kept_parts(deps: Deps, text: str, meta: dict[str, Any]) -> str:
    """Append the parts the modal left out (see KEPT_PARTS), as they are now, to the text.

    Appended after what the admin typed, so errors still name the lines they typed; a kept
    part typed again is a duplicate key, reported as such.
    """
    keep = [k for k in meta.get("keep") or () if k in KEPT_PARTS]
    customer = deps.cache.get().table.customers.get(str(meta.get("id")))
    if not keep or customer is None:
        return text
    data = customer.to_dict()
    kept = {k: data[k] for k in keep if k in data}
    if not kept:
        return text
    dumped = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=90)
    return text.rstrip("\n") + "\n" + str(dumped)


MAX_ERROR_TEXT = 1900


def errors_text(errors: list[FileError]) -> str:
    """Return every error of an entry, one a line, within the modal's room for an error."""
    lines = [f"{len(errors)} errors; nothing was saved:"] if len(errors) > 1 else []
    lines += [f"line {e.line}: {e.field}: {e.message}" for e in errors]
    text = "\n".join(lines)
    while len(text) > MAX_ERROR_TEXT and len(lines) > 1:
        lines.pop()
        shown = len(lines) - (1 if len(errors) > 1 else 0)
        text = "\n".join(lines) + f"\n…and {len(errors) - shown} more"
    return text[:MAX_ERROR_TEXT]


def _value(view: dict[str, Any], block: str, action: str) -> str:
    state = view["state"]["values"].get(block, {}).get(action, {})
    return str(state.get("value") or "")


def _announce(
    deps: Deps, client: WebClient, *, user: str, action: str, revision: Revision, reason: str
) -> None:
    channel = configured_channel(deps.engine, deps.settings, current_workspace(), "audit")
    if not channel:
        return
    try:
        client.chat_postMessage(
            channel=channel,
            **render_change(user=user, action=action, revision=revision, reason=reason),
        )
    except Exception:
        # The change is committed; a failed announcement must not undo or hide it.
        log.exception("could not post revision %s to the audit channel", revision.number)


def _record_and_announce(
    deps: Deps,
    client: WebClient,
    *,
    user: str,
    action: str,
    target: str | None,
    revision: Revision,
    reason: str,
    said: str,
) -> None:
    """After the modal closed: log the admin action and post the change to the audit channel.

    The change is committed already (its revision names who and why), so neither step may keep
    the other from happening.
    """
    try:
        deps.record_admin_action(
            user_id=user,
            action=action,
            target=target,
            allowed=True,
            revision=revision.number,
            reason=reason,
        )
    except Exception as exc:
        failure_payload(exc)  # logged with an error id
    _announce(deps, client, user=user, action=said, revision=revision, reason=reason)


def _admin_reason(
    deps: Deps,
    client: WebClient,
    ack: Ack,
    view: dict[str, Any],
    *,
    user: str,
    action: str,
    target: str | None,
    block: str,
) -> str | None:
    """Return the submission's reason, or answer the modal with an inline error and None.

    Refuses (and audits) non-admins, and asks for a reason, which the audit channel shows.
    """
    if not deps.is_admin(user, client):
        deps.record_admin_action(user_id=user, action=action, target=target, allowed=False)
        ack(response_action="errors", errors={block: "Only compliance admins can do this."})
        return None
    reason = _value(view, REASON_BLOCK, "reason").strip()
    if not reason:
        ack(response_action="errors", errors={REASON_BLOCK: "Say why, for the audit trail."})
        return None
    return reason


def register(app: App, deps: Deps) -> None:
    """Register the admin modal submissions."""

    @app.view("edit_entity")
    def handle_edit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        kind, mode = meta["kind"], meta["mode"]
        reason = _admin_reason(
            deps,
            client,
            ack,
            view,
            user=user,
            action=f"{kind} {mode}",
            target=meta.get("id"),
            block=YAML_BLOCK,
        )
        if reason is None:
            return
        try:
            with session_scope(deps.engine) as session:
                rev = import_entity_text(
                    session=session,
                    kind=kind,
                    mode=mode,
                    text=_with_kept_parts(deps, _value(view, YAML_BLOCK, "yaml"), meta),
                    expected_id=meta.get("id"),
                    author=f"slack:{user}",
                    now=deps.clock(),
                    reason=reason,
                )
                session.commit()
            deps.cache.invalidate()
        except InvalidFile as exc:
            ack(response_action="errors", errors={YAML_BLOCK: errors_text(exc.errors)})
            return
        ack()
        eid = rev.changes[0]["id"] if rev.changes else meta.get("id")
        deps.later(
            lambda: _record_and_announce(
                deps,
                client,
                user=user,
                action=f"{kind} {mode}",
                target=eid,
                revision=rev,
                reason=reason,
                said=f"{mode} {kind[:-1]} {eid}",
            )
        )

    @app.view("retire_rule")
    def handle_retire(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = body["user"]["id"]
        rule_id = json.loads(view.get("private_metadata") or "{}").get("rule", "")
        reason = _admin_reason(
            deps,
            client,
            ack,
            view,
            user=user,
            action="rule retire",
            target=rule_id,
            block=REASON_BLOCK,
        )
        if reason is None:
            return
        try:
            with session_scope(deps.engine) as session:
                rev = retire_rule(
                    session=session,
                    rule_id=rule_id,
                    author=f"slack:{user}",
                    now=deps.clock(),
                    reason=reason,
                )
                session.commit()
            deps.cache.invalidate()
        except BotError as exc:
            ack(response_action="errors", errors={REASON_BLOCK: exc.message[:1900]})
            return
        except Exception as exc:
            text = failure_payload(exc)["text"]
            ack(response_action="errors", errors={REASON_BLOCK: text[:1900]})
            return
        ack()
        deps.later(
            lambda: _record_and_announce(
                deps,
                client,
                user=user,
                action="rule retire",
                target=rule_id,
                revision=rev,
                reason=reason,
                said=f"retire rule {rule_id}",
            )
        )
