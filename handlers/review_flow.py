"""The review ticket: Claim in the review channel (Request and Resolve are in `handlers.reviews`)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from handlers.deps import Deps, display_names
from handlers.render.blocks import mention
from handlers.render.notices import render_notice
from handlers.render.reviews import render_review_request
from storage.db import session_scope
from storage.reviews import claim_review
from storage.tables.audit import Decision


def register(app: App, deps: Deps) -> None:
    """Register the Claim button."""

    @app.action("claim_review")
    def handle_claim(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        user = body["user"]["id"]
        value = str(action.get("value") or "")
        deps.later(lambda: claim(deps, client, respond, user=user, value=value), respond=respond)


def claim(deps: Deps, client: WebClient, respond: Respond, *, user: str, value: str) -> None:
    """Claim a review for an admin, update its message and say so in its thread."""

    def tell(text: str) -> None:
        respond(**render_notice(text), response_type="ephemeral", replace_original=False)

    if not deps.is_admin(user, client):
        deps.record_admin_action(user_id=user, action="claim review", target=value, allowed=False)
        tell("Sorry, only compliance admins can claim reviews.")
        return
    if not value.isdigit():
        tell("That review no longer exists.")
        return
    review, claimed = claim_review(deps.engine, review_id=int(value), user=user, now=deps.clock())
    if review is None:
        tell(f"There is no review #{value}.")
        return
    if not claimed:
        if review.status == "resolved":
            tell(f"Review #{review.id} was already resolved by {mention(review.resolved_by)}.")
        else:
            tell(f"Review #{review.id} is already claimed by {mention(review.claimed_by)}.")
        return
    deps.record_admin_action(user_id=user, action="claim review", target=value, allowed=True)
    with session_scope(deps.engine) as session:
        decision = session.get(Decision, review.decision_id)
    if review.channel and review.ts and decision is not None and decision.answer is not None:
        answer = decision.answer
        client.chat_update(
            channel=review.channel,
            ts=review.ts,
            **render_review_request(review, answer, names=display_names(deps, answer)),
        )
        client.chat_postMessage(
            channel=review.channel,
            thread_ts=review.ts,
            text=f"{mention(user)} claimed review #{review.id}.",
        )
