"""Severity of a policy change: high for matching keywords or for countries where customers are.

The keywords are configurable (CLEARANCE_HIGH_KEYWORDS); the countries come from registered
customers' headquarters and recorded usage, matched by name or alias as whole words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.table import RuleTable

DEFAULT_KEYWORDS = (
    "Entity List",
    "artificial intelligence",
    "4E091",
    "model weights",
    "supported regions",
    "supported countries",
)


@dataclass(frozen=True)
class Severity:
    """A severity and the reasons for it."""

    level: str  # "high" | "normal"
    reasons: tuple[str, ...] = ()


def customer_countries(table: RuleTable) -> set[str]:
    """Return the countries registered customers are headquartered in or use models in."""
    codes = {c.hq for c in table.customers.values()}
    codes |= {u.country for c in table.customers.values() for u in c.uses}
    return codes


def _names(code: str, places: PlaceCatalog) -> list[str]:
    place = places.get(code)
    if place is None:
        return []
    # Skip short aliases ("US", "UK") that would match ordinary words or codes in prose.
    return [n for n in (place.name, *place.aliases) if len(n) >= 4]


def _phrase(text: str) -> re.Pattern[str]:
    """Return a case-insensitive pattern for `text` as whole words: not inside a longer word, and
    with any run of whitespace (a line break in a wrapped page) between its words.

    Lookarounds rather than `\\b` so that phrases starting or ending with punctuation ("U.S.",
    "§ 744.23") match too.
    """
    body = r"\s+".join(re.escape(w) for w in text.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.I)


def _longer_names(name: str, code: str, places: PlaceCatalog) -> list[str]:
    """Return other places' names that contain `name` as whole words ("South Sudan" for
    "Sudan", "Papua New Guinea" for "Guinea", "Northern Ireland" for "Ireland")."""
    pattern = _phrase(name)
    out = []
    for place in places.places.values():
        if place.code == code or (place.kind != "country" and place.parent == code):
            continue
        for other in (place.name, *place.aliases):
            if len(other) > len(name) and pattern.search(other):
                out.append(other)
    return sorted(set(out), key=len, reverse=True)


def names_country(text: str, code: str, places: PlaceCatalog) -> bool:
    """Return whether `text` names the country by name or alias, as whole words, and not only as
    part of another place's name (a customer in Oman is not named by "Romania" or "woman"; one in
    Sudan is not named by "South Sudan")."""
    for name in _names(code, places):
        pattern = _phrase(name)
        if not pattern.search(text):
            continue
        masked = text
        for other in _longer_names(name, code, places):
            masked = _phrase(other).sub(" ", masked)
        if pattern.search(masked):
            return True
    return False


def assess(
    text: str,
    *,
    default: str,
    keywords: Iterable[str],
    countries: Iterable[str],
    places: PlaceCatalog,
    added: Iterable[str] = (),
    removed: Iterable[str] = (),
) -> Severity:
    """Return the severity of a change whose new material is `text`.

    High when `default` is "high", when a keyword occurs (case-insensitive, whole words), when a
    watched country is among the countries `added` or `removed`, or when the text names a watched
    country (see `names_country`). Each reason is listed once.
    """
    reasons: list[str] = []
    for kw in keywords:
        if kw.strip() and _phrase(kw).search(text):
            reasons.append(f"mentions '{kw.strip()}'")
    watched = {c.upper() for c in countries}
    changed = {c.upper() for c in (*added, *removed)}
    for code in sorted(watched & changed):
        reasons.append(f"changes {places.label(code)}, where customers operate")
    for code in sorted(watched - changed):
        if names_country(text, code, places):
            reasons.append(f"names {places.label(code)}, where customers operate")
    level = "high" if reasons or default == "high" else "normal"
    return Severity(level, tuple(dict.fromkeys(reasons)))


def assess_country_list(
    *,
    added: Iterable[str],
    removed: Iterable[str],
    excluded: Iterable[str] = (),
    readmitted: Iterable[str] = (),
    unresolved: Iterable[str] = (),
    countries: Iterable[str],
    places: PlaceCatalog,
) -> Severity:
    """Return the severity of a country-list change from the places it changes.

    High when a place is removed or newly excluded (answers may turn to denied), when an entry
    can no longer be read, or when any changed place is one where registered customers operate
    (a subdivision counts for its country). Added or readmitted places elsewhere, and changes of
    the text alone (a cookie banner, a date, a new layout), are normal at most: the source's own
    severity and the keywords do not apply.
    """
    watched = {c.upper() for c in countries}
    reasons: list[str] = []
    removed, excluded = list(removed), list(excluded)
    if removed:
        reasons.append("removes " + ", ".join(places.label(c) for c in removed))
    if excluded:
        reasons.append("excludes " + ", ".join(places.label(c) for c in excluded))
    unread = list(unresolved)
    if unread:
        reasons.append(f"{len(unread)} entr{'y' if len(unread) == 1 else 'ies'} could not be read")
    for code in sorted({*added, *removed, *excluded, *readmitted}):
        parent = places.parent_of(code)
        if code in watched or (parent is not None and parent in watched):
            reasons.append(f"changes {places.label(code)}, where customers operate")
    return Severity("high" if reasons else "normal", tuple(dict.fromkeys(reasons)))
