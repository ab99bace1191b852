"""A delivery Slack refuses for good is paused once, and tells the admins once, not forever."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.services.jobs import Jobs
from bot.settings import Settings
from handlers.render import digests
from storage.db import session_scope
from storage.tables.tracking import Delivery, Subscription
from tests.support.slack_fake import FakeSlack

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.mark.storage
def test_a_revoked_token_pauses_the_subscription_and_notices_do_not_multiply(
    engine: Engine, slack: FakeSlack
) -> None:
    client = WebClient(token="xoxb-revoked", base_url=slack.base_url, timeout=5)
    slack.revoke("xoxb-revoked")
    jobs = Jobs(engine, Settings(CLEARANCE_ADMINS="UADMIN"), client=client, renderer=digests)
    with session_scope(engine) as session:
        sub = Subscription(channel="C1", created_by="U1", created_at=T0)
        session.add(sub)
        session.flush()
        session.add(
            Delivery(
                dedupe_key="alert:1",
                channel="C1",
                subscription_id=sub.id,
                kind="alert",
                payload={"text": "t"},
                next_attempt_at=T0,
                created_at=T0,
            )
        )
        session.commit()
    for minute in range(4):
        jobs.deliver(now=T0 + timedelta(minutes=minute))
    with session_scope(engine) as session:
        rows = list(session.exec(select(Delivery)))
        paused = session.exec(select(Subscription)).one()
    assert paused.paused and paused.paused_reason == "token_revoked"
    assert sorted((d.kind, d.status) for d in rows) == [("alert", "paused"), ("notice", "paused")]
