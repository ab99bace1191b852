"""The answer card: what was asked and the verdict first, the detail behind buttons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.asking.answers import describe_hq
from handlers.render.blocks import (
    MAX_BLOCKS,
    MAX_FIELD,
    MAX_SECTION,
    Block,
    Payload,
    button,
    context,
    cut,
    escape,
    fit,
    header,
    list_section,
    mention,
    section,
)
from handlers.render.colours import coloured
from handlers.render.reasons import reason_blocks

VERDICT_LABELS = {
    "allowed": ("✅", "Allowed"),
    "conditional": ("🟡", "Conditional"),
    "review": ("🔎", "Review"),
    "license_required": ("📄", "License required"),
    "denied": ("⛔", "Denied"),
}


def verdict_label(verdict: str) -> str:
    """Return "⛔ Denied" and the like."""
    emoji, word = VERDICT_LABELS.get(verdict, ("❔", verdict))
    return f"{emoji} {word}"


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
    blocks: list[Block] = [_answer_fields(a, names)]
    if a.get("reason"):
        blocks.append(section(f"*Why:* {escape(a['reason'])}"))
    blocks += reason_blocks(a.get("reasons") or [])
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
        blocks.append(_answer_actions(a["decision_id"], share=share, review=review))
    # The actions block must survive `fit`, so fit the rest first.
    tail = blocks[-1:] if buttons else []
    body = fit(blocks[:-1] if buttons else blocks, max_blocks=MAX_BLOCKS - len(top) - len(tail))
    # The verdict's colour runs beside everything below the header (handlers.render.colours).
    return coloured(answer_text(a, names), top, body + tail, a["verdict"])


def _answer_fields(a: dict[str, Any], names: dict[str, str]) -> Block:
    """Return the fields below the header: customer, country, model, access and date."""
    customer = a["customer"]
    reg = "registered" if customer.get("registered") else "not registered"
    model = a.get("model") or ", ".join(a.get("models") or [])
    cid = f"`{escape(customer['id'])}`, " if customer.get("id") else ""
    return {
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


def _answer_actions(decision_id: str, *, share: bool, review: int | None) -> Block:
    """Return the card's buttons: share, request review (or its number), show rules."""
    elements = []
    if share:
        elements.append(button("Share in channel", "share_answer", decision_id))
    elements += [
        button(
            f"Review #{review} requested" if review else "Request review",
            "request_review",
            decision_id,
        ),
        button("Show rules", "show_rules", decision_id),
    ]
    return {"type": "actions", "block_id": "answer_actions", "elements": elements}
