"""Restricted-party lists polled through the real jobs: a local HTTP list source, a real database,
the fake Slack. A changed list re-screens registered customers and alerts the channel once; a
broken or shrinking download is a failed fetch and the stored version stays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from werkzeug import Response

from bot.app import create_client
from bot.domain.rules.files import parse_text
from bot.services.jobs import Jobs
from bot.services.rule_changes import import_parsed
from bot.settings import Settings
from handlers.render import digests
from storage.db import session_scope
from storage.list_entries import load_current
from storage.list_versions import history
from storage.policies import add_source, subscribe
from storage.tables.tracking import PolicySource
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"
CUSTOMERS = """version: 1
customers:
  - {id: nimbus, name: Nimbus Pte Ltd, hq: SG, uses: [{model: claude-sonnet-4-5, country: SG}]}
"""
NIMBUS_EL = {
    "id": "nimbus-el-illustrative",
    "source": "Entity List (EL) - Bureau of Industry and Security",
    "name": "Nimbus Technologies Pte. Ltd.",
    "addresses": [{"address": None, "city": "Singapore", "country": "SG"}],
    "federal_register_notice": "90 FR 1234",
    "start_date": "2026-12-01",
    "alt_names": [],
    "programs": [],
}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def jobs(engine: Engine, slack: FakeSlack) -> Jobs:
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        CLEARANCE_SLACK_API_URL=slack.base_url,
        CLEARANCE_ADMINS="UADMIN",
        CLEARANCE_FETCH_TIMEOUT_S=1.0,
        CLEARANCE_LIST_FETCH_TIMEOUT_S=5.0,
    )
    return Jobs(engine, settings, client=create_client(settings), lease_s=30, renderer=digests)


def _csl(extra: list[dict[str, Any]] | None = None, drop: int = 0) -> bytes:
    data = json.loads((FIXTURES / "consolidated.json").read_bytes())
    data["results"] = data["results"][drop:] + (extra or [])
    data["total"] = len(data["results"])
    return json.dumps(data).encode()


def _setup(jobs: Jobs, url: str) -> int:
    with session_scope(jobs.engine) as session:
        import_parsed(
            session=session,
            parsed=parse_text(CUSTOMERS, "c.yaml"),
            replace=False,
            author="t",
            now=T0,
        )
        source = add_source(
            session=session,
            name="US CSL",
            kind="csl",
            url=url,
            now=T0,
            interval_s=86400,
            tags=["screening"],
        )
        subscribe(
            session=session,
            channel="C1",
            source_ids=[],
            tags=[],
            schedule="daily 09:00 UTC",
            user="U1",
            now=T0,
        )
        session.commit()
        assert source.id is not None
        return source.id


def test_changed_list_rescreens_and_alerts_once(
    jobs: Jobs, slack: FakeSlack, httpserver: HTTPServer
) -> None:
    bodies = [_csl(), _csl([NIMBUS_EL])]
    httpserver.expect_request("/csl.json").respond_with_handler(
        lambda _req: Response(bodies[0] if len(bodies) == 2 else bodies[-1])
    )
    sid = _setup(jobs, httpserver.url_for("/csl.json"))
    assert jobs.poll(now=T0, ids=[sid], force=True) == []  # the first version is the baseline
    bodies.pop(0)
    [change] = jobs.poll(now=T0 + timedelta(days=1), ids=[sid], force=True)
    assert change.severity == "high"
    assert change.summary.startswith(
        "Nimbus Pte Ltd now possibly matches EL entry 'Nimbus Technologies Pte. Ltd.' (listed 2026-12-01, 90 FR 1234)"
    )
    assert "claude-sonnet-4-5 in SG goes from allowed to review" in change.summary
    assert [v.added for v in history(jobs.engine, f"source-{sid}")] == [1, 5]
    assert jobs.queue_alerts(now=T0 + timedelta(days=1)) == 1
    assert jobs.queue_alerts(now=T0 + timedelta(days=1)) == 0
    jobs.deliver(now=T0 + timedelta(days=1, minutes=1))
    posts = [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "C1" and c.status == 200
    ]
    assert len(posts) == 1
    assert "Nimbus Technologies Pte. Ltd." in json.dumps(posts[0])


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "empty"),
        (None, "not valid JSON"),  # truncated
        (_csl(drop=3), "remove 3 of 5"),  # shrinking by 60%
    ],
)
def test_broken_downloads_are_failed_fetches(
    jobs: Jobs, httpserver: HTTPServer, body: bytes | None, error: str
) -> None:
    good = _csl()
    served = [good, body if body is not None else good[: len(good) // 2]]
    httpserver.expect_request("/csl.json").respond_with_handler(lambda _req: Response(served[0]))
    sid = _setup(jobs, httpserver.url_for("/csl.json"))
    jobs.poll(now=T0, ids=[sid], force=True)
    served.pop(0)
    assert jobs.poll(now=T0 + timedelta(days=1), ids=[sid], force=True) == []
    with session_scope(jobs.engine) as session:
        source = session.get(PolicySource, sid)
        assert source is not None and source.failures == 1
        assert error in (source.last_error or "")
    [version] = history(jobs.engine, f"source-{sid}")
    assert version.entries == 5


def _sdn_source(jobs: Jobs, url: str) -> int:
    with session_scope(jobs.engine) as session:
        source = add_source(
            session=session,
            name="OFAC SDN list",
            kind="ofac_sdn",
            url=url,
            now=T0,
            interval_s=86400,
            tags=["screening"],
        )
        session.commit()
        assert source.id is not None
        return source.id


def test_sdn_source_fetches_its_alt_and_add_files(jobs: Jobs, httpserver: HTTPServer) -> None:
    files = {name: (FIXTURES / name.lower()).read_bytes() for name in ("SDN.CSV", "ALT.CSV")}
    files["ADD.CSV"] = (FIXTURES / "add.csv").read_bytes()
    status = {"ALT.CSV": 200}
    for name in files:
        httpserver.expect_request(f"/api/PublicationPreview/exports/{name}").respond_with_handler(
            lambda _req, name=name: Response(files[name], status=status.get(name, 200))
        )
    sid = _sdn_source(jobs, httpserver.url_for("/api/PublicationPreview/exports/SDN.CSV"))
    jobs.poll(now=T0, ids=[sid], force=True)
    [loaded] = load_current(jobs.engine)
    [entry] = [e for e in loaded.entries if e.entry_id == "11195"]
    assert "IRAN AIRCRAFT MANUFACTURING INDUSTRIES" in [a.name for a in entry.aliases]
    assert entry.addresses and entry.addresses[0].country == "IR"

    # The next day's SDN.CSV changes, but ALT.CSV fails, then comes back empty: failed fetches.
    files["SDN.CSV"] = files["SDN.CSV"].replace(b"AEROCARIBBEAN AIRLINES", b"AEROCARIBBEAN AIR")
    for day, (code, body, error) in enumerate(
        [
            (500, files["ALT.CSV"], "ALT.CSV: HTTP 500"),
            (200, b"", "ALT.CSV: the download is empty"),
        ],
        start=1,
    ):
        status["ALT.CSV"], alt = code, files["ALT.CSV"]
        files["ALT.CSV"] = body
        assert jobs.poll(now=T0 + timedelta(days=day), ids=[sid], force=True) == []
        files["ALT.CSV"] = alt
        with session_scope(jobs.engine) as session:
            source = session.get(PolicySource, sid)
            assert source is not None and source.failures == day
            assert error in (source.last_error or "")
        assert len(history(jobs.engine, f"source-{sid}")) == 1

    status["ALT.CSV"] = 200
    jobs.poll(now=T0 + timedelta(days=3), ids=[sid], force=True)
    assert [v.changed for v in history(jobs.engine, f"source-{sid}")] == [1, 0]  # newest first
