"""Review requests: an asker asks compliance to look at an answer; an admin resolves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.errors import BotError, NotFound
from storage.models import ReviewRequest


def create_review(*, session: Session, decision_id: str, user: str, now: datetime) -> ReviewRequest:
    """Open a review request for a decision."""
    review = ReviewRequest(decision_id=decision_id, requested_by=user, requested_at=now)
    session.add(review)
    session.flush()
    return review


def resolve_review(
    *, session: Session, review_id: int, user: str, outcome: str, note: str, now: datetime
) -> ReviewRequest:
    """Resolve an open review request; refuse one that is already resolved."""
    review = session.get(ReviewRequest, review_id)
    if review is None:
        raise NotFound(f"No review request #{review_id}.")
    if review.status == "resolved":
        raise BotError(f"Review #{review_id} was already resolved by <@{review.resolved_by}>.")
    review.status, review.resolved_by, review.resolved_at = "resolved", user, now
    review.outcome, review.note = outcome, note
    session.add(review)
    session.flush()
    return review


def list_reviews(
    *, session: Session, user: str | None = None, limit: int = 20
) -> list[ReviewRequest]:
    """Return recent review requests, optionally one user's."""
    query = select(ReviewRequest).order_by(col(ReviewRequest.requested_at).desc()).limit(limit)
    if user:
        query = query.where(ReviewRequest.requested_by == user)
    return list(session.exec(query))


def count_open_reviews(*, session: Session, user: str) -> int:
    """Return how many review requests this user has open."""
    query = (
        select(func.count())
        .select_from(ReviewRequest)
        .where(ReviewRequest.requested_by == user, ReviewRequest.status == "open")
    )
    return int(session.exec(query).one())
