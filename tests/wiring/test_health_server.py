"""Socket Mode's health server answers /healthz only: Slack requests never come that way."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from bot.pages import create_wsgi, metrics_guard
from bot.settings import Settings


def call(wsgi: Any, method: str, path: str, body: bytes = b"") -> tuple[str, dict[str, Any]]:
    seen: dict[str, str] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(wsgi(environ, start))
    return seen["status"], json.loads(out)


def test_only_health_is_served(engine: Engine) -> None:
    wsgi = create_wsgi(None, engine, max_body=1000, mode="socket")  # type: ignore[arg-type]
    status, health = call(wsgi, "GET", "/healthz")
    assert status == "200 OK" and health["ok"] and health["mode"] == "socket"
    unsigned = (
        b"command=%2Fclearance&text=help&user_id=U1&response_url=http%3A%2F%2F127.0.0.1%3A9%2F"
    )
    assert call(wsgi, "POST", "/slack/events", unsigned)[0] == "404 Not Found"


@pytest.mark.parametrize("value", ["127.0.0.1", "127.0.0.1, 10.1.0.0/16", "::1", ""])
def test_allowed_fetch_addresses_are_networks(value: str) -> None:
    Settings(CLEARANCE_FETCH_ALLOWED_ADDRESSES=value).fetch_allowed_networks()


@pytest.mark.parametrize("value", ["localhost", "10.0.0.0/33", "*"])
def test_a_bad_allowed_fetch_address_stops_start_up(value: str) -> None:
    with pytest.raises(ValidationError, match="CLEARANCE_FETCH_ALLOWED_ADDRESSES"):
        Settings(CLEARANCE_FETCH_ALLOWED_ADDRESSES=value)


def _scrape(wsgi: Any, peer: str, **headers: str) -> str:
    seen: dict[str, str] = {}

    def start(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/metrics",
        "REMOTE_ADDR": peer,
        "wsgi.input": io.BytesIO(),
        **{"HTTP_" + k.upper(): v for k, v in headers.items()},
    }
    b"".join(wsgi(environ, start))
    return seen["status"]


@pytest.mark.parametrize(
    ("token", "peer", "headers", "status"),
    [
        (None, "127.0.0.1", {}, "200 OK"),
        (None, "::1", {}, "200 OK"),
        (None, "10.0.0.5", {}, "403 Forbidden"),
        (None, "127.0.0.1", {"x_forwarded_for": "203.0.113.9"}, "403 Forbidden"),
        ("s3cret-metrics", "10.0.0.5", {"authorization": "Bearer s3cret-metrics"}, "200 OK"),
        ("s3cret-metrics", "127.0.0.1", {}, "401 Unauthorized"),
        ("s3cret-metrics", "10.0.0.5", {"authorization": "Bearer wrong"}, "401 Unauthorized"),
        (
            "s3cret-metrics",
            "10.0.0.5",
            {"authorization": "Basic s3cret-metrics"},
            "401 Unauthorized",
        ),
    ],
)
def test_socket_mode_metrics_need_a_token_or_a_local_client(
    engine: Engine, token: str | None, peer: str, headers: dict[str, str], status: str
) -> None:
    settings = Settings(CLEARANCE_METRICS_TOKEN=token) if token else Settings()
    wsgi = create_wsgi(
        None,  # type: ignore[arg-type]
        engine,
        max_body=1000,
        mode="socket",
        guard=metrics_guard(settings),
    )
    assert _scrape(wsgi, peer, **headers) == status
