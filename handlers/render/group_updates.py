"""The Update group confirmation modal, and the line that replaces the buttons once decided."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.domain.names.places import PlaceCatalog
from bot.services.group_updates import GroupUpdate
from handlers.render.blocks import Block, context, escape, header, list_section, section

MAX_PREVIEW = 15  # flips and holding usages listed in the modal


def _places(codes: list[str], places: PlaceCatalog) -> list[str]:
    return [places.label(c) for c in codes]


def render_group_update_modal(
    plan: GroupUpdate, places: PlaceCatalog, *, channel: str | None, ts: str | None
) -> dict[str, Any]:
    """Return the modal that shows what Update group would do, with its impact preview."""
    blocks: list[Block] = [
        header(f"Update {plan.group}"),
        section(
            f"Apply change #{plan.change_id} to *{escape(plan.group_name)}* (`{plan.group}`), "
            f"as a new revision after revision {plan.revision}.\n"
            f"Group size: *{plan.size_before}* places before, *{plan.size_after}* after."
        ),
    ]
    for title, codes in (
        ("Added", plan.added),
        ("Removed", plan.removed),
        ("Excluded", plan.excluded),
        ("No longer excluded", plan.readmitted),
    ):
        if codes:
            blocks.append(list_section(title, _places(codes, places), limit=MAX_PREVIEW))
    if plan.empty:
        blocks.append(section(f"The group already reflects change #{plan.change_id}."))
    elif plan.flips:
        blocks.append(
            list_section(
                f"Impact: {len(plan.flips)} recorded usage(s) flip", plan.flips, limit=MAX_PREVIEW
            )
        )
    else:
        holds = plan.holds or ["no recorded usage is in the changed places"]
        blocks.append(list_section("Impact: no usage flips", holds, limit=MAX_PREVIEW))
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "update_group_confirm",
        "private_metadata": json.dumps(
            {"change": plan.change_id, "revision": plan.revision, "channel": channel, "ts": ts}
        ),
        "title": {"type": "plain_text", "text": "Update group"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
    if not plan.empty:
        view["submit"] = {"type": "plain_text", "text": "Apply"}
    return view


def decided_line(*, user: str, when: datetime, outcome: str) -> Block:
    """Return the context line that replaces a change's buttons once someone decided."""
    stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return context(f"{outcome} by <@{escape(user)}> on {stamp:%Y-%m-%d %H:%M} UTC")


def replace_message_actions(
    message: dict[str, Any], change_id: int, line: Block
) -> dict[str, Any] | None:
    """Return a message's blocks and attachments with the change's buttons replaced by `line`
    (they may sit in a coloured attachment), or None when it has none for that change."""
    blocks = list(message.get("blocks") or [])
    top = replace_actions(blocks, change_id, line)
    attachments, found = [], top is not None
    for attachment in message.get("attachments") or ():
        inner = replace_actions(list(attachment.get("blocks") or []), change_id, line)
        found = found or inner is not None
        attachments.append(
            {**attachment, "blocks": inner if inner is not None else attachment.get("blocks") or []}
        )
    if not found:
        return None
    out: dict[str, Any] = {"blocks": top if top is not None else blocks}
    if attachments:
        out["attachments"] = attachments
    return out


def replace_actions(blocks: list[Block], change_id: int, line: Block) -> list[Block] | None:
    """Return the message blocks with the change's buttons replaced by `line`, or None when the
    message has no buttons for that change (already decided)."""
    block_id = f"change_{change_id}"
    if not any(b.get("block_id") == block_id for b in blocks):
        return None
    return [line if b.get("block_id") == block_id else b for b in blocks]
