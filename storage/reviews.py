"""Review requests: an asker asks compliance to look at an answer; an admin resolves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from bot.domain.errors import BotError, NotFound
from storage.db import session_scope
from storage.tables.reviews import ReviewRequest
from storage.workspaces import NONE, Workspace


def open_review_of(*, session: Session, decision_id: str) -> ReviewRequest | None:
    """Return the open review request of a decision, if there is one."""
    query = select(ReviewRequest).where(
        ReviewRequest.decision_id == decision_id, ReviewRequest.status == "open"
    )
    return session.exec(query).first()


def create_review(
    *,
    session: Session,
    decision_id: str,
    user: str,
    now: datetime,
    workspace: Workspace = NONE,
) -> ReviewRequest:
    """Open a review request for a decision (the caller commits)."""
    review = ReviewRequest(
        decision_id=decision_id, requested_by=user, requested_at=now, **workspace.columns()
    )
    session.add(review)
    session.flush()
    return review


def request_review(
    engine: Engine, *, decision_id: str, user: str, now: datetime, workspace: Workspace = NONE
) -> tuple[ReviewRequest, bool]:
    """Open a review request, or return the one already open; True when it is new.

    A unique index allows one open request per decision, so two clicks racing on two workers
    still make one: the loser's insert fails and it returns the winner's request.
    """
    with session_scope(engine) as session:
        existing = open_review_of(session=session, decision_id=decision_id)
        if existing is not None:
            return existing, False
        try:
            review = create_review(
                session=session, decision_id=decision_id, user=user, now=now, workspace=workspace
            )
            session.commit()
            return review, True
        except IntegrityError:
            session.rollback()
            existing = open_review_of(session=session, decision_id=decision_id)
            if existing is None:
                raise
            return existing, False


def resolve_review(
    *, session: Session, review_id: int, user: str, outcome: str, note: str, now: datetime
) -> ReviewRequest:
    """Resolve an open review request; refuse one that is already resolved."""
    review = session.get(ReviewRequest, review_id)
    if review is None:
        raise NotFound(f"No review request #{review_id}.")
    if review.status == "resolved":
        raise BotError(
            f"Review #{review_id} was already resolved by <@{review.resolved_by}>.", markup=True
        )
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


OVERRIDE_PREFIX = "Overridden: "


def override_verdict(review: ReviewRequest) -> str | None:
    """Return the verdict a resolved review set in place of the answer's, if it overrode it."""
    outcome = review.outcome or ""
    if review.status == "resolved" and outcome.startswith(OVERRIDE_PREFIX):
        return outcome[len(OVERRIDE_PREFIX) :]
    return None


def reviews_of(*, session: Session, decision_ids: list[str]) -> dict[str, list[ReviewRequest]]:
    """Return the review requests of each decision, oldest first (the decisions stay as written)."""
    out: dict[str, list[ReviewRequest]] = {}
    if not decision_ids:
        return out
    query = (
        select(ReviewRequest)
        .where(col(ReviewRequest.decision_id).in_(decision_ids))
        .order_by(col(ReviewRequest.id))
    )
    for review in session.exec(query):
        out.setdefault(review.decision_id, []).append(review)
    return out


def review_json(review: ReviewRequest) -> dict[str, object]:
    """Return a review request as JSON, for `clearance audit --json`."""
    return {
        "id": review.id,
        "status": review.status,
        "requested_by": review.requested_by,
        "requested_at": review.requested_at.isoformat(),
        "claimed_by": review.claimed_by,
        "resolved_by": review.resolved_by,
        "resolved_at": review.resolved_at.isoformat() if review.resolved_at else None,
        "outcome": review.outcome,
        "override": override_verdict(review),
        "note": review.note,
    }


def claim_review(
    engine: Engine, *, review_id: int, user: str, now: datetime
) -> tuple[ReviewRequest | None, bool]:
    """Claim an open, unclaimed review; True when this call claimed it.

    A compare-and-set update: of two admins clicking Claim at once, one gets it.
    """
    with session_scope(engine) as session:
        result = session.execute(
            update(ReviewRequest)
            .where(
                col(ReviewRequest.id) == review_id,
                col(ReviewRequest.status) == "open",
                col(ReviewRequest.claimed_by).is_(None),
            )
            .values(claimed_by=user, claimed_at=now)
        )
        session.commit()
        claimed = bool(getattr(result, "rowcount", 0))
        return session.get(ReviewRequest, review_id), claimed


def stale_reviews(*, session: Session, before: datetime) -> list[ReviewRequest]:
    """Return open reviews requested, and last reminded, before a time."""
    query = select(ReviewRequest).where(
        ReviewRequest.status == "open",
        col(ReviewRequest.requested_at) < before,
        or_(col(ReviewRequest.reminded_at).is_(None), col(ReviewRequest.reminded_at) < before),
    )
    return list(session.exec(query.order_by(col(ReviewRequest.id))))


def claim_reminder(engine: Engine, *, review_id: int, before: datetime, now: datetime) -> bool:
    """Mark a review reminded now; False if another replica reminded it since `before`."""
    with session_scope(engine) as session:
        result = session.execute(
            update(ReviewRequest)
            .where(
                col(ReviewRequest.id) == review_id,
                col(ReviewRequest.status) == "open",
                or_(
                    col(ReviewRequest.reminded_at).is_(None),
                    col(ReviewRequest.reminded_at) < before,
                ),
            )
            .values(reminded_at=now)
        )
        session.commit()
        return bool(getattr(result, "rowcount", 0))


def open_reviews_of_team(*, session: Session, team: str | None, limit: int) -> list[ReviewRequest]:
    """Return the oldest open review requests, of one workspace when `team` is given."""
    query = select(ReviewRequest).where(ReviewRequest.status == "open")
    if team is not None:
        query = query.where(ReviewRequest.team_id == team)
    return list(session.exec(query.order_by(col(ReviewRequest.requested_at)).limit(limit)))
