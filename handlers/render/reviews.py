"""The review channel's message for a review request: a ticket with the full card."""

from __future__ import annotations

from typing import Any

from handlers.render.blocks import (
    MAX_BLOCKS,
    Block,
    Payload,
    button,
    context,
    escape,
    fit,
    header,
    mention,
    render_answer,
    section,
    slack_date,
    verdict_label,
)
from handlers.render.colours import card_blocks, coloured
from storage.models import ReviewRequest
from storage.reviews import override_verdict


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
