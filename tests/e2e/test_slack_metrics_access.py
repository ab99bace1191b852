"""Who may read GET /metrics on the running server: a bearer token, else this machine only."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
TOKEN = "metrics-token-0123456789abcdef"


def scrape(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(f"{url}/metrics", headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_without_a_token_only_local_unproxied_clients_read_metrics(
    db_url: str, tmp_path: Path
) -> None:
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path) as server:
        status, body, _h = scrape(server.url)
        assert status == 200 and "clearance_outbox_depth" in body
        # Through a reverse proxy on this machine the peer is local, but the client is not.
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            status, body, _h = scrape(server.url, **{header: "203.0.113.9"})
            assert status == 403 and "clearance_" not in body, header


def test_with_a_token_metrics_need_it(db_url: str, tmp_path: Path) -> None:
    with (
        FakeSlack() as slack,
        running_server(db_url, slack, tmp_path, CLEARANCE_METRICS_TOKEN=TOKEN) as server,
    ):
        status, body, headers = scrape(server.url)
        assert status == 401 and "clearance_" not in body
        assert headers.get("www-authenticate", "").startswith("Bearer")
        assert scrape(server.url, Authorization="Bearer wrong-token")[0] == 401
        status, body, _h = scrape(server.url, Authorization=f"Bearer {TOKEN}")
        assert status == 200 and "clearance_outbox_depth" in body
        assert TOKEN not in server.log.read_text()
