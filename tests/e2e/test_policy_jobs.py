"""Policy tracking through the real jobs: local HTTP sources, a real database, the fake Slack.

Time is passed in (`now`), never slept on; sources are served on 127.0.0.1 by pytest-httpserver.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import select
from werkzeug import Request, Response

from bot.app import create_client
from bot.domain.rules.files import parse_text
from bot.services.delivery import METADATA_EVENT
from bot.services.jobs import Jobs
from bot.services.rule_changes import import_parsed
from bot.settings import Settings
from handlers.render import digests
from storage.db import session_scope
from storage.policies import add_source, subscribe
from storage.rules import load_table
from storage.tables.tracking import Delivery, PolicySource, Subscription
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
ADMIN = "UADMIN"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def jobs(engine: Engine, slack: FakeSlack) -> Jobs:
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        CLEARANCE_SLACK_API_URL=slack.base_url,
        CLEARANCE_ADMINS=ADMIN,
        CLEARANCE_FETCH_TIMEOUT_S=1.0,
        CLEARANCE_FETCH_MAX_BYTES=200_000,
    )
    return Jobs(engine, settings, client=create_client(settings), lease_s=30, renderer=digests)


def _source(
    jobs: Jobs,
    url: str,
    *,
    kind: str = "webpage",
    name: str = "Test page",
    group: str | None = None,
    severity: str = "normal",
    tags: list[str] | None = None,
    now: datetime = T0,
) -> int:
    with session_scope(jobs.engine) as session:
        s = add_source(
            session=session,
            name=name,
            kind=kind,
            url=url,
            now=now,
            interval_s=3600,
            severity=severity,
            country_list_group=group,
            tags=tags or ["test"],
            ignore=[r"^Last updated"],
            known_groups=set(load_table(session=session).groups),
        )
        session.commit()
        assert s.id is not None
        return s.id


def _subscribe(
    jobs: Jobs, channel: str = "C1", schedule: str = "daily 09:00 Europe/Berlin", now: datetime = T0
) -> None:
    with session_scope(jobs.engine) as session:
        subscribe(
            session=session,
            channel=channel,
            source_ids=[],
            tags=[],
            schedule=schedule,
            user="U1",
            now=now,
        )
        session.commit()


def _page(body: str) -> str:
    return (
        f"<html><head><script>var x=1</script></head><body><nav>Menu</nav><main>"
        f"{body}<p>Last updated: {time.time()}</p></main><footer>(c)</footer></body></html>"
    )


def _posts(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and c.status == 200
    ]


def test_baseline_then_change_then_digest_then_nothing(
    jobs: Jobs, slack: FakeSlack, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/policy").respond_with_data(
        _page("<h1>Policy</h1><p>Rule one.</p>"), content_type="text/html"
    )
    sid = _source(jobs, httpserver.url_for("/policy"))
    _subscribe(jobs)
    assert jobs.poll(now=T0) == []  # the first fetch is the baseline
    httpserver.clear()
    httpserver.expect_request("/policy").respond_with_data(
        _page("<h1>Policy</h1><p>Rule one.</p><p>Rule two: Entity List additions.</p>"),
        content_type="text/html",
    )
    assert jobs.poll(now=T0 + timedelta(minutes=30)) == []  # not due yet
    (change,) = jobs.poll(now=T0 + timedelta(hours=1))
    assert change.source_id == sid and change.summary == "text changed: 1 lines added, 0 removed"
    assert change.severity == "high"  # "Entity List" is a high keyword
    assert "+Rule two: Entity List additions." in change.diff

    # Before the 09:00 Berlin slot (08:00 UTC in winter) nothing is due; the alert goes at once.
    before = jobs.run_cycle(now=datetime(2026, 11, 2, 7, 59, tzinfo=UTC))
    assert before["digests"] == 0 and before["alerts"] == 1
    (alert,) = _posts(slack, "C1")
    assert "Policy alert: Test page" in alert["text"]
    assert alert["metadata"]["event_type"] == METADATA_EVENT

    # A normal-severity change later goes into the digest; the alerted one is not repeated.
    httpserver.clear()
    httpserver.expect_request("/policy").respond_with_data(
        _page("<h1>Policy</h1><p>Rule one, amended.</p><p>Rule two: Entity List additions.</p>"),
        content_type="text/html",
    )
    (second,) = jobs.poll(now=T0 + timedelta(hours=1, minutes=30), ids=[sid], force=True)
    assert second.severity == "normal"
    result = jobs.run_cycle(now=datetime(2026, 11, 2, 8, 1, tzinfo=UTC))
    assert result["digests"] == 1
    digest = _posts(slack, "C1")[1]
    assert digest["text"].startswith("Policy digest: 1 change")
    assert "Rule one, amended." in json.dumps(digest) or any(
        "Rule one, amended." in json.dumps(p) for p in _posts(slack, "C1")[2:]
    )
    assert "Entity List" not in digest["text"]

    # Running again, and the next day with nothing new, posts nothing.
    count = len(slack.calls_to("chat.postMessage"))
    jobs.run_cycle(now=datetime(2026, 11, 2, 8, 2, tzinfo=UTC))
    jobs.run_cycle(now=datetime(2026, 11, 3, 8, 1, tzinfo=UTC))
    assert len(slack.calls_to("chat.postMessage")) == count


def test_conditional_get_304_is_not_a_change(jobs: Jobs, httpserver: HTTPServer) -> None:
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(_page("<p>Stable</p>"), headers={"ETag": '"v1"'}, content_type="text/html")

    httpserver.expect_request("/p").respond_with_handler(handler)
    sid = _source(jobs, httpserver.url_for("/p"))
    assert jobs.poll(now=T0) == []
    assert jobs.poll(now=T0 + timedelta(hours=1)) == []
    assert seen == [None, '"v1"']
    with session_scope(jobs.engine) as session:
        source = session.get(PolicySource, sid)
        assert source is not None and source.failures == 0 and source.last_success_at


@pytest.mark.parametrize("failure", ["500", "timeout", "huge", "bad_selector"])
def test_failures_back_off_and_alert_admins_once(
    jobs: Jobs, slack: FakeSlack, httpserver: HTTPServer, failure: str
) -> None:
    def handler(request: Request) -> Response:
        if failure == "500":
            return Response("boom", status=500)
        if failure == "timeout":
            time.sleep(1.5)  # longer than the 1 s fetch timeout
            return Response("late")
        if failure == "huge":
            return Response("x" * 300_000, content_type="text/html")
        return Response(_page("<p>no such element</p>"), content_type="text/html")

    httpserver.expect_request("/f").respond_with_handler(handler)
    sid = _source(jobs, httpserver.url_for("/f"))
    if failure == "bad_selector":
        with session_scope(jobs.engine) as session:
            source = session.get(PolicySource, sid)
            assert source is not None
            source.selector = "#missing"
            session.add(source)
            session.commit()
    now = T0
    gaps = []
    for _ in range(4):
        jobs.poll(now=now, ids=[sid], force=True)
        with session_scope(jobs.engine) as session:
            source = session.get(PolicySource, sid)
            assert source is not None
            gaps.append((source.next_poll_at.replace(tzinfo=UTC) - now).total_seconds())
            error = source.last_error
        now += timedelta(hours=2)
    expected = {
        "500": "HTTP 500",
        "timeout": "network error",
        "huge": "larger than",
        "bad_selector": "matches nothing",
    }[failure]
    assert error is not None and expected in error
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1]  # backs off
    jobs.deliver(now=now)
    dms = _posts(slack, ADMIN)
    assert len(dms) == 1 and "failed 3 times in a row" in dms[0]["text"]


FR_V1 = {
    "count": 1,
    "results": [
        {
            "document_number": "2025-19001",
            "title": "Expansion of End-User Controls To Cover "
            "Affiliates of Certain Listed Entities",
            "type": "Rule",
            "html_url": "https://www.federalregister.gov/d/2025-19001",
            "publication_date": "2025-09-30",
            "abstract": "BIS revises the Entity List rules.",
        }
    ],
}


def test_federal_register_new_document_alerts_each_channel_once(
    jobs: Jobs, slack: FakeSlack, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/documents.json").respond_with_json(FR_V1)
    _source(
        jobs, httpserver.url_for("/api/v1/documents.json"), kind="federal_register", name="FR BIS"
    )
    _subscribe(jobs, "C1")
    _subscribe(jobs, "C2", schedule="weekly MON 09:00 America/New_York")
    jobs.poll(now=T0)
    httpserver.clear()
    new_doc = {
        "document_number": "2026-22222",
        "title": "Additions to the Entity List",
        "type": "Rule",
        "html_url": "https://www.federalregister.gov/d/2026-22222",
        "publication_date": "2026-11-03",
        "abstract": "Adds entities.",
    }
    httpserver.expect_request("/api/v1/documents.json").respond_with_json(
        {"count": 2, "results": [new_doc, *FR_V1["results"]]}
    )
    (change,) = jobs.poll(now=T0 + timedelta(hours=1))
    assert change.summary == "1 new document: Additions to the Entity List"
    assert change.link == "https://www.federalregister.gov/d/2026-22222"
    assert change.severity == "high"
    for _ in range(2):
        jobs.run_cycle(now=T0 + timedelta(hours=1, minutes=1))
    assert len(_posts(slack, "C1")) == 1 and len(_posts(slack, "C2")) == 1


def test_feed_new_entries(jobs: Jobs, httpserver: HTTPServer) -> None:
    def feed(*titles: str) -> str:
        items = "".join(
            f"<item><title>{t}</title><link>https://x.test/{i}</link><guid>{t}</guid></item>"
            for i, t in enumerate(titles)
        )
        return (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>F</title>{items}"
            "</channel></rss>"
        )

    httpserver.expect_request("/rss").respond_with_data(feed("A"), content_type="text/xml")
    _source(jobs, httpserver.url_for("/rss"), kind="feed", name="Feed")
    jobs.poll(now=T0)
    httpserver.clear()
    httpserver.expect_request("/rss").respond_with_data(feed("B", "A"), content_type="text/xml")
    (change,) = jobs.poll(now=T0 + timedelta(hours=1))
    assert change.summary == "1 new entry: B"


CUSTOMERS = """version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - id: nimbus
    name: Nimbus Pte Ltd
    hq: SG
    owners: [{owner: dragon, share: 40}]
    uses: [{model: claude-sonnet-4-5, country: SG}]
"""


def _import(jobs: Jobs, text: str, now: datetime) -> int:
    with session_scope(jobs.engine) as session:
        rev = import_parsed(
            session=session,
            parsed=parse_text(text, "t.yaml"),
            replace=False,
            author="test",
            now=now,
        )
        session.commit()
        return rev.number


def test_revision_that_flips_a_usage_is_alerted_with_the_flip(jobs: Jobs, slack: FakeSlack) -> None:
    _import(jobs, CUSTOMERS, T0)
    _subscribe(jobs, "C1")
    assert jobs.record_revisions(now=T0) == []  # history before the first run is not news
    rev = _import(jobs, CUSTOMERS.replace("share: 40", "share: 60"), T0 + timedelta(hours=1))
    (change,) = jobs.record_revisions(now=T0 + timedelta(hours=1))
    assert change.revision == rev and change.severity == "high"
    assert change.details["flip_texts"] == [
        "Nimbus Pte Ltd: claude-sonnet-4-5 in SG goes from allowed to denied on 2026-11-02"
    ]
    assert jobs.record_revisions(now=T0 + timedelta(hours=2)) == []
    jobs.run_cycle(now=T0 + timedelta(hours=2))
    (alert,) = _posts(slack, "C1")
    assert "goes from allowed to denied" in json.dumps(alert)


def test_rule_coming_into_force_on_a_date_flips_usage(jobs: Jobs, slack: FakeSlack) -> None:
    _import(
        jobs,
        CUSTOMERS
        + """rules:
  - id: reimposed
    effect: deny
    title: Reimposed on 2026-11-10
    models: {vendors: [anthropic]}
    customer: {hq_in: [SG]}
    effective_from: 2026-11-10
    citation: test
    url: https://example.test/rule
""",
        T0,
    )
    _subscribe(jobs, "C1")
    jobs.record_revisions(now=T0)
    assert jobs.record_rule_dates(now=datetime(2026, 11, 9, 0, 5, tzinfo=UTC)) == []
    (change,) = jobs.record_rule_dates(now=datetime(2026, 11, 10, 0, 5, tzinfo=UTC))
    assert change.details["flip_texts"] == [
        "Nimbus Pte Ltd: claude-sonnet-4-5 in SG goes from allowed to denied on 2026-11-10"
    ]
    assert jobs.record_rule_dates(now=datetime(2026, 11, 10, 6, 0, tzinfo=UTC)) == []
    jobs.run_cycle(now=datetime(2026, 11, 10, 6, 0, tzinfo=UTC))
    assert len(_posts(slack, "C1")) == 1


def test_country_list_change_and_update_group(
    jobs: Jobs, slack: FakeSlack, httpserver: HTTPServer
) -> None:
    from handlers.deps import Deps
    from handlers.policy import update_group

    _import(
        jobs,
        "version: 1\ngroups:\n  - {id: g-vendor, name: Vendor regions, members: [DE, FR, VA]}\n",
        T0,
    )
    page = "<ul><li>Germany</li><li>France</li><li>Holy See</li></ul>"
    httpserver.expect_request("/regions").respond_with_data(_page(page), content_type="text/html")
    sid = _source(jobs, httpserver.url_for("/regions"), group="g-vendor", name="Vendor regions")
    jobs.poll(now=T0)
    httpserver.clear()
    httpserver.expect_request("/regions").respond_with_data(
        _page("<ul><li>Germany</li><li>France</li><li>Ethiopia</li></ul>"), content_type="text/html"
    )
    (change,) = jobs.poll(now=T0 + timedelta(hours=1), ids=[sid], force=True)
    assert change.summary == "added Ethiopia (ET); removed Holy See (Vatican City State) (VA)"
    assert (change.details["added"], change.details["removed"]) == (["ET"], ["VA"])
    _subscribe(jobs, "C1", now=T0)
    jobs.queue_digests(now=datetime(2026, 11, 2, 8, 0, tzinfo=UTC), force=True)
    jobs.deliver(now=datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
    digest = json.dumps(_posts(slack, "C1"))
    assert '"action_id": "update_group"' in digest

    deps = Deps(
        settings=jobs.settings,
        engine=jobs.engine,
        cache=jobs.cache,  # type: ignore[arg-type]
        clock=lambda: T0 + timedelta(hours=2),
    )
    text = update_group(deps, change_id=change.id or 0, user=ADMIN)
    assert "added ET; removed VA" in text
    with session_scope(jobs.engine) as session:
        assert set(load_table(session=session).groups["g-vendor"].members) == {"DE", "FR", "ET"}
    with pytest.raises(Exception, match="already reflects"):
        update_group(deps, change_id=change.id or 0, user=ADMIN)


def _queue_alert(jobs: Jobs, channel: str = "C1") -> int:
    _subscribe(jobs, channel)
    _import(jobs, CUSTOMERS, T0)
    jobs.record_revisions(now=T0)
    _import(jobs, CUSTOMERS.replace("share: 40", "share: 60"), T0 + timedelta(minutes=1))
    jobs.record_revisions(now=T0 + timedelta(minutes=1))
    return jobs.queue_alerts(now=T0 + timedelta(minutes=1))


def test_a_429_is_retried_honouring_retry_after(jobs: Jobs, slack: FakeSlack) -> None:
    assert _queue_alert(jobs) == 1
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    started = time.monotonic()
    assert jobs.deliver(now=T0 + timedelta(minutes=2)) == {"sent": 1}
    assert time.monotonic() - started >= 2
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 200]


def test_5xx_beyond_the_client_retries_is_retried_later_and_posted_once(
    jobs: Jobs, slack: FakeSlack
) -> None:
    assert _queue_alert(jobs) == 1
    slack.fail_next("chat.postMessage", status=500, times=4)  # the client retries 3 times
    now = T0 + timedelta(minutes=2)
    assert jobs.deliver(now=now) == {"retry": 1}
    assert jobs.deliver(now=now + timedelta(seconds=5)) == {}  # backing off
    # The failed attempt counts, so the next one looks in the channel first: nothing is there.
    assert jobs.deliver(now=now + timedelta(minutes=5)) == {"sent": 1}
    assert len(_posts(slack, "C1")) == 1
    assert slack.calls_to("conversations.history")


def test_not_in_channel_pauses_the_subscription_and_tells_admins(
    jobs: Jobs, slack: FakeSlack
) -> None:
    assert _queue_alert(jobs, "CPRIVATE") == 1
    slack.error_next("chat.postMessage", error="not_in_channel")
    now = T0 + timedelta(minutes=2)
    assert jobs.deliver(now=now) == {"paused": 1}
    with session_scope(jobs.engine) as session:
        sub = session.exec(select(Subscription).where(Subscription.channel == "CPRIVATE")).one()
        assert sub.paused and sub.paused_reason == "not_in_channel"
        delivery = session.exec(select(Delivery).where(Delivery.kind == "alert")).one()
        assert delivery.status == "paused"
    jobs.deliver(now=now)
    (dm,) = _posts(slack, ADMIN)
    assert "/invite @Clearance" in dm["text"] and "<#CPRIVATE>" in dm["text"]
    assert jobs.queue_digests(now=now + timedelta(days=1)) == 0  # paused: nothing queued


@pytest.mark.parametrize(
    ("schedule", "times", "due"),
    [
        # Europe/Berlin: CET (UTC+1) until 2026-03-29, then CEST (UTC+2).
        (
            "daily 09:00 Europe/Berlin",
            ["2026-03-28T07:59", "2026-03-28T08:00", "2026-03-29T06:59", "2026-03-29T07:00"],
            [False, True, False, True],
        ),
        # America/New_York: EDT (UTC-4) until 2026-11-01, then EST (UTC-5).
        (
            "weekly MON 09:00 America/New_York",
            ["2026-10-26T12:59", "2026-10-26T13:00", "2026-11-02T13:59", "2026-11-02T14:00"],
            [False, True, False, True],
        ),
    ],
)
def test_digest_schedule_in_local_time_across_dst(
    jobs: Jobs, slack: FakeSlack, schedule: str, times: list[str], due: list[bool]
) -> None:
    start = datetime.fromisoformat(times[0]).replace(tzinfo=UTC) - timedelta(hours=1)
    _subscribe(jobs, "C1", schedule=schedule, now=start)
    outcomes = []
    for stamp in times:
        now = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        with session_scope(jobs.engine) as session:  # something new before every slot
            from storage.tables.tracking import PolicyChange

            session.add(
                PolicyChange(
                    dedupe_key=f"t:{stamp}",
                    detected_at=now - timedelta(minutes=1),
                    summary=f"change at {stamp}",
                )
            )
            session.commit()
        outcomes.append(jobs.queue_digests(now=now) == 1)
    assert outcomes == due


def test_a_change_committed_late_by_another_replica_is_in_the_next_digest(
    jobs: Jobs, slack: FakeSlack
) -> None:
    from storage.tables.tracking import PolicyChange

    _subscribe(jobs, "C1", schedule="daily 09:00 UTC", now=T0)
    first_slot = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with session_scope(jobs.engine) as session:
        session.add(
            PolicyChange(
                dedupe_key="early",
                detected_at=first_slot - timedelta(hours=1),
                summary="early change",
            )
        )
        session.commit()
    assert jobs.queue_digests(now=first_slot) == 1
    # Another replica stamped this change before the digest time but committed it after.
    with session_scope(jobs.engine) as session:
        session.add(
            PolicyChange(
                dedupe_key="late",
                detected_at=first_slot - timedelta(seconds=1),
                summary="late change",
            )
        )
        session.commit()
    assert jobs.queue_digests(now=first_slot + timedelta(days=1)) == 1
    jobs.deliver(now=first_slot + timedelta(days=1))
    texts = [json.dumps(p) for p in _posts(slack, "C1")]
    assert sum("early change" in t for t in texts) == 1
    assert sum("late change" in t for t in texts) == 1
