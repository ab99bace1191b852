"""Socket Mode's health server answers /healthz only: Slack requests never come that way."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from bot.server import create_wsgi
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
