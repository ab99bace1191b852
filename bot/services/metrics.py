"""Prometheus metrics for `GET /metrics`: questions, ack latency, Slack calls, polls, outbox,
screening hits; and who may read them.

`clearance serve` runs several worker processes, so counters are kept in prometheus-client's
multiprocess mode (`bot.services.metrics_dir`, set up before this module is imported): every
worker writes into one directory, which the scrape sums up.
What the database knows (poll results by source, outbox depth) is read at scrape time, so
every worker reports the same figures.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.services.metrics_dir import ENV
from storage.db import session_scope
from storage.policies import polled_sources
from storage.tables.tracking import Delivery

QUESTIONS = Counter("clearance_questions", "Questions answered, by verdict", ["verdict"])
ACK_SECONDS = Histogram(
    "clearance_ack_seconds",
    "Time from a Slack request's arrival to its ack, by kind of request",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
SLACK_CALLS = Counter("clearance_slack_api_calls", "Slack Web API calls, by method", ["method"])
SLACK_RATE_LIMITED = Counter(
    "clearance_slack_api_rate_limited", "Slack Web API answers with HTTP 429, by method", ["method"]
)
SCREENING_HITS = Counter(
    "clearance_screening_hits",
    "Restricted-party list hits found screening an answer's customer and its owners, "
    "by list and strength",
    ["list", "strength"],
)
# Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever its peer.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

# Each label's child, looked up once: `labels()` takes a lock and builds a key every time.
_QUESTION_CHILDREN: dict[str, Any] = {}
_ACK_CHILDREN: dict[str, Any] = {}


def count_question(verdict: str) -> None:
    """Count one answered question."""
    child = _QUESTION_CHILDREN.get(verdict)
    if child is None:
        child = _QUESTION_CHILDREN[verdict] = QUESTIONS.labels(verdict=verdict)
    child.inc()


def observe_ack(kind: str, seconds: float) -> None:
    """Record how long one request took to its ack."""
    child = _ACK_CHILDREN.get(kind)
    if child is None:
        child = _ACK_CHILDREN[kind] = ACK_SECONDS.labels(kind=kind)
    child.observe(seconds)


def count_screening_hits(hits: Iterable[tuple[str, str]]) -> None:
    """Count the (list, strength) of each hit one screening found."""
    for list_id, strength in hits:
        SCREENING_HITS.labels(list=list_id, strength=strength).inc()


def scrape_refusal(
    token: str | None, peer: str | None, headers: Mapping[str, str]
) -> tuple[int, str] | None:
    """Return why a GET /metrics is refused (status, reason), or None when it may be read.

    With a token set, the request must carry `Authorization: Bearer <token>`. Without one, only
    a client on this machine may read it, and not through a proxy (whose own address may be
    local too).
    """
    if token:
        sent = headers.get("authorization", "")
        scheme, _, given = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return None
        return 401, "a bearer token is required (CLEARANCE_METRICS_TOKEN)"
    try:
        local = peer is not None and ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    if local and not any(headers.get(h) for h in PROXY_HEADERS):
        return None
    return 403, "metrics are served to this machine only; set CLEARANCE_METRICS_TOKEN"


class CountingClient(WebClient):
    """A WebClient that counts its calls, and the calls Slack answered with HTTP 429."""

    def api_call(self, api_method: str, *args: Any, **kwargs: Any) -> Any:
        """Count the call, then make it (retries of a 429 are counted by `CountingRateLimit`)."""
        SLACK_CALLS.labels(method=api_method).inc()
        try:
            return super().api_call(api_method, *args, **kwargs)
        except SlackApiError as exc:
            if getattr(exc.response, "status_code", None) == 429:  # retries used up
                SLACK_RATE_LIMITED.labels(method=api_method).inc()
            raise


class CountingRateLimit(RateLimitErrorRetryHandler):
    """Retry 429s as slack_sdk does (Retry-After), counting each one."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        limited = super()._can_retry(state=state, request=request, response=response, error=error)
        if limited:
            method = request.url.rstrip("/").rsplit("/", 1)[-1]
            SLACK_RATE_LIMITED.labels(method=method).inc()
        return limited


class DatabaseCollector(Collector):
    """Figures read from the database at each scrape: poll results by source, outbox depth."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges; none when the database cannot be read (the scrape still works)."""
        try:
            with session_scope(self.engine) as session:
                sources = polled_sources(session=session)
                depth = session.exec(
                    select(Delivery.status, func.count())
                    .where(col(Delivery.status) == "pending")
                    .group_by(Delivery.status)
                ).all()
        except Exception:
            return
        failures = GaugeMetricFamily(
            "clearance_source_failures",
            "Consecutive failed polls of each tracked source (0: the last poll worked)",
            labels=["source"],
        )
        success = GaugeMetricFamily(
            "clearance_source_last_success_timestamp_seconds",
            "When each tracked source was last polled successfully",
            labels=["source"],
        )
        for s in sources:
            failures.add_metric([s.name], s.failures)
            if s.last_success_at is not None:
                success.add_metric([s.name], s.last_success_at.timestamp())
        yield failures
        yield success
        outbox = GaugeMetricFamily(
            "clearance_outbox_depth", "Slack messages waiting in the outbox to be posted"
        )
        outbox.add_metric([], sum(n for _status, n in depth))
        yield outbox


class _ThisProcess(Collector):
    """This process's own metrics (one process: Socket Mode, tests)."""

    def collect(self) -> Iterator[Metric]:
        """Yield the counters and histograms of the default registry."""
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def metrics_app(engine: Engine) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Return the WSGI app for GET /metrics: every worker's counters plus the database gauges."""
    registry = CollectorRegistry()
    if os.environ.get(ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(engine))
    app: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]] = make_wsgi_app(registry)
    return app
