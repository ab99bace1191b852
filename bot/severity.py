"""Severity of a policy change: high for matching keywords or for countries where customers are.

The keywords are configurable (CLEARANCE_HIGH_KEYWORDS); the countries come from registered
customers' headquarters and recorded usage, matched by name or alias as whole words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.places import PlaceCatalog
from bot.ruletable import RuleTable

DEFAULT_KEYWORDS = ("Entity List", "artificial intelligence", "4E091", "model weights",
                    "supported regions", "supported countries")


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


def assess(text: str, *, default: str, keywords: Iterable[str], countries: Iterable[str],
           places: PlaceCatalog, added: Iterable[str] = (),
           removed: Iterable[str] = ()) -> Severity:
    """Return the severity of a change whose new material is `text`."""
    reasons: list[str] = []
    for kw in keywords:
        if kw and re.search(rf"\b{re.escape(kw)}\b", text, re.I):
            reasons.append(f"mentions '{kw}'")
    watched = set(countries)
    for code in sorted(watched & (set(added) | set(removed))):
        reasons.append(f"changes {places.label(code)}, where customers operate")
    for code in sorted(watched - set(added) - set(removed)):
        for name in _names(code, places):
            if re.search(rf"\b{re.escape(name)}\b", text, re.I):
                reasons.append(f"names {places.label(code)}, where customers operate")
                break
    level = "high" if reasons or default == "high" else "normal"
    return Severity(level, tuple(reasons))
