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

from bot.domain.tracking.digest import ChangeView, Digest
from handlers.render.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION,
    MAX_TEXT,
    Block,
    Payload,
    context,
    cut,
    header,
    section,
)
from handlers.render.changes import (
    blocks_size,
    change_blocks,
    code_sections,
    escape_cut,
    local_time,
)
from handlers.render.colours import coloured, flipped_to

ALERT_DIFF_CHARS = 1500  # the diff preview in an alert
# Room left in the top-level message for the closing context line (and a preview's note).
PARENT_RESERVE = 600
MAX_DIFF_MESSAGES = 10
_DIFF_OF = re.compile(r"diff of change #(\d+)")


def render_alert(c: ChangeView, tz: str = "UTC") -> Payload:
    """Return an immediate alert for one high-severity change, with a short diff preview.

    The header, the summary, the Update group button and the closing context line always stay;
    new items, flips and the diff preview are added while the message stays within its limits.
    """
    change = change_blocks(c, tz=tz)
    main, extra = change[0], change[1:]
    actions = [b for b in extra if b["type"] == "actions"]
    middle = [b for b in extra if b["type"] != "actions"]
    if c.diff:
        middle += code_sections(cut(c.diff, ALERT_DIFF_CHARS))[:1]
    head = [header(f"Policy alert: {c.source}"), main]
    tail = [
        *actions,
        context(f"Detected {local_time(c.detected_at, tz)} · change #{c.id}"),
    ]
    size = blocks_size(head + tail)
    for block in middle:
        block_size = len(json.dumps(block)) + 2
        if size + block_size <= MAX_MESSAGE_CHARS:
            head.append(block)
            size += block_size
    text = escape_cut(f"Policy alert: {c.source}: {c.summary}", MAX_TEXT)
    verdict = flipped_to(c.flips)
    if verdict is None:
        return {"text": text, "blocks": head + tail}
    # Usages flip: the bar has the colour of the strictest verdict they flip to.
    return coloured(text, head[:1], head[1:] + tail, verdict)


def _diff_unit(c: ChangeView) -> list[list[Block]]:
    """Return a change's diff as units to pack: the heading with the first code section, then
    each further code section on its own (so one huge diff may span messages)."""
    head = section(
        f"*{escape_cut(c.source, 300)}* · diff of change #{c.id}: {escape_cut(c.summary, 300)}"
    )
    code = code_sections(c.diff)
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
    span = f"since {local_time(d.since, d.tz)}" if d.since else "so far"
    title = f"Policy digest: {d.count} change{'s' if d.count != 1 else ''} {span}"
    top = header(title)
    units = []
    for s in d.sections:
        heading = section(f"*{escape_cut(s.source, 500)}* ({len(s.changes)})")
        units += [(heading, change_blocks(c, tz=d.tz), i == 0) for i, c in enumerate(s.changes)]
    pages = _pack_changes(
        units,
        first_blocks=MAX_BLOCKS - 2,
        first_chars=MAX_MESSAGE_CHARS - PARENT_RESERVE - blocks_size([top]),
    )
    parent = [top, *pages[0][0]]
    continuation = [blocks for blocks, _ in pages[1:]]
    in_thread = sum(n for _, n in pages[1:])
    diff_units = [u for s in d.sections for c in s.changes if c.diff for u in _diff_unit(c)]
    # Slack posts about one message a second per channel: keep the thread short and point to
    # `/clearance changes` for the rest.
    diffs = _pack(diff_units)[:MAX_DIFF_MESSAGES]
    n_diffs = sum(1 for s in d.sections for c in s.changes if c.diff)
    notes = _thread_notes(in_thread, diffs, n_diffs)
    if notes:
        parent.append(context(notes))
    sources = "; ".join(f"{s.source} ({len(s.changes)})" for s in d.sections)
    payloads: list[Payload] = [
        {"text": escape_cut(f"{title}: {sources}", MAX_TEXT), "blocks": parent}
    ]
    for i, blocks in enumerate(continuation, 1):
        payloads.append(
            {"text": f"Policy digest (continued, {i} of {len(continuation)})", "blocks": blocks}
        )
    for i, blocks in enumerate(diffs, 1):
        payloads.append({"text": f"Policy digest diffs ({i} of {len(diffs)})", "blocks": blocks})
    return payloads


def _thread_notes(in_thread: int, diffs: list[list[Block]], n_diffs: int) -> str:
    """Return the top-level message's note on what its thread holds ("" when nothing)."""
    shown = len(
        {
            m
            for blocks in diffs
            for b in blocks
            for m in _DIFF_OF.findall(str(b.get("text", {}).get("text", "")))
        }
    )
    notes = []
    if in_thread:
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
    return " ".join(notes)
