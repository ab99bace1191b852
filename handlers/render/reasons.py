"""The deciding rules: each rule's effect, title, citation link and dates, and the sources cited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.render.blocks import (
    MAX_SECTION,
    Block,
    Payload,
    context,
    cut,
    escape,
    header,
    message,
    section,
)

MAX_REASONS = 10
MAX_LINK_LABEL = 28
MAX_DETAIL = 160

EFFECT_WORDS = {
    "allow": "allow",
    "review": "review",
    "license_required": "license required",
    "deny": "deny",
}


def _dates(r: dict[str, Any]) -> str:
    start, end = r.get("effective_from"), r.get("effective_to")
    if not start and not end:
        return "no date limits"
    return f"in force {start or 'always'} to {end or 'open-ended'}"


def _short_dates(r: dict[str, Any]) -> str:
    start, end = r.get("effective_from"), r.get("effective_to")
    if start and end:
        return f"in force {start} to {end}"
    if start:
        return f"in force since {start}"
    return f"in force until {end}" if end else "no date limits"


def _link(url: str, label: str) -> str:
    label = escape(label).replace("|", "¦")
    if url.startswith(("https://", "http://")) and not any(c in url for c in "<>| "):
        return f"<{url}|{label}>"
    return label


def render_reason(r: dict[str, Any]) -> Block:
    """Return one deciding rule: effect, title, citation link, dates, detail and license."""
    lines = [
        f"*{EFFECT_WORDS.get(r['effect'], r['effect'])}* · {escape(r['title'])} "
        f"(`{escape(r['rule'])}`)"
    ]
    if r.get("detail"):
        lines.append(escape(r["detail"]))
    if r.get("license"):
        lic = r["license"]
        lines.append(
            f"Covered by license *{escape(lic['id'])}* "
            f"({lic.get('valid_from') or '…'} to {lic.get('valid_to') or '…'})"
        )
    cite = _link(r.get("url") or "", r.get("citation") or r.get("url") or "source")
    lines.append(f"{cite} · {_dates(r)}" + (" · _unverified_" if r.get("unverified") else ""))
    return section("\n".join(lines))


def link_label(citation: str) -> str:
    """Return a short label for a citation link ("31 CFR 560 ↗")."""
    return cut(citation.strip() or "source", MAX_LINK_LABEL) + " ↗"


def _rule_lines(reasons: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Return one line per deciding rule and the sources they cite, each source once."""
    sources: dict[tuple[str, str], int] = {}
    lines = []
    for r in reasons:
        key = (r.get("url") or "", r.get("citation") or "")
        number = sources.setdefault(key, len(sources) + 1)
        detail = f" — {escape(cut(r['detail'], MAX_DETAIL))}" if r.get("detail") else ""
        flag = " · _unverified_" if r.get("unverified") else ""
        lines.append(
            f"• *{EFFECT_WORDS.get(r['effect'], r['effect'])}* · {escape(r['title'])}{detail} "
            f"(`{escape(r['rule'])}`, {_short_dates(r)}) [{number}]{flag}"
        )
    cited = [
        f"[{n}] {_link(url, link_label(citation or url))}" for (url, citation), n in sources.items()
    ]
    return lines, cited


def reason_blocks(reasons: Sequence[dict[str, Any]]) -> list[Block]:
    """Return the deciding rules, as many lines as fit one section, and the sources they cite."""
    if not reasons:
        return []
    lines, cited = _rule_lines(reasons[:MAX_REASONS])
    shown = len(lines)
    while shown > 1 and len("\n".join(lines[:shown])) > MAX_SECTION - 60:
        shown -= 1
    text = "\n".join(lines[:shown])
    if len(reasons) > shown:
        text += f"\n…and {len(reasons) - shown} more rules (Show rules)"
    return [section(text), context(" · ".join(cited))]


def render_rules_detail(a: dict[str, Any]) -> Payload:
    """Return every deciding and overridden rule of an answer with explanations."""
    blocks: list[Block] = [header(f"Rules behind decision {a['decision_id'][:12]}")]
    for title, key in (("Deciding", "reasons"), ("Also matched (less strict)", "overridden")):
        rules = a.get(key) or []
        if not rules:
            continue
        blocks.append(section(f"*{title}*"))
        for r in rules:
            block = render_reason(r)
            if r.get("explanation"):
                block["text"]["text"] = cut(
                    block["text"]["text"] + "\n>" + escape(r["explanation"]), MAX_SECTION
                )
            blocks.append(block)
    if len(blocks) == 1:
        blocks.append(section("No rule covers this question, so it needs a review."))
    return message(f"Rules behind decision {a['decision_id']}", blocks, more="rules")
