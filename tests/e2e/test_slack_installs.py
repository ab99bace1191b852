"""Installs into many workspaces (issue 14, section 5): Bolt's OAuth flow against the fake Slack.

Two workspaces install the app through /slack/install and /slack/oauth_redirect; each one's
requests are answered with its own bot token, neither sees the other's audit log or answers,
and a rotating token is refreshed before it expires.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.render.colours import card_blocks
from tests.e2e.server import ADMIN, SECRET, Server, oauth_server
from tests.support.slack_signing import (
    block_action_payload,
    interactive_body,
    post,
    slash_command_body,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with oauth_server(db_url, tmp_path) as srv:
        yield srv


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as resp:
            return (
                resp.status,
                {k.lower(): v for k, v in resp.headers.items()},
                resp.read().decode(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def install(server: Server, team: str, *, enterprise: str | None = None) -> None:
    """Go through Slack's OAuth v2 flow as an installing admin's browser would."""
    status, headers, page = get(f"{server.url}/slack/install")
    assert status in (200, 302), (status, page)
    authorize = headers.get("location") or re.search(
        r'href="(https://slack.com/oauth[^"]+)"', page
    ).group(1)  # type: ignore[union-attr]
    assert "slack.com/oauth/v2/authorize" in authorize
    state = re.search(r"state=([^&\"]+)", authorize).group(1)  # type: ignore[union-attr]
    cookie = headers["set-cookie"].split(";")[0]
    code = f"code-{team}"
    server.slack.install_code(code, team, enterprise_id=enterprise)
    status, _h, page = get(f"{server.url}/slack/oauth_redirect?code={code}&state={state}", cookie)
    assert status == 200 and "error" not in page.lower(), page


def command(server: Server, text: str, *, team: str, user: str, name: str) -> dict[str, Any]:
    body = slash_command_body(
        text, user_id=user, team_id=team, response_url=server.slack.response_url(name)
    )
    status, _h, data = post(f"{server.url}/slack/events", body, SECRET)
    assert status == 200, (status, data, server.tail())
    return json.loads(data) if data else {}


def test_two_workspaces_install_and_stay_apart(server: Server) -> None:
    install(server, "T1")
    install(server, "T2")
    one = command(server, "can Acme GmbH in Germany use GPT-4o", team="T1", user="U1", name="a")
    two = command(server, "can someone in Iran use GPT-4o", team="T2", user=ADMIN, name="b")
    # Conditional on screening only: no restricted-party list is loaded here.
    assert card_blocks(one)[0]["text"]["text"].startswith("🟡 Conditional")
    assert card_blocks(two)[0]["text"]["text"].startswith("⛔ Denied")

    audit_t2 = json.dumps(command(server, "audit", team="T2", user=ADMIN, name="c"))
    assert "/ IR /" in audit_t2 and "Acme" not in audit_t2 and "1 decision" in audit_t2
    audit_t1 = json.dumps(command(server, "audit", team="T1", user=ADMIN, name="d"))
    assert "Acme" in audit_t1 and "/ IR /" not in audit_t1

    # Each workspace's Slack calls carry its own bot token; T1 cannot open T2's answer.
    decision_t2 = next(
        e["value"] for e in card_blocks(two)[-1]["elements"] if e["action_id"] == "show_rules"
    )
    for team, name in (("T2", "own"), ("T1", "other")):
        payload = block_action_payload(
            "show_rules",
            decision_t2,
            user_id="U1",
            team_id=team,
            response_url=server.slack.response_url(name),
        )
        post(f"{server.url}/slack/events", interactive_body(payload), SECRET)
    own = json.dumps(server.slack.wait_for("response_url:own")[0].args)
    other = json.dumps(server.slack.wait_for("response_url:other")[0].args)
    assert "ofac-iran-place" in own
    assert "no longer available" in other and "ofac" not in other

    server.slack.reset()
    command(server, "rule add", team="T2", user=ADMIN, name="e")
    (opened,) = server.slack.wait_for("views.open")
    assert (opened.token or "").startswith("xoxb-T2-")


def test_rotating_tokens_are_refreshed_before_they_expire(server: Server) -> None:
    server.slack.token_lifetime_s = 600  # inside Bolt's 120-minute refresh window at once
    install(server, "T3")
    first = server.slack.calls_to("oauth.v2.access")[-1].response
    assert first is not None and first["refresh_token"]
    command(server, "rule add", team="T3", user=ADMIN, name="r")
    (opened,) = server.slack.wait_for("views.open")
    refreshed = [
        c
        for c in server.slack.calls_to("oauth.v2.access")
        if c.args.get("grant_type") == "refresh_token"
    ]
    assert refreshed and refreshed[0].args["refresh_token"] == first["refresh_token"]
    assert refreshed[0].response is not None
    assert opened.token == refreshed[0].response["access_token"] != first["access_token"]
