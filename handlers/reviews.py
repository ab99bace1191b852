"""Review requests: Request review on a card, Resolve with its modal, and one's own requests.

Claiming a review is in `handlers.review_flow`.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from bot.services.workspace import current_workspace
from bot.services.workspace_channels import configured_channel
from handlers.answer_cards import stored_answer
from handlers.deps import Deps, bind, display_names
from handlers.render.answer_card import render_answer
from handlers.render.blocks import escape
from handlers.render.colours import card_blocks
from handlers.render.modals import OUTCOMES, info_modal, resolve_modal
from handlers.render.notices import render_notice
from handlers.render.reviews import outcome_line, render_review_request, render_reviews
from storage.db import session_scope
from storage.reviews import list_reviews, request_review, resolve_review
from storage.tables.reviews import ReviewRequest

log = logging.getLogger("clearance.actions")
NO_REVIEW_CHANNEL = (
    "No review channel is configured (an admin sets one with "
    "`/clearance settings review-channel #channel`); please ask a compliance admin directly."
)


def mark_review_requested(message: dict[str, Any], review_id: int) -> dict[str, Any]:
    """Return a card's blocks and attachments with its Request review button saying the review
    is requested."""
    out = {k: copy.deepcopy(message[k]) for k in ("blocks", "attachments") if message.get(k)}
    for block in card_blocks(out):
        for element in block.get("elements") or ():
            if isinstance(element, dict) and element.get("action_id") == "request_review":
                element["text"] = {"type": "plain_text", "text": f"Review #{review_id} requested"}
    return out


def _thread_link(client: WebClient, review: ReviewRequest) -> str | None:
    """Return a link to the review message's thread, where the discussion happens."""
    if not (review.channel and review.ts):
        return None
    try:
        link = client.chat_getPermalink(channel=review.channel, message_ts=review.ts)
    except Exception:
        log.warning("no permalink for review %s", review.id)
        return None
    url = str(link.get("permalink") or "")
    return f"<{url}|discussion thread>" if url.startswith("https://") else None


def ask_for_review(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """Request review: post the answer to the review channel once, and mark the card."""
    ack()
    user = body["user"]["id"]
    channel = configured_channel(deps.engine, deps.settings, current_workspace(), "review")
    if not channel:
        deps.later(
            lambda: respond(
                **render_notice(NO_REVIEW_CHANNEL),
                response_type="ephemeral",
                replace_original=False,
            ),
            respond=respond,
        )
        return
    original = body.get("message") or {}

    def send() -> None:
        _send_for_review(
            deps,
            client,
            respond,
            decision=action["value"],
            user=user,
            channel=channel,
            original=original,
        )

    deps.later(send, respond=respond)


def _send_for_review(
    deps: Deps,
    client: WebClient,
    respond: Respond,
    *,
    decision: str,
    user: str,
    channel: str,
    original: dict[str, Any],
) -> None:
    """Post a new review request (or find the open one), tell the asker, and mark the card."""
    answer = stored_answer(deps, decision)
    review, created = request_review(
        deps.engine,
        decision_id=decision,
        user=user,
        now=deps.clock(),
        workspace=current_workspace(),
    )
    if created:
        posted = client.chat_postMessage(
            channel=channel,
            **render_review_request(review, answer, names=display_names(deps, answer)),
        )
        with session_scope(deps.engine) as session:
            row = session.get(ReviewRequest, review.id)
            assert row is not None
            row.channel, row.ts = posted["channel"], posted["ts"]
            session.add(row)
            session.commit()
        review.channel, review.ts = posted["channel"], posted["ts"]
    thread = _thread_link(client, review)
    where = f"<#{channel}>" + (f" ({thread})" if thread else "")
    text = (
        f"Sent to {where} for review (request #{review.id}). "
        "You'll get a message when compliance resolves it."
        if created
        else f"Review #{review.id} is already requested in {where}; nothing was sent again."
    )
    respond(**render_notice(text), response_type="ephemeral", replace_original=False)
    # The card's button now says the review is requested; a second click changes nothing.
    card = render_answer(answer, review=review.id, names=display_names(deps, answer))
    if original.get("blocks"):  # a public card (no Share button) or one already changed
        card.update(mark_review_requested(original, review.id or 0))
    respond(**card, replace_original=True)


def open_resolve_modal(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
) -> None:
    """Resolve on a review message: open the outcome modal, for admins, unless already resolved."""
    ack()

    def open_modal() -> None:
        user = body["user"]["id"]
        if not deps.is_admin(user, client):
            deps.record_admin_action(
                user_id=user, action="resolve review", target=action["value"], allowed=False
            )
            client.chat_postEphemeral(
                channel=body["channel"]["id"],
                user=user,
                text="Sorry, only compliance admins can resolve reviews.",
            )
            return
        review_id = int(action["value"])
        with session_scope(deps.engine) as session:
            review = session.get(ReviewRequest, review_id)
        if review is not None and review.status == "resolved":
            respond(
                **render_notice(
                    f"Review #{review_id} was already resolved by <@{review.resolved_by}>: "
                    f"*{escape(review.outcome)}*."
                ),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=resolve_modal(review_id))

    deps.later(open_modal, respond=respond)


def resolve(
    deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """The resolve modal's submission: record the outcome, then tell the channel and the asker."""
    user = body["user"]["id"]
    if deps.refuses_submission(
        ack,
        client,
        user=user,
        block="note_block",
        message="Only compliance admins can resolve reviews.",
        action="resolve review",
        target=str(view.get("private_metadata") or "")[:200] or None,
    ):
        return
    values = view["state"]["values"]
    outcome = values["outcome_block"]["outcome"]["selected_option"]["value"]
    note = (values["note_block"]["note"].get("value") or "").strip()
    review_id = json.loads(view["private_metadata"])["review"]
    with session_scope(deps.engine) as session:
        try:
            review = resolve_review(
                session=session,
                review_id=review_id,
                user=user,
                outcome=OUTCOMES.get(outcome, outcome),
                note=note,
                now=deps.clock(),
            )
        except BotError as exc:
            # A modal's error is plain text: no mention would render there.
            stale = session.get(ReviewRequest, review_id)
            if stale is not None and stale.status == "resolved":
                who = "you" if stale.resolved_by == user else "another admin"
                text = (
                    f"Review #{review_id} was already resolved by {who} "
                    f"({stale.outcome}); the review message shows it."
                )
            else:
                text = exc.message
            ack(response_action="errors", errors={"note_block": text})
            return
        session.commit()
    ack()

    def record_and_tell() -> None:
        deps.record_admin_action(
            user_id=user,
            action="resolve review",
            target=str(review_id),
            allowed=True,
            reason=note,
        )
        _tell_resolved(deps, client, review, user=user, note=note)

    deps.later(record_and_tell)


def list_my_reviews(deps: Deps, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """The App Home's Reviews: list the user's review requests in a modal."""
    ack()

    def open_list() -> None:
        with session_scope(deps.engine) as session:
            rows = list_reviews(session=session, user=body["user"]["id"])
        client.views_open(
            trigger_id=body["trigger_id"],
            view=info_modal("Review requests", render_reviews(rows)),
        )

    deps.later(open_list)


def _tell_resolved(
    deps: Deps, client: WebClient, review: ReviewRequest, *, user: str, note: str
) -> None:
    """Rewrite the review message as resolved, say so in its thread, and tell the asker."""
    answer = stored_answer(deps, review.decision_id)
    if review.channel and review.ts:
        try:
            client.chat_update(
                channel=review.channel,
                ts=review.ts,
                **render_review_request(review, answer, names=display_names(deps, answer)),
            )
            client.chat_postMessage(
                channel=review.channel,
                thread_ts=review.ts,
                text=f"{outcome_line(review)}\n{escape(note)}",
            )
        except Exception:
            # The resolution is committed; the asker must still hear about it.
            log.exception("could not update review message %s", review.id)
    thread = _thread_link(client, review)
    client.chat_postMessage(
        channel=review.requested_by,
        text=f"Compliance resolved your review request #{review.id}: {review.outcome}. "
        f"{escape(note)}",
        **{
            "blocks": render_notice(
                f"<@{user}> resolved your review request #{review.id} "
                f"(_{escape(answer['question'])}_): *{escape(review.outcome)}*\n{escape(note)}"
                + (f"\nSee the {thread}." if thread else "")
            )["blocks"]
        },
    )


def register(app: App, deps: Deps) -> None:
    """Register Request review, Resolve and its modal, and the App Home's review list."""
    app.action("request_review")(bind(ask_for_review, deps))
    app.action("resolve_review")(bind(open_resolve_modal, deps))
    app.view("resolve_review")(bind(resolve, deps))
    app.action("home_reviews")(bind(list_my_reviews, deps))
