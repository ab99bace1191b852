"""The shape guard: a fetched page that lost its usual shape is a failed fetch, never a change.

A challenge or error page served with status 200 (Cloudflare's "Just a moment...", "Access
denied"), an empty body, a country list with no places or with far fewer places than before, a
page whose text shrank to almost nothing, or a list source whose items vanished: each would read
as "everything was removed". The guard names what is wrong so health can record it; the stored
baseline stays as it was. Pure: no network, no clock, no database.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_REMOVED_SHARE = 0.10
MIN_FULL_CHARS = 200  # a text at least this long counts as "full"
NEAR_EMPTY_SHARE = 0.10  # a full text that shrinks below this share of itself is near-empty
_SCAN_BYTES = 20_000
# Titles of challenge and error pages (lower case, matched at the start of the <title>).
CHALLENGE_TITLES = (
    "just a moment",
    "attention required! | cloudflare",
    "access denied",
    "403 forbidden",
    "forbidden",
    "404 not found",
    "429 too many requests",
    "too many requests",
    "500 internal server error",
    "502 bad gateway",
    "503 service",
    "service unavailable",
    "504 gateway time",
    "request rejected",
    "pardon our interruption",
    "security check",
    "ddos-guard",
)
# Phrases that only challenge and error pages show (lower case), looked for in small pages.
CHALLENGE_PHRASES = (
    "checking if the site connection is secure",
    "checking your browser before accessing",
    "enable javascript and cookies to continue",
    "verifying you are human",
    "verify you are human",
    "needs to review the security of your connection",
    "you don't have permission to access",
    "the requested url was rejected",
    "request unsuccessful. incapsula",
    "error 1020",
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.I | re.S)


@dataclass(frozen=True)
class Shape:
    """What a healthy fetch of a source looks like: its text size, places or items, and intro."""

    chars: int
    places: int | None = None  # entries of a country list
    items: int | None = None  # documents or entries of a list source
    selector: str | None = None
    intro: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form stored with a snapshot."""
        return {
            "chars": self.chars,
            "places": self.places,
            "items": self.items,
            "selector": self.selector,
            "intro": self.intro,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Shape:
        """Build from the JSON form."""
        return cls(
            int(d.get("chars") or 0),
            None if d.get("places") is None else int(d["places"]),
            None if d.get("items") is None else int(d["items"]),
            d.get("selector"),
            str(d.get("intro") or ""),
        )


def page_problem(body: bytes, *, html_page: bool = True) -> str | None:
    """Return why a fetched body is not the source at all (empty, a challenge or an error page).

    The title is checked on any HTML body; the telltale phrases only on small pages (a real policy
    page may well mention "access denied" somewhere in a long text), and only when `html_page`.
    """
    if not body.strip():
        return "the response body is empty"
    head = body[:_SCAN_BYTES].decode("utf-8", errors="replace")
    m = _TITLE.search(head)
    if m:
        title = " ".join(html.unescape(_TAGS.sub(" ", m.group(1))).split())
        if title.lower().startswith(CHALLENGE_TITLES):
            return f"a challenge or error page, not the source (title '{title[:80]}')"
    if html_page and len(body) <= _SCAN_BYTES:
        text = " ".join(html.unescape(_TAGS.sub(" ", head)).split()).lower()
        for phrase in CHALLENGE_PHRASES:
            if phrase in text:
                return f"a challenge or error page, not the source ('{phrase}')"
    return None


def shape_problem(
    before: Shape | None,
    after: Shape,
    *,
    removed: int = 0,
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
) -> str | None:
    """Return why `after` is not a believable next version of a source shaped like `before`.

    `removed` is the number of places a country list would lose; more than `max_removed_share`
    of the list (and more than one place) at once is a failure. None means the shape holds.
    """
    if after.places is not None and after.places == 0:
        return "no places found in the country list"
    if before is None:
        return None
    if before.items and after.items == 0:
        return f"an empty answer after one with {before.items} entries"
    if before.chars >= MIN_FULL_CHARS and after.chars < before.chars * NEAR_EMPTY_SHARE:
        return f"the text shrank from {before.chars} to {after.chars} characters"
    # One place may always go: on a short list one is already more than the share.
    if before.places and removed > max(1.0, before.places * max_removed_share):
        return (
            f"{removed} of {before.places} places removed at once "
            f"(more than {max_removed_share:.0%}); the page probably changed its layout"
        )
    return None
