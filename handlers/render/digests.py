"""Digest and alert messages: Block Kit within limits, long diffs in the thread.

Every message keeps inside Slack's limits: at most 50 blocks, 3,000 characters per section, 150
per header, and at most `MAX_MESSAGE_CHARS` of block JSON (measured as `json.dumps`, which counts
non-ASCII characters as escapes, so it is conservative). Source names, summaries, reasons, item
titles and diffs are escaped, so a summary saying `<!channel>` cannot ping anyone; links are made
only from plain http(s) URLs. The plain-text fallback `text` is escaped too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.domain.tracking.digest import ChangeView, Digest, readable_date
from handlers.render.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION,
    MAX_TEXT,
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
from handlers.render.colours import coloured, flipped_to

SEVERITY_MARK = {"high": "🔴", "normal": "🔹"}
MAX_FLIPS = 10
# Escaped characters of a change's summary, link and reasons: together they fit one section.
MAX_SUMMARY = 1200
MAX_LINK = 900
MAX_REASONS_TEXT = 800
MAX_ITEMS_SHOWN = 5
ALERT_DIFF_CHARS = 1500  # the diff preview in an alert
# Room left in the top-level message for the closing context line (and a preview's note).
PARENT_RESERVE = 600
MAX_DIFF_MESSAGES = 10
_DIFF_OF = re.compile(r"diff of change #(\d+)")
_CODE_ROOM = MAX_SECTION - 8  # a code section's text without its ``` fences


def _size(blocks: list[Block]) -> int:
    return len(json.dumps(blocks))


def _esc(text: str, limit: int) -> str:
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
    title = _esc(str(i.get("title") or i.get("id") or ""), 300)
    number = str(i.get("id") or "") if i.get("type") else ""
    link = str(i.get("link") or "")
    head = f"{_esc(number, 40)} · " if number else ""
    shown = _safe_link(link, head.rstrip(" ·") or title)
    parts = [
        f"{shown[3:]} · {title}" if shown and number else (shown[3:] if shown else head + title)
    ]
    if i.get("correction"):
        parts.insert(0, "*Correction*")
    if i.get("type"):
        parts.append(_esc(str(i["type"]), 40))
    for label, key in (
        ("published", "date"),
        ("effective", "effective"),
        ("comments by", "comments_close"),
    ):
        if i.get(key):
            parts.append(f"{label} {_esc(readable_date(str(i[key]), tz), 60)}")
    line = " · ".join(parts)
    summary = " ".join(str(i.get("summary") or "").split())
    if summary:
        line += "\n> " + _esc(summary, 300)
    return line


def _local(value: datetime, tz: str) -> str:
    """Return a time as "29 Sep 2026 14:30 CEST" in the channel's time zone."""
    return (
        readable_date(_utc(value).isoformat(), tz)
        if tz != "UTC"
        else (f"{_utc(value):%Y-%m-%d %H:%M} UTC")
    )


def _change_blocks(c: ChangeView, *, actions: bool = True, tz: str = "UTC") -> list[Block]:
    """Return one change: severity mark, summary, link and reasons; new items; flips; a button."""
    lines = [
        f"{SEVERITY_MARK.get(c.severity, '')} {_esc(c.summary, MAX_SUMMARY)}"
        f"{_safe_link(c.link, 'source')}"
    ]
    if c.reasons:
        lines.append("_High: " + _esc("; ".join(c.reasons), MAX_REASONS_TEXT) + "_")
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


def _code_sections(diff: str, limit: int = _CODE_ROOM) -> list[Block]:
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


def render_alert(c: ChangeView, tz: str = "UTC") -> Payload:
    """Return an immediate alert for one high-severity change, with a short diff preview.

    The header, the summary, the Update group button and the closing context line always stay;
    new items, flips and the diff preview are added while the message stays within its limits.
    """
    change = _change_blocks(c, tz=tz)
    main, extra = change[0], change[1:]
    actions = [b for b in extra if b["type"] == "actions"]
    middle = [b for b in extra if b["type"] != "actions"]
    if c.diff:
        middle += _code_sections(cut(c.diff, ALERT_DIFF_CHARS))[:1]
    head = [header(f"Policy alert: {c.source}"), main]
    tail = [
        *actions,
        context(f"Detected {_local(c.detected_at, tz)} · change #{c.id}"),
    ]
    size = _size(head + tail)
    for block in middle:
        block_size = len(json.dumps(block)) + 2
        if size + block_size <= MAX_MESSAGE_CHARS:
            head.append(block)
            size += block_size
    text = _esc(f"Policy alert: {c.source}: {c.summary}", MAX_TEXT)
    verdict = flipped_to(c.flips)
    if verdict is None:
        return {"text": text, "blocks": head + tail}
    # Usages flip: the bar has the colour of the strictest verdict they flip to.
    return coloured(text, head[:1], head[1:] + tail, verdict)


def _diff_unit(c: ChangeView) -> list[list[Block]]:
    """Return a change's diff as units to pack: the heading with the first code section, then
    each further code section on its own (so one huge diff may span messages)."""
    head = section(f"*{_esc(c.source, 300)}* · diff of change #{c.id}: {_esc(c.summary, 300)}")
    code = _code_sections(c.diff)
    return [[head, code[0]], *[[b] for b in code[1:]]]


def _pack(
    units: list[list[Block]], *, max_blocks: int = MAX_BLOCKS, max_chars: int = MAX_MESSAGE_CHARS
) -> list[list[Block]]:
    """Pack units (blocks that belong together) into messages within the block and size limits,
    in order; a unit never straddles two messages."""
    pages: list[list[Block]] = []
    page: list[Block] = []
    size = 2
    for unit in units:
        unit_size = sum(len(json.dumps(b)) + 2 for b in unit)
        if page and (len(page) + len(unit) > max_blocks or size + unit_size > max_chars):
            pages.append(page)
            page, size = [], 2
        page += unit
        size += unit_size
    if page:
        pages.append(page)
    return pages


def _continued(heading: Block) -> Block:
    return section(cut(heading["text"]["text"], MAX_SECTION - 20) + " (continued)")


def _pack_changes(
    units: list[tuple[Block, list[Block], bool]], *, first_blocks: int, first_chars: int
) -> list[tuple[list[Block], int]]:
    """Pack (source heading, change blocks, first change of its source?) units into messages.

    The first message has its own budget (it also carries the digest header and a closing note).
    A source's heading opens its first change; a message that starts in the middle of a source
    opens with the heading marked "(continued)". A change never straddles two messages. Returns
    each message's blocks with the number of changes in it.
    """
    pages: list[tuple[list[Block], int]] = []
    page: list[Block] = []
    count = 0
    size, max_blocks, max_chars = 2, first_blocks, first_chars
    current: Block | None = None
    for heading, blocks, first in units:
        unit = (
            blocks if heading is current else [heading if first else _continued(heading), *blocks]
        )
        unit_size = sum(len(json.dumps(b)) + 2 for b in unit)
        if page and (len(page) + len(unit) > max_blocks or size + unit_size > max_chars):
            pages.append((page, count))
            page, count, size, max_blocks, max_chars = [], 0, 2, MAX_BLOCKS, MAX_MESSAGE_CHARS
            unit = [heading if first else _continued(heading), *blocks]
            unit_size = sum(len(json.dumps(b)) + 2 for b in unit)
        page += unit
        count += 1
        size += unit_size
        current = heading
    if page:
        pages.append((page, count))
    return pages


def render_digest(d: Digest) -> list[Payload]:
    """Return the digest as a top-level message and thread replies; [] for an empty digest.

    The first payload is the top-level message: a header, then each source (high-severity sources
    first) with its heading and changes, as many as fit. The payloads after it are posted in its
    thread: first the changes that did not fit (in order, a source's heading repeated as
    "continued" when it is split), then the diffs, several per message. Every change is listed
    exactly once across the top-level message and the continuation messages; each diff appears
    once, in the thread.
    """
    if d.count == 0:
        return []
    span = f"since {_local(d.since, d.tz)}" if d.since else "so far"
    title = f"Policy digest: {d.count} change{'s' if d.count != 1 else ''} {span}"
    top = header(title)
    units = []
    for s in d.sections:
        heading = section(f"*{_esc(s.source, 500)}* ({len(s.changes)})")
        units += [(heading, _change_blocks(c, tz=d.tz), i == 0) for i, c in enumerate(s.changes)]
    pages = _pack_changes(
        units,
        first_blocks=MAX_BLOCKS - 2,
        first_chars=MAX_MESSAGE_CHARS - PARENT_RESERVE - _size([top]),
    )
    parent = [top, *pages[0][0]]
    continuation = [blocks for blocks, _ in pages[1:]]
    in_thread = sum(n for _, n in pages[1:])
    diff_units = [u for s in d.sections for c in s.changes if c.diff for u in _diff_unit(c)]
    diffs = _pack(diff_units)
    n_diffs = sum(1 for s in d.sections for c in s.changes if c.diff)
    # Slack posts about one message a second per channel: keep the thread short and point to
    # `/clearance changes` for the rest.
    diffs = diffs[:MAX_DIFF_MESSAGES]
    shown = len(
        {
            m
            for blocks in diffs
            for b in blocks
            for m in _DIFF_OF.findall(str(b.get("text", {}).get("text", "")))
        }
    )
    notes = []
    if continuation:
        notes.append(
            f"{in_thread} more change{'s are' if in_thread != 1 else ' is'} in the thread."
        )
    if diffs:
        n = n_diffs
        notes.append(
            f"{'The diff is' if n == 1 else f'Diffs ({n}) are'} in the thread."
            if shown >= n
            else f"Diffs of {shown} changes are in the thread; the other {n - shown} are "
            "in `/clearance changes`."
        )
    if notes:
        parent.append(context(" ".join(notes)))
    sources = "; ".join(f"{s.source} ({len(s.changes)})" for s in d.sections)
    payloads: list[Payload] = [{"text": _esc(f"{title}: {sources}", MAX_TEXT), "blocks": parent}]
    for i, blocks in enumerate(continuation, 1):
        payloads.append(
            {"text": f"Policy digest (continued, {i} of {len(continuation)})", "blocks": blocks}
        )
    for i, blocks in enumerate(diffs, 1):
        payloads.append({"text": f"Policy digest diffs ({i} of {len(diffs)})", "blocks": blocks})
    return payloads
