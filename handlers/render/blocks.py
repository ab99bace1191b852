"""Block Kit renderers: pure functions from answers and records to Slack message payloads.

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

from bot.domain.asking.answers import describe_hq
from handlers.render.colours import coloured

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


def answer_text(a: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """Return the plain-text fallback: verdict, customer, model and country."""
    return escape(" · ".join(_headline(a, names or {})))


def _headline(a: dict[str, Any], names: dict[str, str]) -> list[str]:
    """Return the parts of the card's header: verdict, customer, model, country (display names)."""
    word = VERDICT_LABELS.get(a["verdict"], ("", a["verdict"]))[1]
    model = a.get("model") or ", ".join(a.get("models") or [])
    return [
        word,
        a["customer"].get("name") or "Unnamed customer",
        names.get("model") or model,
        names.get("country") or a["country"],
    ]


MAX_LINK_LABEL = 28
MAX_DETAIL = 160
SHORT_ID = 8


def _decision_ref(decision_id: str, url: str | None) -> str:
    """Return the short decision id, as a link to the decision when there is one."""
    short = escape(short_id(decision_id))
    if url and url.startswith("https://") and not set(url) & set("<>| "):
        return f"<{url}|{short}>"
    return f"`{short}`"


def short_id(decision_id: str) -> str:
    """Return the first characters of a decision id, enough to find it in the audit log."""
    return decision_id[:SHORT_ID]


def link_label(citation: str) -> str:
    """Return a short label for a citation link ("31 CFR 560 ↗")."""
    return cut(citation.strip() or "source", MAX_LINK_LABEL) + " ↗"


def merge_similar(items: Sequence[str], *, threshold: float = 90.0) -> list[str]:
    """Drop items that repeat an earlier one almost word for word (conditions of several rules)."""
    if len(items) < 2:
        return list(items)
    from rapidfuzz import fuzz

    kept: list[str] = []
    for item in items:
        key = " ".join(item.lower().split())
        if not any(fuzz.ratio(key, " ".join(k.lower().split())) >= threshold for k in kept):
            kept.append(item)
    return kept


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


def render_answer(
    a: dict[str, Any],
    *,
    buttons: bool = True,
    share: bool = True,
    shared_by: str | None = None,
    review: int | None = None,
    names: dict[str, str] | None = None,
) -> Payload:
    """Return the answer card: what was asked and the verdict first, the detail behind buttons.

    `names` holds display names for the model and country ("Claude Sonnet 4.5", "Singapore");
    the codes stay in the fields below the header.
    """
    names = names or {}
    customer = a["customer"]
    reg = "registered" if customer.get("registered") else "not registered"
    model = a.get("model") or ", ".join(a.get("models") or [])
    cid = f"`{escape(customer['id'])}`, " if customer.get("id") else ""
    top: list[Block] = [
        header(
            f"{VERDICT_LABELS.get(a['verdict'], ('❔', ''))[0]} "
            + escape(" · ".join(_headline(a, names)))
        ),
    ]
    if shared_by:
        top.append(
            context(f"{mention(shared_by)} shared this answer to: _{escape(a['question'])}_")
        )
    blocks: list[Block] = []
    blocks.append(
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": cut(
                        f"*Customer*\n{escape(customer.get('name') or 'unnamed')} "
                        f"({cid}{reg}, {escape(describe_hq(customer))})",
                        MAX_FIELD,
                    ),
                },
                {
                    "type": "mrkdwn",
                    "text": f"*Country*\n{escape(names.get('country') or a['country'])} "
                    f"(`{escape(a['country'])}`)",
                },
                {
                    "type": "mrkdwn",
                    "text": cut(
                        f"*Model*\n{escape(names.get('model') or model)} (`{escape(model)}`)",
                        MAX_FIELD,
                    ),
                },
                {
                    "type": "mrkdwn",
                    "text": f"*Access · as of*\n{escape(a['access'])} · {escape(a['as_of'])}",
                },
            ],
        }
    )
    if a.get("reason"):
        blocks.append(section(f"*Why:* {escape(a['reason'])}"))
    reasons = a.get("reasons") or []
    if reasons:
        lines, cited = _rule_lines(reasons[:MAX_REASONS])
        shown = len(lines)
        while shown > 1 and len("\n".join(lines[:shown])) > MAX_SECTION - 60:
            shown -= 1
        text = "\n".join(lines[:shown])
        if len(reasons) > shown:
            text += f"\n…and {len(reasons) - shown} more rules (Show rules)"
        blocks.append(section(text))
        blocks.append(context(" · ".join(cited)))
    for title, key in (
        ("Conditions", "conditions"),
        ("Assumptions", "assumptions"),
        ("Warnings", "warnings"),
    ):
        if a.get(key):
            blocks.append(list_section(title, merge_similar(a[key])))
    if a.get("screening"):
        blocks.append(
            context(cut(f"*Screening:* {escape(a['screening']['summary'])}", MAX_SECTION))
        )
    blocks.append(
        context(
            f"Decision {_decision_ref(a['decision_id'], names.get('decision_url'))} · "
            f"rule-table revision {a['revision']}"
        )
    )
    if buttons:
        elements = []
        if share:
            elements.append(button("Share in channel", "share_answer", a["decision_id"]))
        elements += [
            button(
                f"Review #{review} requested" if review else "Request review",
                "request_review",
                a["decision_id"],
            ),
            button("Show rules", "show_rules", a["decision_id"]),
        ]
        blocks.append({"type": "actions", "block_id": "answer_actions", "elements": elements})
    # The actions block must survive `fit`, so fit the rest first.
    tail = blocks[-1:] if buttons else []
    body = fit(blocks[:-1] if buttons else blocks, max_blocks=MAX_BLOCKS - len(top) - len(tail))
    # The verdict's colour runs beside everything below the header (handlers.render.colours).
    return coloured(answer_text(a, names), top, body + tail, a["verdict"])


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


# ---------------------------------------------------------------- errors

MAX_CANDIDATE_BUTTONS = 5
MAX_MENU_OPTIONS = 100  # Slack's limit for a static_select


def render_question_error(
    code: str,
    text: str,
    candidates: Sequence[dict[str, str]],
    question: str,
    *,
    phrase: str | None = None,
    choice: str | None = None,
) -> Payload:
    """Return the parser's message with candidates as buttons (up to 5) or a select menu.

    `choice` is the id of the stored question and candidates (`storage.choices`); each button
    or option carries only "<choice>:<index>", so any question fits Slack's value limit. Without
    it the candidates are listed as text.
    """
    blocks: list[Block] = [section(f"I can't answer that yet: {escape(text)}")]
    if candidates and choice:
        if len(candidates) <= MAX_CANDIDATE_BUTTONS:
            elements = [
                button(c["label"], f"pick_candidate_{i}", f"{choice}:{i}")
                for i, c in enumerate(candidates)
            ]
        else:
            elements = [
                {
                    "type": "static_select",
                    "action_id": "pick_candidate_menu",
                    "placeholder": {"type": "plain_text", "text": "Did you mean…"},
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": cut(c["label"], 75)},
                            "value": f"{choice}:{i}",
                        }
                        for i, c in enumerate(candidates[:MAX_MENU_OPTIONS])
                    ],
                }
            ]
        blocks.append({"type": "actions", "block_id": "candidates", "elements": elements})
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
