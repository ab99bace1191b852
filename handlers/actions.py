"""Buttons and the review flow: share, request review, show rules, candidates, resolve."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from handlers.deps import Deps, answer_payload, guarded
from handlers.render.blocks import (
    Payload,
    escape,
    render_answer,
    render_notice,
    render_rules_detail,
)
from handlers.render.views import (
    OUTCOMES,
    info_modal,
    render_review_request,
    render_reviews,
    resolve_modal,
)
from storage.db import session_scope
from storage.models import Decision, ReviewRequest
from storage.reviews import create_review, list_reviews, resolve_review

log = logging.getLogger("clearance.actions")


def _answer_of(deps: Deps, decision_id: str) -> dict[str, Any]:
    with session_scope(deps.engine) as session:
        row = session.get(Decision, decision_id)
    if row is None or row.answer is None:
        raise BotError("That answer is no longer available; please ask again.")
    return row.answer


def _substitute(question: str, phrase: str | None, value: str) -> str:
    """Put the picked candidate in place of the phrase that could not be resolved."""
    if phrase and phrase.lower() in question.lower():
        start = question.lower().rindex(phrase.lower())
        return question[:start] + value + question[start + len(phrase) :]
    return question


def register(app: App, deps: Deps) -> None:
    """Register the button and modal listeners."""

    @app.action("share_answer")
    def handle_share(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()

        def share() -> None:
            try:
                card = render_answer(
                    _answer_of(deps, action["value"]), buttons=False, shared_by=body["user"]["id"]
                )
            except BotError as exc:
                respond(
                    **render_notice(escape(exc.message)),
                    response_type="ephemeral",
                    replace_original=False,
                )
                return
            respond(**card, response_type="in_channel", replace_original=False)

        deps.later(share, respond=respond)

    @app.action("show_rules")
    def handle_show_rules(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.later(
            lambda: respond(
                **guarded(lambda: render_rules_detail(_answer_of(deps, action["value"]))),
                response_type="ephemeral",
                replace_original=False,
            ),
            respond=respond,
        )

    @app.action(re.compile(r"^pick_candidate_\d+$"))
    def handle_pick(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        data = json.loads(action["value"])
        question = _substitute(data["q"], data.get("phrase"), data["value"])
        deps.later(
            lambda: respond(
                **guarded(lambda: answer_payload(deps, question, actor=body["user"]["id"])),
                response_type="ephemeral",
                replace_original=True,
            ),
            respond=respond,
        )

    @app.action("request_review")
    def handle_request_review(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        user = body["user"]["id"]
        channel = deps.settings.review_channel
        if not channel:
            deps.later(
                lambda: respond(
                    **render_notice(
                        "No review channel is configured (CLEARANCE_REVIEW_CHANNEL); "
                        "please ask a compliance admin directly."
                    ),
                    response_type="ephemeral",
                    replace_original=False,
                ),
                respond=respond,
            )
            return

        def send() -> Payload:
            answer = _answer_of(deps, action["value"])
            with session_scope(deps.engine) as session:
                review = create_review(
                    session=session, decision_id=action["value"], user=user, now=deps.clock()
                )
                session.commit()
            posted = client.chat_postMessage(
                channel=channel, **render_review_request(review, answer)
            )
            with session_scope(deps.engine) as session:
                review = session.get(ReviewRequest, review.id)  # type: ignore[assignment]
                review.channel, review.ts = posted["channel"], posted["ts"]
                session.add(review)
                session.commit()
            return render_notice(
                f"Sent to <#{channel}> for review (request #{review.id}). "
                "You'll get a message when compliance resolves it."
            )

        deps.later(
            lambda: respond(**guarded(send), response_type="ephemeral", replace_original=False),
            respond=respond,
        )

    @app.action("resolve_review")
    def handle_resolve_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
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
            client.views_open(
                trigger_id=body["trigger_id"], view=resolve_modal(int(action["value"]))
            )

        deps.later(open_modal, respond=respond)

    @app.view("resolve_review")
    def handle_resolve(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = body["user"]["id"]
        if not deps.is_admin(user, client):
            ack(
                response_action="errors",
                errors={"note_block": "Only compliance admins can resolve reviews."},
            )
            target = str(view.get("private_metadata") or "")[:200] or None
            deps.later(
                lambda: deps.record_admin_action(
                    user_id=user, action="resolve review", target=target, allowed=False
                )
            )
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
                ack(response_action="errors", errors={"note_block": exc.message})
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

    @app.action("home_help")
    def handle_home_help(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        from handlers.render.blocks import render_help

        deps.later(
            lambda: client.views_open(
                trigger_id=body["trigger_id"], view=info_modal("Clearance help", render_help())
            )
        )

    @app.action("home_reviews")
    def handle_home_reviews(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
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
    """Mark the review message resolved and tell the asker the outcome."""
    answer = _answer_of(deps, review.decision_id)
    if review.channel and review.ts:
        try:
            client.chat_update(
                channel=review.channel,
                ts=review.ts,
                **render_review_request(review, answer, resolved=True),
            )
        except Exception:
            # The resolution is committed; the asker must still hear about it.
            log.exception("could not update review message %s", review.id)
    client.chat_postMessage(
        channel=review.requested_by,
        text=f"Compliance resolved your review request #{review.id}: {review.outcome}. "
        f"{escape(note)}",
        **{
            "blocks": render_notice(
                f"<@{user}> resolved your review request #{review.id} "
                f"(_{escape(answer['question'])}_): *{escape(review.outcome)}*\n{escape(note)}"
            )["blocks"]
        },
    )
