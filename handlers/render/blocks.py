"""Block Kit renderers: pure functions from answers and records to Slack message payloads.

Every payload keeps inside Slack's limits (50 blocks per message, 100 per view, 3,000 characters
per section, 150 per header, 75 per button label, 2,000 per button value, ~12,000 characters of
block text per message), cuts long lists with "…and N more", and always carries a plain-text
`text` fallback. User text is escaped so it cannot ping (`<!channel>`) or link anyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.domain.asking.answers import describe_hq

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
MAX_REASONS = 10

VERDICT_LABELS = {
    "allowed": ("✅", "Allowed"),
    "conditional": ("🟡", "Conditional"),
    "review": ("🔎", "Review"),
    "license_required": ("📄", "License required"),
    "denied": ("⛔", "Denied"),
}
EFFECT_WORDS = {
    "allow": "allow",
    "review": "review",
    "license_required": "license required",
    "deny": "deny",
}


def escape(text: str | None) -> str:
    """Escape user text for mrkdwn so `<!here>`, `<@U…>` and `<url|x>` stay plain text."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


# ---------------------------------------------------------------- answers


def verdict_label(verdict: str) -> str:
    """Return "⛔ Denied" and the like."""
    emoji, word = VERDICT_LABELS.get(verdict, ("❔", verdict))
    return f"{emoji} {word}"


def _dates(r: dict[str, Any]) -> str:
    start, end = r.get("effective_from"), r.get("effective_to")
    if not start and not end:
        return "no date limits"
    return f"in force {start or 'always'} to {end or 'open-ended'}"


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


def answer_text(a: dict[str, Any]) -> str:
    """Return the plain-text fallback: verdict, customer, country and model."""
    word = VERDICT_LABELS.get(a["verdict"], ("", a["verdict"]))[1]
    who = a["customer"].get("name") or "an unnamed customer"
    model = a.get("model") or ", ".join(a.get("models") or [])
    return escape(f"{word}: {who} in {a['country']} using {model}")


def render_answer(
    a: dict[str, Any], *, buttons: bool = True, share: bool = True, shared_by: str | None = None
) -> Payload:
    """Return the answer card for an answer in its JSON form."""
    customer = a["customer"]
    who = escape(customer.get("name") or "an unnamed customer")
    reg = "registered" if customer.get("registered") else "not registered"
    model = a.get("model") or ", ".join(a.get("models") or [])
    blocks: list[Block] = [
        header(f"{verdict_label(a['verdict'])}"),
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": cut(f"*Customer*\n{who} ({reg}, {describe_hq(customer)})", MAX_FIELD),
                },
                {"type": "mrkdwn", "text": f"*Country*\n{escape(a['country'])}"},
                {"type": "mrkdwn", "text": cut(f"*Model*\n{escape(model)}", MAX_FIELD)},
                {"type": "mrkdwn", "text": f"*Access*\n{escape(a['access'])}"},
                {"type": "mrkdwn", "text": f"*As of*\n{escape(a['as_of'])}"},
            ],
        },
    ]
    if a.get("reason"):
        blocks.append(section(f"*Why:* {escape(a['reason'])}"))
    reasons = a.get("reasons") or []
    blocks += [render_reason(r) for r in reasons[:MAX_REASONS]]
    if len(reasons) > MAX_REASONS:
        blocks.append(context(f"…and {len(reasons) - MAX_REASONS} more rules (Show rules)"))
    for title, key in (
        ("Conditions", "conditions"),
        ("Assumptions", "assumptions"),
        ("Warnings", "warnings"),
    ):
        if a.get(key):
            blocks.append(list_section(title, a[key]))
    line = f"Rule-table revision {a['revision']} · decision `{escape(a['decision_id'])}`"
    if shared_by:
        line += f" · shared by <@{shared_by}>"
    blocks.append(context(line))
    if buttons:
        elements = []
        if share:
            elements.append(button("Share in channel", "share_answer", a["decision_id"]))
        elements += [
            button("Request review", "request_review", a["decision_id"]),
            button("Show rules", "show_rules", a["decision_id"]),
        ]
        blocks.append({"type": "actions", "block_id": "answer_actions", "elements": elements})
    # The actions block must survive `fit`, so fit the rest first.
    tail = blocks[-1:] if buttons else []
    body = fit(blocks[:-1] if buttons else blocks, max_blocks=MAX_BLOCKS - len(tail))
    return {"text": answer_text(a), "blocks": body + tail}


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


# ---------------------------------------------------------------- errors and help

HELP = [
    (
        "`/clearance QUESTION`",
        "e.g. `/clearance can Acme GmbH in Germany use Claude Sonnet 4.5?` "
        "Add `as of 2025-08-01` or `with weights access` if needed. Answers are private.",
    ),
    (
        "`/clearance customer NAME`",
        "profile, ownership chain, control result and current "
        "verdicts for the customer's recorded usage",
    ),
    ("`/clearance rules [TEXT]`", "search the rules"),
    ("`/clearance rule ID`", "one rule with its citation"),
    ("`/clearance revisions`", "recent changes to the rule table"),
    ("`/clearance audit [@user | customer]`", "recent decisions (admins)"),
    ("`/clearance rule add` · `rule edit ID` · `rule retire ID`", "change rules (admins)"),
    ("`/clearance customer add` · `customer edit NAME`", "change customers (admins)"),
    (
        "`/clearance subscribe [SOURCES or TAGS] [daily HH:MM TZ | weekly DAY HH:MM TZ]`",
        "policy-change digests in this channel (admins); `unsubscribe` to stop",
    ),
    (
        "`/clearance subscriptions` · `sources` · `changes [since DATE]` · `digest preview`",
        "what is tracked, its health, recent changes, and the next digest here",
    ),
    ("`/clearance help`", "this help"),
]


def render_help(note: str | None = None) -> Payload:
    """Return the help message."""
    blocks: list[Block] = [header("Clearance: can customer X in country Y use model Z?")]
    if note:
        blocks.append(section(note))
    blocks.append(section("\n".join(f"• {cmd}: {what}" for cmd, what in HELP)))
    blocks.append(
        context(
            "Verdicts: ⛔ denied > 📄 license required > 🔎 review > "
            "🟡 conditional > ✅ allowed. Every answer cites its rules and is "
            "written to the audit log. You can also @mention me or DM me a "
            "question."
        )
    )
    return message("Clearance help: /clearance can CUSTOMER in COUNTRY use MODEL?", blocks)


def render_question_error(
    code: str,
    text: str,
    candidates: Sequence[dict[str, str]],
    question: str,
    *,
    phrase: str | None = None,
) -> Payload:
    """Return the parser's message, with candidates as buttons when there are few."""
    blocks: list[Block] = [section(f"I can't answer that yet: {escape(text)}")]
    if candidates and len(candidates) <= 5:
        blocks.append(
            {
                "type": "actions",
                "block_id": "candidates",
                "elements": [
                    button(
                        c["label"],
                        f"pick_candidate_{i}",
                        json.dumps(
                            {
                                "q": question[:1500],
                                "code": code,
                                "value": c["value"],
                                "phrase": (phrase or "")[:200],
                            }
                        ),
                    )
                    for i, c in enumerate(candidates)
                ],
            }
        )
    elif candidates:
        blocks.append(list_section("Did you mean", [c["label"] for c in candidates]))
    blocks.append(context(f"Error code `{code}` · `/clearance help` shows the question forms"))
    return message(f"Can't answer: {escape(text)}", blocks)


def render_failure(error_id: str) -> Payload:
    """Return the message for an unexpected failure (details are in the server log)."""
    text = (
        f"Sorry, something went wrong on our side. Nothing was changed. "
        f"Please try again; if it keeps happening, give an admin the error id `{error_id}`."
    )
    return message(text, [section(text)])


def render_notice(text: str) -> Payload:
    """Return a one-section message (text already safe for mrkdwn)."""
    return message(text, [section(text)])
