"""Reminders for open review requests: once per period, in the request's thread, across replicas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.services.review_reminders import ReviewReminders
from storage.db import session_scope
from storage.decisions import DecisionInsert
from storage.tables.reviews import ReviewRequest
from tests.support.slack_fake import FakeSlack

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _review(engine: Engine, *, status: str = "open", ts: str | None = "1.2") -> int:
    decision_id = f"d{status}{ts}"
    with engine.begin() as conn:  # the audit log is written through its hash chain
        DecisionInsert.of(engine).execute(
            conn,
            [
                {
                    "id": decision_id,
                    "created_at": T0,
                    "actor": "U1",
                    "question": "q",
                    "customer_id": None,
                    "customer_name": None,
                    "country": "SG",
                    "model": None,
                    "access": "api",
                    "as_of": "2026-12-01",
                    "verdict": "denied",
                    "rule_ids": [],
                    "inputs": {},
                    "revision": 1,
                    "answer": None,
                    "team_id": None,
                    "enterprise_id": None,
                }
            ],
        )
    with session_scope(engine) as session:
        review = ReviewRequest(
            decision_id=decision_id,
            requested_by="U1",
            requested_at=T0,
            channel="CREVIEW",
            ts=ts,
            status=status,
        )
        session.add(review)
        session.commit()
        assert review.id is not None
        return review.id


def test_stale_requests_are_reminded_once_per_period(engine: Engine, slack: FakeSlack) -> None:
    review_id = _review(engine)
    _review(engine, status="resolved", ts="1.3")
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    replicas = [ReviewReminders(engine, client, timedelta(hours=24)) for _ in range(2)]

    assert [r.run(now=T0 + timedelta(hours=23)) for r in replicas] == [0, 0]  # not stale yet
    assert [r.run(now=T0 + timedelta(hours=25)) for r in replicas] == [1, 0]  # once, not twice
    (post,) = slack.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == "1.2" and post.args["channel"] == "CREVIEW"
    assert f"Review #{review_id} has been open for 25 hours" in post.args["text"]
    assert replicas[1].run(now=T0 + timedelta(hours=30)) == 0  # reminded 5 hours ago
    assert replicas[1].run(now=T0 + timedelta(hours=50)) == 1  # another day later
