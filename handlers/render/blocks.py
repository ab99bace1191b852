"""Block Kit primitives: escaping, Slack's limits, and the blocks every renderer builds from.

Every payload keeps inside Slack's limits (50 blocks per message, 100 per view, 3,000 characters
per section, 150 per header, 75 per button label, 2,000 per button value, ~12,000 characters of
block text per message), cuts long lists with "…and N more", and always carries a plain-text
`text` fallback. User text is escaped so it cannot ping (`<!channel>`) or link anyone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

Block = dict[str, Any]
Payload = dict[str, Any]

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_TEXT = 3900  # the fallback `text`; Slack recommends at most 4,000
MAX_MESSAGE_CHARS = 11000  # below the undocumented ~12k aggregate limit (msg_blocks_too_long)


def escape(text: str | None) -> str:
    """Escape user text for mrkdwn so `<!here>`, `<@U…>` and `<url|x>` stay plain text."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_USER = re.compile(r"^(?:slack:)?([UW][A-Z0-9]+)$")


def mention(actor: str | None) -> str:
    """Return a Slack user id (or "slack:U…" author) as a mention; anything else escaped."""
    m = _SLACK_USER.match(actor or "")
    return f"<@{m.group(1)}>" if m else escape(actor or "someone")


def slack_date(when: datetime) -> str:
    """Return a date and time Slack shows in each reader's own time zone (fallback: UTC)."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    fallback = f"{aware.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def plural(count: int, word: str, many: str | None = None) -> str:
    """Return "1 source", "2 sources"."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def cut(text: str, limit: int) -> str:
    """Shorten text to a limit, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> Block:
    """Return a mrkdwn section, cut to the section limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def header(text: str) -> Block:
    """Return a header block (plain text, 150 characters at most)."""
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": cut(text, MAX_HEADER), "emoji": True},
    }


def context(text: str) -> Block:
    """Return a context line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)}]}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """Return a button element within its limits."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(text, MAX_BUTTON_TEXT)},
        "action_id": action_id,
        "value": value[:MAX_BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def bullets(items: Iterable[str], *, limit: int = 10, raw: bool = False) -> str:
    """Return a bulleted list of items (escaped unless `raw`), cut with "…and N more"."""
    items = list(items)
    lines = [f"• {i if raw else escape(i)}" for i in items[:limit]]
    if len(items) > limit:
        lines.append(f"…and {len(items) - limit} more")
    return "\n".join(lines)


def list_section(title: str, items: Sequence[str], *, limit: int = 10, raw: bool = False) -> Block:
    """Return a section with a bold title and a bulleted list that fits the section limit.

    Items are user text and are escaped; pass `raw=True` only for items built from escaped
    parts plus deliberate markup such as channel links.
    """
    body = bullets(items, limit=limit, raw=raw)
    text = f"*{title}*\n{body}"
    while len(text) > MAX_SECTION and limit > 1:
        limit -= 1
        text = f"*{title}*\n{bullets(items, limit=limit, raw=raw)}"
    return section(text)


def fit(blocks: list[Block], *, max_blocks: int = MAX_BLOCKS, more: str = "") -> list[Block]:
    """Keep blocks within the count and aggregate-size limits, noting what was left out."""
    if len(blocks) <= max_blocks and len(json.dumps(blocks)) <= MAX_MESSAGE_CHARS:
        return list(blocks)  # the common case, measured in one pass: everything fits
    out: list[Block] = []
    total = 0
    for i, block in enumerate(blocks):
        size = len(json.dumps(block))
        room = max_blocks - 1 if i < len(blocks) - 1 else max_blocks
        if len(out) >= room or total + size > MAX_MESSAGE_CHARS:
            left = len(blocks) - i
            out.append(context(f"…and {left} more {more or 'blocks'} not shown"))
            return out
        out.append(block)
        total += size
    return out


def message(text: str, blocks: list[Block], *, more: str = "") -> Payload:
    """Return a message payload: fitted blocks plus the plain-text fallback."""
    return {"text": cut(text, MAX_TEXT), "blocks": fit(blocks, more=more)}


def next_button(action_id: str, value: str) -> Block:
    """Return the actions block with a Next button for a list shown a page at a time."""
    return {
        "type": "actions",
        "block_id": f"{action_id}_pager",
        "elements": [button("Next", action_id, value)],
    }
