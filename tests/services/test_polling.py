"""Polling hostile sources: each on its own, and every unreadable body a counted failure."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.services.jobs import Jobs
from bot.services.polling import SourcePoller
from bot.settings import Settings
from handlers.render import digests
from storage.db import session_scope
from storage.policies import add_source
from storage.tables.tracking import PolicySource
from tests.support.hostile_sources import HostileServer, answer, trickle

pytestmark = pytest.mark.storage
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
PAGE = b"<html><body><main><p>Policy</p></main></body></html>"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def _jobs(engine: Engine, timeout_s: float = 2.0) -> Jobs:
    settings = Settings(
        CLEARANCE_FETCH_TIMEOUT_S=timeout_s, CLEARANCE_FETCH_ALLOWED_ADDRESSES="127.0.0.1"
    )
    return Jobs(engine, settings, renderer=digests)


def _source(engine: Engine, url: str, name: str, kind: str = "webpage") -> int:
    with session_scope(engine) as session:
        source = add_source(
            session=session,
            name=name,
            kind=kind,
            url=url,
            now=T0,
            selector="a" if kind == "json" else None,
            interval_s=3600,
        )
        session.commit()
        assert source.id is not None
        return source.id


def _row(engine: Engine, source_id: int) -> PolicySource:
    with session_scope(engine) as session:
        row = session.get(PolicySource, source_id)
        assert row is not None
        session.expunge(row)
        return row


def _wait(predicate: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def test_a_stuck_source_never_delays_another(engine: Engine, hostile: HostileServer) -> None:
    hostile.routes["/slow"] = trickle(every_s=0.2, stop=hostile.stop)
    hostile.routes["/fast"] = answer("200 OK", PAGE)
    slow = _source(engine, hostile.url("/slow"), "Slow loris")
    fast = _source(engine, hostile.url("/fast"), "Fast page")
    poller = SourcePoller(_jobs(engine, timeout_s=2.0), threads=4)
    try:
        assert sorted(poller.tick(now=T0)) == sorted([slow, fast])
        took = _wait(lambda: _row(engine, fast).last_success_at is not None, timeout=1.5)
        assert took < 1.0 and slow in poller.busy()
        assert poller.tick(now=T0) == []  # neither is polled twice at once
        _wait(lambda: _row(engine, slow).failures == 1, timeout=4)
        assert "within 2 s" in (_row(engine, slow).last_error or "")
        assert _row(engine, fast).failures == 0
    finally:
        poller.shutdown()


def test_nested_json_is_a_counted_failure(engine: Engine, hostile: HostileServer) -> None:
    hostile.routes["/deep"] = answer("200 OK", b"[" * 100_000, {"Content-Type": "application/json"})
    sid = _source(engine, hostile.url("/deep"), "Deep JSON", kind="json")
    assert _jobs(engine).poll(now=T0, ids=[sid], force=True) == []
    row = _row(engine, sid)
    assert row.failures == 1 and (row.last_error or "").startswith("not JSON")


def test_a_deep_page_is_a_counted_failure(engine: Engine, hostile: HostileServer) -> None:
    hostile.routes["/deep"] = answer("200 OK", b"<div>" * 900_000)
    sid = _source(engine, hostile.url("/deep"), "Deep page")
    started = time.monotonic()
    _jobs(engine, timeout_s=5).poll(now=T0, ids=[sid], force=True)
    assert time.monotonic() - started < 5
    assert "more than 512 deep" in (_row(engine, sid).last_error or "")


def test_a_source_on_this_machine_is_refused_without_the_allow_list(
    engine: Engine, hostile: HostileServer
) -> None:
    hostile.routes["/p"] = answer("200 OK", PAGE)
    sid = _source(engine, hostile.url("/p"), "Local")
    jobs = Jobs(engine, Settings(CLEARANCE_FETCH_ALLOWED_ADDRESSES=""), renderer=digests)
    jobs.poll(now=T0, ids=[sid], force=True)
    assert "loopback" in (_row(engine, sid).last_error or "") and hostile.requests == []
