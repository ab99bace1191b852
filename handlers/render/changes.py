"""One policy change as Block Kit: its severity, summary, link, reasons, new items, flips and diff.

Source names, summaries, reasons, item titles and diffs are escaped, so a summary saying
`<!channel>` cannot ping anyone; links are made only from plain http(s) URLs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.domain.tracking.digest import ChangeView, readable_date
from handlers.render.blocks import (
    MAX_SECTION,
    Block,
    button,
    cut,
    escape,
    list_section,
    section,
)

SEVERITY_MARK = {"high": "🔴", "normal": "🔹"}
MAX_FLIPS = 10
# Escaped characters of a change's summary, link and reasons: together they fit one section.
MAX_SUMMARY = 1200
MAX_LINK = 900
MAX_REASONS_TEXT = 800
MAX_ITEMS_SHOWN = 5
_CODE_ROOM = MAX_SECTION - 8  # a code section's text without its ``` fences


def blocks_size(blocks: list[Block]) -> int:
    """Return the size of blocks as Slack measures it against the aggregate limit."""
    return len(json.dumps(blocks))


def escape_cut(text: str, limit: int) -> str:
    """Escape text for mrkdwn and cut it to `limit` characters without splitting an entity."""
    out = escape(text)
    if len(out) <= limit:
        return out
    out = out[: limit - 1]
    amp = out.rfind("&")
    if amp != -1 and ";" not in out[amp:]:
        out = out[:amp]
    return out + "…"


def _safe_link(url: str | None, label: str) -> str:
    """Return `<url|label>` for a plain http(s) URL, else nothing (never a broken link)."""
    if (
        not url
        or not url.startswith(("https://", "http://"))
        or len(url) > MAX_LINK
        or any(ch in url for ch in "<>| \n\t")
    ):
        return ""
    return f" · <{url}|{label}>"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def item_line(i: dict[str, Any], tz: str = "UTC") -> str:
    """Return one new document or entry (escaped mrkdwn): its own link, number and type, title,
    dates in the channel's time zone, a correction marker, and the start of its abstract."""
    title = escape_cut(str(i.get("title") or i.get("id") or ""), 300)
    number = str(i.get("id") or "") if i.get("type") else ""
    link = str(i.get("link") or "")
    head = f"{escape_cut(number, 40)} · " if number else ""
    shown = _safe_link(link, head.rstrip(" ·") or title)
    parts = [
        f"{shown[3:]} · {title}" if shown and number else (shown[3:] if shown else head + title)
    ]
    if i.get("correction"):
        parts.insert(0, "*Correction*")
    if i.get("type"):
        parts.append(escape_cut(str(i["type"]), 40))
    for label, key in (
        ("published", "date"),
        ("effective", "effective"),
        ("comments by", "comments_close"),
    ):
        if i.get(key):
            parts.append(f"{label} {escape_cut(readable_date(str(i[key]), tz), 60)}")
    line = " · ".join(parts)
    summary = " ".join(str(i.get("summary") or "").split())
    if summary:
        line += "\n> " + escape_cut(summary, 300)
    return line


def local_time(value: datetime, tz: str) -> str:
    """Return a time as "29 Sep 2026 14:30 CEST" in the channel's time zone."""
    return (
        readable_date(_utc(value).isoformat(), tz)
        if tz != "UTC"
        else (f"{_utc(value):%Y-%m-%d %H:%M} UTC")
    )


def change_blocks(c: ChangeView, *, actions: bool = True, tz: str = "UTC") -> list[Block]:
    """Return one change: severity mark, summary, link and reasons; new items; flips; a button."""
    lines = [
        f"{SEVERITY_MARK.get(c.severity, '')} {escape_cut(c.summary, MAX_SUMMARY)}"
        f"{_safe_link(c.link, 'source')}"
    ]
    if c.reasons:
        lines.append("_High: " + escape_cut("; ".join(c.reasons), MAX_REASONS_TEXT) + "_")
    blocks: list[Block] = [section("\n".join(lines))]
    if c.items:
        blocks.append(
            list_section(
                "New",
                [cut(item_line(i, tz), 700) for i in c.items],
                limit=MAX_ITEMS_SHOWN,
                raw=True,
            )
        )
    if c.flips:
        blocks.append(list_section("Whose answers flip", list(c.flips), limit=MAX_FLIPS))
    if actions and c.group and (c.added or c.removed or c.excluded or c.readmitted):
        blocks.append(
            {
                "type": "actions",
                "block_id": f"change_{c.id}",
                "elements": [
                    button(f"Update group {c.group}", "update_group", str(c.id), style="primary"),
                    button("Decline", "decline_group_update", str(c.id)),
                ],
            }
        )
    return blocks


def code_sections(diff: str, limit: int = _CODE_ROOM) -> list[Block]:
    """Return the diff as code sections, split at line ends so no section passes its limit
    (escaping can make the text several times longer, so the split is on the escaped text)."""
    body = escape(diff.replace("```", "'''"))
    chunks: list[str] = []
    current = ""
    for line in body.split("\n"):
        while len(line) > limit:  # one very long line: split it, not mid-entity
            cut_at = limit
            amp = line.rfind("&", 0, cut_at)
            if amp != -1 and ";" not in line[amp:cut_at]:
                cut_at = amp or limit
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut_at])
            line = line[cut_at:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current or " ")
    return [section(f"```{chunk}```") for chunk in chunks]
