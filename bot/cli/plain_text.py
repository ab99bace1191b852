"""Plain-text rendering of answers and rules for the terminal."""

from __future__ import annotations

from typing import Any

from bot.domain.asking.answers import Answer, describe_hq

VERDICT_WORDS = {
    "allowed": "ALLOWED",
    "conditional": "CONDITIONAL (allowed only if the conditions hold)",
    "review": "REVIEW (ask compliance)",
    "license_required": "LICENSE REQUIRED",
    "denied": "DENIED",
}


def _dates(r: dict[str, Any]) -> str:
    start, end = r.get("effective_from"), r.get("effective_to")
    if not start and not end:
        return "in force with no date limits"
    return f"in force {start or 'always'} to {end or 'open-ended'}"


def format_answer(a: Answer) -> str:
    """Return a readable answer with its reasons and citations."""
    who = a.customer.get("name") or "an unnamed customer"
    reg = "registered" if a.customer.get("registered") else "not registered"
    model = a.model or ", ".join(a.models)
    lines = [
        f"{VERDICT_WORDS.get(a.verdict, a.verdict)}",
        f"  customer: {who} ({reg}, {describe_hq(a.customer)})",
        f"  place: {a.country}   model: {model}   access: {a.access}   as of: {a.as_of}",
    ]
    if a.reason:
        lines.append(f"  reason: {a.reason}")
    if a.reasons:
        lines.append("Decided by:")
    cited: set[tuple[str, str]] = set()
    for r in a.reasons:
        lines.append(f"  - [{r['effect']}] {r['rule']}: {r['title']}")
        if r.get("license"):
            lines.append(f"    covered by license {r['license']['id']}")
        if r.get("detail"):
            lines.append(f"    {r['detail']}")
        if r.get("explanation"):
            lines.append(f"    {r['explanation']}")
        source = (r.get("citation") or "", r.get("url") or "")
        # Rules from one source share a citation: show it once, then refer to it.
        if source in cited:
            lines.append(f"    source: as above ({_dates(r)})")
        else:
            cited.add(source)
            link = f" <{source[1]}>" if source[1] else ""
            lines.append(f"    {source[0]}{link} ({_dates(r)})")
        if r.get("unverified"):
            lines.append("    (unverified source)")
    for title, items in (
        ("Conditions", a.conditions),
        ("Assumptions", a.assumptions),
        ("Warnings", a.warnings),
    ):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  - {item}" for item in items)
    if a.overridden:
        lines.append("Also matched (less strict): " + ", ".join(r["rule"] for r in a.overridden))
    if a.screening is not None:
        lines.append(f"Screening: {a.screening['summary']}")
    lines.append(f"Rule-table revision {a.revision} · decision {a.decision_id}")
    return "\n".join(lines)
