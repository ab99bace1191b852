"""Review requests: the review channel's ticket with the full card, and how reviews ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.render.answer_card import render_answer, verdict_label
from handlers.render.blocks import (
    MAX_BLOCKS,
    Block,
    Payload,
    button,
    context,
    escape,
    fit,
    header,
    list_section,
    mention,
    message,
    section,
    slack_date,
)
from handlers.render.colours import card_blocks, coloured
from storage.reviews import override_verdict
from storage.tables.reviews import ReviewRequest


def outcome_line(review: ReviewRequest) -> str:
    """Return how a resolved review ended, with who ended it ("✅ Overridden → allowed by @a")."""
    verdict = override_verdict(review)
    if verdict:
        said = f"{verdict_label(verdict).split(' ')[0]} Overridden → {escape(verdict)}"
    elif review.outcome == "Answer confirmed":
        said = "✅ Answer confirmed"
    else:
        said = f"❓ {escape(review.outcome)}"
    return f"*{said}* by {mention(review.resolved_by)}"


def render_review_request(
    review: ReviewRequest, a: dict[str, Any], *, names: dict[str, str] | None = None
) -> Payload:
    """Return the review channel's message: status, the asker's question and the full card.

    Open requests have Claim and Resolve; the discussion happens in the message's thread.
    """
    status: list[Block]
    if review.status == "resolved":
        status = [
            header(f"Review #{review.id} resolved"),
            section(outcome_line(review) + (f"\n{escape(review.note)}" if review.note else "")),
        ]
    else:
        claimed = (
            f"Claimed by {mention(review.claimed_by)}" if review.claimed_by else "Not claimed yet"
        )
        status = [header(f"🔎 Review #{review.id} requested"), context(claimed)]
    card = card_blocks(render_answer(a, buttons=False, names=names))
    blocks: list[Block] = [
        section(
            f"{mention(review.requested_by)} asked on {slack_date(review.requested_at)}:\n"
            f">{escape(a['question'])}"
        ),
        *card,
    ]
    tail: list[Block] = []
    if review.status != "resolved":
        elements = [] if review.claimed_by else [button("Claim", "claim_review", str(review.id))]
        elements.append(button("Resolve", "resolve_review", str(review.id), style="primary"))
        tail = [{"type": "actions", "block_id": "review_actions", "elements": elements}]
    tail.append(context("Discuss this request in its thread."))
    body = fit(blocks, max_blocks=MAX_BLOCKS - len(status) - len(tail))
    state = "resolved" if review.status == "resolved" else "requested"
    text = f"Review #{review.id} {state}: {escape(a['question'])}"
    # The bar has the colour of the verdict that stands: the override once resolved with one.
    verdict = override_verdict(review) or a["verdict"]
    return coloured(text[:3900], status, body + tail, verdict)


def review_marker(reviews: Sequence[ReviewRequest]) -> str:
    """Return how a decision's reviews ended, for lists ("✅ Overridden → allowed by @admin")."""
    for v in reversed(reviews):
        verdict = override_verdict(v)
        if verdict:
            return (
                f"{verdict_label(verdict).split(' ')[0]} Overridden → {escape(verdict)} by "
                f"{mention(v.resolved_by)} (review #{v.id})"
            )
        if v.status == "resolved":
            return f"{escape(v.outcome)} by {mention(v.resolved_by)} (review #{v.id})"
    open_ = [v for v in reviews if v.status == "open"]
    return f"review #{open_[-1].id} open" if open_ else ""


def render_reviews(rows: Sequence[ReviewRequest]) -> Payload:
    """Return a user's review requests."""
    if not rows:
        return message("No review requests.", [section("You have no review requests.")])
    items = [
        f"#{r.id} · {r.status} · decision {r.decision_id[:12]}"
        + (f" · {r.outcome}" if r.outcome else "")
        for r in rows
    ]
    return message("Your review requests", [list_section("Your review requests", items)])
