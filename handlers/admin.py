"""Admin edits from Slack: the editor modals' submissions, validated like file imports.

The modals open from `handlers.entity_editor`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import yaml
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import BotError, FileError, InvalidFile
from bot.services.rule_changes import import_entity_text, retire_rule
from bot.services.workspace import current_workspace
from bot.services.workspace_channels import configured_channel
from handlers.deps import Deps, bind, failure_payload
from handlers.entity_editor import KEPT_PARTS
from handlers.render.modals import REASON_BLOCK, YAML_BLOCK
from handlers.render.rules import render_change
from storage.db import session_scope
from storage.tables.rule_table import Revision

log = logging.getLogger("clearance.admin")


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
    if deps.refuses_submission(
        ack,
        client,
        user=user,
        block=block,
        message="Only compliance admins can do this.",
        action=action,
        target=target,
    ):
        return None
    reason = _value(view, REASON_BLOCK, "reason").strip()
    if not reason:
        ack(response_action="errors", errors={REASON_BLOCK: "Say why, for the audit trail."})
        return None
    return reason


def save_entity(
    deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """The add/edit modal's submission: validate and save the entry as a new revision."""
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


def retire(
    deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """The retire modal's submission: retire the rule as a new revision."""
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


def register(app: App, deps: Deps) -> None:
    """Register the admin modal submissions."""
    app.view("edit_entity")(bind(save_entity, deps))
    app.view("retire_rule")(bind(retire, deps))
