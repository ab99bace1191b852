"""Error pages never become changes; country lists read right (issue #13), through the real jobs.

Saved copies of real pages (tests/fixtures/policy_pages, see its README) are served on
127.0.0.1 with status 200; the jobs poll them against a real database with the default pack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import create_client
from bot.services.jobs import Jobs
from bot.settings import Settings
from handlers.render import digests
from storage.db import session_scope
from storage.tables.tracking import Delivery, PolicyChange, PolicySnapshot, PolicySource
from tests.e2e.test_policy_jobs import ADMIN, T0, _import, _source
from tests.support.slack_fake import FakeSlack


@pytest.fixture
def jobs(engine: Engine) -> Iterator[Jobs]:
    with FakeSlack() as slack:
        settings = Settings(
            SLACK_BOT_TOKEN="xoxb-test",
            CLEARANCE_SLACK_API_URL=slack.base_url,
            CLEARANCE_ADMINS=ADMIN,
            CLEARANCE_FETCH_TIMEOUT_S=1.0,
        )
        yield Jobs(engine, settings, client=create_client(settings), lease_s=30, renderer=digests)


pytestmark = pytest.mark.e2e
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "policy_pages"
CUSTOMER_IN_SG = """version: 1
customers:
  - {id: nimbus, name: Nimbus Pte Ltd, hq: SG, uses: [{model: claude-sonnet-4-5, country: SG}]}
"""


def serve(httpserver: HTTPServer, body: bytes, path: str = "/regions") -> None:
    httpserver.clear()
    httpserver.expect_request(path).respond_with_data(body, content_type="text/html")


def fixture(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def source_row(jobs: Jobs, sid: int) -> PolicySource:
    with session_scope(jobs.engine) as session:
        row = session.get(PolicySource, sid)
        assert row is not None
        return row


def poll(jobs: Jobs, sid: int, hours: int) -> list[PolicyChange]:
    return jobs.poll(now=T0 + timedelta(hours=hours), ids=[sid], force=True)


def anthropic_source(jobs: Jobs, httpserver: HTTPServer) -> int:
    serve(httpserver, fixture("anthropic-supported-regions.html"))
    sid = _source(
        jobs,
        httpserver.url_for("/regions"),
        group="g-anthropic-supported",
        name="Anthropic supported regions",
        severity="high",
    )
    assert jobs.poll(now=T0) == []  # the baseline
    return sid


def notices(jobs: Jobs) -> list[dict[str, Any]]:
    with session_scope(jobs.engine) as session:
        return [d.payload for d in session.exec(select(Delivery).where(Delivery.kind == "notice"))]


def test_challenge_and_empty_pages_are_failures_never_changes(
    jobs: Jobs, httpserver: HTTPServer
) -> None:
    sid = anthropic_source(jobs, httpserver)
    bad = ["cloudflare-challenge.html", "empty.html", "access-denied.html"]
    for hour, name in enumerate(bad, 1):
        serve(httpserver, fixture(name))
        assert poll(jobs, sid, hour) == []
        row = source_row(jobs, sid)
        assert row.failures == hour and (row.last_error or "").startswith("not a change:")
    # After repeated failures the admins hear, once.
    (notice,) = notices(jobs)
    assert "has failed 3 times in a row" in notice["text"] and "not a change" in notice["text"]
    # The page comes back: no "added 175", the baseline was never replaced.
    serve(httpserver, fixture("anthropic-supported-regions.html"))
    assert poll(jobs, sid, 10) == []
    assert source_row(jobs, sid).failures == 0
    with session_scope(jobs.engine) as session:
        assert len(list(session.exec(select(PolicySnapshot)))) == 1
        assert list(session.exec(select(PolicyChange))) == []


def test_a_list_losing_most_places_is_a_failure(jobs: Jobs, httpserver: HTTPServer) -> None:
    sid = anthropic_source(jobs, httpserver)
    page = fixture("anthropic-supported-regions.html").decode()
    for name in (
        "Germany",
        "France",
        "Japan",
        "Brazil",
        "India",
        "Canada",
        "Mexico",
        "Spain",
        "Italy",
        "Poland",
        "Kenya",
        "Chile",
        "Peru",
        "Egypt",
        "Oman",
        "Qatar",
        "Fiji",
        "Nepal",
        "Malta",
        "Togo",
    ):
        page = page.replace(f"<li>{name}</li>", "")
    serve(httpserver, page.encode())
    assert poll(jobs, sid, 1) == []
    assert "20 of 175 places removed at once" in (source_row(jobs, sid).last_error or "")


def test_a_webpage_that_empties_is_a_failure(jobs: Jobs, httpserver: HTTPServer) -> None:
    text = "".join(
        f"<p>Paragraph {i} of the policy, with enough words to count.</p>" for i in range(20)
    )
    serve(httpserver, f"<html><body><main>{text}</main></body></html>".encode(), "/p")
    sid = _source(jobs, httpserver.url_for("/p"))
    assert jobs.poll(now=T0) == []
    serve(httpserver, b"<html><body><main><p>.</p></main></body></html>", "/p")
    assert poll(jobs, sid, 1) == []
    assert "the text shrank" in (source_row(jobs, sid).last_error or "")


def test_ukraine_exclusion_change_is_high_and_says_excluded(
    jobs: Jobs, httpserver: HTTPServer
) -> None:
    sid = anthropic_source(jobs, httpserver)
    serve(httpserver, fixture("anthropic-supported-regions-ukraine-exclusions.html"))
    (change,) = poll(jobs, sid, 1)
    assert change.severity == "high"
    assert change.details["excluded"] == ["UA-23", "UA-65"]
    assert change.details["added"] == [] and change.details["removed"] == []
    assert change.summary.startswith("excluded ") and "added" not in change.summary


def test_noise_and_restructure_are_normal_at_most(jobs: Jobs, httpserver: HTTPServer) -> None:
    _import(jobs, CUSTOMER_IN_SG, T0)
    sid = anthropic_source(jobs, httpserver)
    for hour, name in enumerate(
        [
            "anthropic-supported-regions-cookie-banner.html",
            "anthropic-supported-regions-last-updated.html",
            "anthropic-supported-regions-table.html",
        ],
        1,
    ):
        serve(httpserver, fixture(name))
        for change in poll(jobs, sid, hour):
            assert change.severity == "normal", change.summary
            assert change.details["added"] == [] and change.details["removed"] == []
    assert source_row(jobs, sid).failures == 0


def test_federal_register_keeps_its_baseline_on_an_empty_answer(
    jobs: Jobs, httpserver: HTTPServer
) -> None:
    def body(*numbers: str) -> bytes:
        docs = [
            {
                "document_number": n,
                "title": f"Document {n}",
                "type": "Rule",
                "html_url": f"https://www.federalregister.gov/documents/2026/01/15/{n}/x",
                "publication_date": "2026-01-15",
            }
            for n in numbers
        ]
        return json.dumps({"count": len(docs), "results": docs}).encode()

    serve(httpserver, body("2026-00001", "2026-00002"), "/fr")
    sid = _source(jobs, httpserver.url_for("/fr"), kind="federal_register")
    assert jobs.poll(now=T0) == []
    serve(httpserver, b'{"count": 0, "description": "Documents"}', "/fr")
    assert poll(jobs, sid, 1) == []
    assert "an empty answer" in (source_row(jobs, sid).last_error or "")
    serve(httpserver, body("2026-00003", "2026-00001", "2026-00002"), "/fr")
    (change,) = poll(jobs, sid, 2)
    assert [i["id"] for i in change.details["items"]] == ["2026-00003"]
    # A document that dropped off the list and came back is not new a second time.
    serve(httpserver, body("2026-00003"), "/fr")
    assert poll(jobs, sid, 3) == []
    serve(httpserver, body("2026-00003", "2026-00001"), "/fr")
    assert poll(jobs, sid, 4) == []


def test_update_group_refuses_a_change_beyond_the_guard(jobs: Jobs, httpserver: HTTPServer) -> None:
    from bot.domain.errors import BotError
    from bot.services.group_updates import plan_group_update
    from storage.policies import insert_unique

    sid = anthropic_source(jobs, httpserver)
    # A change recorded before the guard existed: the error page's "removed 175".
    with session_scope(jobs.engine) as session:
        from storage.rules import load_table

        members = list(load_table(session=session).groups["g-anthropic-supported"].members)
    change = insert_unique(
        jobs.engine,
        PolicyChange(
            dedupe_key="legacy",
            source_id=sid,
            detected_at=T0,
            summary="removed everything",
            details={"added": [], "removed": members},
        ),
    )
    assert change is not None
    try:
        plan_group_update(jobs.engine, change.id, on=T0.date())
    except BotError as exc:
        assert "fails the shape guard, so it is not applied" in exc.message
    else:
        raise AssertionError("a change removing the whole group was planned")


def test_update_group_plan_shows_sizes_exclusions_and_impact(
    jobs: Jobs, httpserver: HTTPServer
) -> None:
    from bot.services.group_updates import plan_group_update

    _import(jobs, CUSTOMER_IN_SG, T0)
    sid = anthropic_source(jobs, httpserver)
    serve(httpserver, fixture("anthropic-supported-regions-ukraine-exclusions.html"))
    (change,) = poll(jobs, sid, 1)
    plan = plan_group_update(jobs.engine, change.id or 0, on=T0.date())
    assert plan.excluded == ["UA-23", "UA-65"] and not plan.added and not plan.removed
    assert plan.size_before == plan.size_after == 175
    assert plan.flips == [] and plan.holds == []  # nobody operates in Ukraine


def test_changes_show_prints_the_whole_diff(jobs: Jobs, httpserver: HTTPServer) -> None:
    import subprocess
    import sys

    def page(suffix: str) -> bytes:
        rows = "".join(f"<p>Paragraph {i}{suffix}</p>" for i in range(300))
        return f"<html><body><main>{rows}</main></body></html>".encode()

    serve(httpserver, page(""), "/long")
    sid = _source(jobs, httpserver.url_for("/long"))
    assert jobs.poll(now=T0) == []
    serve(httpserver, page(" amended"), "/long")
    (change,) = poll(jobs, sid, 1)
    assert "more diff lines" in change.diff  # Slack gets a bounded diff
    url = jobs.engine.url.render_as_string(hide_password=False)
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "--db", url, "changes", "show", str(change.id)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "+Paragraph 299 amended" in shown.stdout and "-Paragraph 0" in shown.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "--db", url, "changes", "show", "999"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0 and "No change #999" in missing.stdout + missing.stderr
