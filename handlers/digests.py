"""Digest and alert messages: Block Kit within limits, long diffs in the thread."""

from __future__ import annotations

from bot.digest import ChangeView, Digest
from handlers.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    Block,
    Payload,
    button,
    context,
    cut,
    escape,
    header,
    list_section,
    section,
)

SEVERITY_MARK = {"high": "🔴", "normal": "🔹"}
MAX_FLIPS = 10


def _change_blocks(c: ChangeView, *, actions: bool = True) -> list[Block]:
    link = f" · <{c.link}|source>" if c.link and c.link.startswith("http") else ""
    lines = [f"{SEVERITY_MARK.get(c.severity, '')} {escape(c.summary)}{link}"]
    if c.reasons:
        lines.append("_High: " + escape("; ".join(c.reasons)) + "_")
    blocks: list[Block] = [section("\n".join(lines))]
    if c.items:
        blocks.append(list_section("New", [
            f"{i.get('title', '')} ({i.get('date', '')})" for i in c.items], limit=5))
    if c.flips:
        blocks.append(list_section("Whose answers flip", list(c.flips), limit=MAX_FLIPS))
    if actions and c.group and (c.added or c.removed):
        blocks.append({"type": "actions", "block_id": f"change_{c.id}", "elements": [
            button(f"Update group {c.group}", "update_group", str(c.id), style="primary")]})
    return blocks


def render_alert(c: ChangeView) -> Payload:
    """Return an immediate alert for one high-severity change."""
    blocks = [header(f"Policy alert: {c.source}"), *_change_blocks(c),
              context(f"Detected {c.detected_at:%Y-%m-%d %H:%M} UTC · change #{c.id}")]
    return {"text": cut(f"Policy alert: {c.source}: {c.summary}", 3900), "blocks": blocks}


def _diff_reply(c: ChangeView) -> Payload:
    body = cut(c.diff, 2900).replace("```", "'''")
    return {"text": cut(f"Diff for {c.source}: {c.summary}", 3900),
            "blocks": [section(f"*{escape(c.source)}*: {escape(c.summary)}"),
                       section(f"```{escape(body)}```")]}


def render_digest(d: Digest) -> list[Payload]:
    """Return the digest as top-level messages and thread replies.

    The first payload is the top-level message; those after it are posted in its thread (long
    diffs, and overflow when the sections do not fit one message).
    """
    span = f"since {d.since:%Y-%m-%d %H:%M} UTC" if d.since else "so far"
    title = f"Policy digest: {d.count} change{'s' if d.count != 1 else ''} {span}"
    parent: list[Block] = [header(title)]
    replies: list[Payload] = []
    overflow: list[Block] = []
    size = 0
    for s in d.sections:
        blocks = [section(f"*{escape(s.source)}* ({len(s.changes)})")]
        for c in s.changes:
            blocks += _change_blocks(c)
            if c.diff:
                replies.append(_diff_reply(c))
        block_size = sum(len(str(b)) for b in blocks)
        if overflow or len(parent) + len(blocks) > MAX_BLOCKS - 2 or \
                size + block_size > MAX_MESSAGE_CHARS - 1500:
            overflow += blocks
        else:
            parent += blocks
            size += block_size
    if overflow:
        parent.append(context("More changes are in the thread."))
        continued: list[Payload] = []
        chunk: list[Block] = []
        for b in overflow:
            if len(chunk) >= MAX_BLOCKS - 1 or sum(len(str(x)) for x in chunk) > 9000:
                continued.append({"text": "Digest (continued)", "blocks": chunk})
                chunk = []
            chunk.append(b)
        continued.append({"text": "Digest (continued)", "blocks": chunk})
        replies = continued + replies
    if replies:
        parent.append(context("Diffs are in the thread."))
    text = title + ": " + "; ".join(f"{s.source} ({len(s.changes)})" for s in d.sections)
    return [{"text": cut(text, 3900), "blocks": parent}, *replies]
