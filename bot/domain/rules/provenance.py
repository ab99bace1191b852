"""Rules that decide must show where they come from, and must say where they apply.

An `allow` or `deny` rule needs a citation and an http(s) URL; any URL given must be http(s)
(no `javascript:` or `file:` links shown to people as a source); and a rule with no conditions
at all must say so with `everywhere: true`, so that a rule cut down to its id and effect can
never allow (or deny) everything by accident.
"""

from __future__ import annotations

import re
from typing import Any

CONDITION_FIELDS = ("models", "places", "customer", "access", "listed")
DECIDING = ("allow", "deny")


def _article(effect: str) -> str:
    return f"an {effect}" if effect[:1] in "aeiou" else f"a {effect}"


_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(?:[/?#]\S*)?", re.IGNORECASE)


def url_problem(url: Any) -> str | None:
    """Return what is wrong with a source URL, or None for an absolute http(s) URL."""
    text = url.strip() if isinstance(url, str) else ""
    if _HTTP_URL.fullmatch(text):
        return None
    if text.lower().startswith(("http://", "https://")) and any(ch.isspace() for ch in text):
        return "a URL has no spaces; copy the address from the browser"
    shown = text if len(text) <= 80 else text[:77] + "..."
    return (
        f"'{shown}' is not a web address; write the source's http:// or https:// URL, "
        "e.g. https://www.federalregister.gov/d/2025-00636"
    )


def rule_problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (field, message) for every provenance or scope problem of one rule in file form."""
    out: list[tuple[str, str]] = []
    effect = body.get("effect")
    url = body.get("url") or ""
    if effect in DECIDING:
        if not str(body.get("citation") or "").strip():
            out.append(
                (
                    "citation",
                    f"{_article(effect)} rule needs a citation: name the regulation, page or notice it "
                    'rests on, e.g. citation: "15 CFR 744.23"',
                )
            )
        if not str(url).strip():
            out.append(
                (
                    "url",
                    f"{_article(effect)} rule needs the http(s) URL of its source; add url: https://...",
                )
            )
    if str(url).strip():
        problem = url_problem(url)
        if problem is not None:
            out.append(("url", problem))
    conditions = [f for f in CONDITION_FIELDS if body.get(f) is not None]
    everywhere = body.get("everywhere") is True
    if not conditions and not everywhere:
        out.append(
            (
                "everywhere",
                "this rule has no conditions (models, places, customer, access or listed), so it "
                "would apply to every question; add the conditions, or write everywhere: true if it "
                "really applies everywhere",
            )
        )
    if conditions and everywhere:
        out.append(
            (
                "everywhere",
                f"everywhere: true contradicts the conditions given ({', '.join(conditions)}); "
                "remove one or the other",
            )
        )
    return out


def source_problems(kind: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (field, message) for the provenance problems of one entity in file form."""
    if kind == "rules":
        return rule_problems(body)
    if kind == "groups" and str(body.get("url") or "").strip():
        problem = url_problem(body["url"])
        return [] if problem is None else [("url", problem)]
    return []
