"""Verdict colours: a card's body goes in a message attachment whose left bar has the colour.

Slack draws a colour only beside an attachment (`attachments: [{"color": "#hex", "blocks":
[...]}]`). The header stays in the top-level blocks, so the plain `text` remains only the
notification fallback (with no top-level blocks Slack would show it above the card), and the
rest of the card, buttons included, goes in the one coloured attachment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Strictest first, as the engine orders verdicts.
STRICTNESS = ("denied", "license_required", "review", "conditional", "allowed")
VERDICT_COLOURS = {
    "denied": "#E01E5A",
    "license_required": "#E8912D",
    "review": "#1D9BD1",
    "conditional": "#ECB22E",
    "allowed": "#2EB67D",
}
UNKNOWN_COLOUR = "#868686"
_FLIP_TO = re.compile(r" to ([a-z ]+) on \d{4}-\d\d-\d\d$")


def verdict_colour(verdict: str | None) -> str:
    """Return the colour of a verdict's bar (grey for anything else)."""
    return VERDICT_COLOURS.get(verdict or "", UNKNOWN_COLOUR)


def coloured(
    text: str, top: list[dict[str, Any]], body: list[dict[str, Any]], verdict: str | None
) -> dict[str, Any]:
    """Return a message: `top` blocks, then `body` in an attachment with the verdict's colour."""
    return {
        "text": text,
        "blocks": top,
        "attachments": [{"color": verdict_colour(verdict), "blocks": body}],
    }


def card_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every block of a message in reading order: top-level, then its attachments'."""
    out = list(message.get("blocks") or [])
    for attachment in message.get("attachments") or ():
        out += attachment.get("blocks") or []
    return out


def strictest(verdicts: Iterable[str]) -> str | None:
    """Return the strictest of some verdicts (None for none known)."""
    known = [v for v in verdicts if v in VERDICT_COLOURS]
    return min(known, key=STRICTNESS.index) if known else None


def flipped_to(flip_texts: Iterable[str]) -> str | None:
    """Return the strictest verdict usages flip to ("… goes from allowed to denied on DATE")."""
    found = (_FLIP_TO.search(t) for t in flip_texts)
    return strictest(m.group(1).replace(" ", "_") for m in found if m)
