"""Enterprise Grid org-wide installs through Bolt's OAuth flow, against the fake Slack.

oauth.v2.access answers as Slack documents for an org-wide install (`team: null`,
`enterprise: {id, name}`, `is_enterprise_install: true`); requests from any workspace of that
org are then answered with the org's token, and each workspace's rows stay its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.render.colours import card_blocks
from tests.e2e.server import ADMIN, SECRET, Server, oauth_server
from tests.e2e.test_slack_installs import get
from tests.support.slack_signing import post, slash_command_body

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with oauth_server(db_url, tmp_path) as srv:
        yield srv


def install_org(server: Server, enterprise: str) -> dict[str, Any]:
    """Install the app org-wide, as an org admin's browser would; return Slack's answer."""
    status, headers, page = get(f"{server.url}/slack/install")
    assert status in (200, 302), (status, page)
    authorize = headers.get("location") or re.search(
        r'href="(https://slack.com/oauth[^"]+)"', page
    ).group(1)  # type: ignore[union-attr]
    state = re.search(r"state=([^&\"]+)", authorize).group(1)  # type: ignore[union-attr]
    cookie = headers["set-cookie"].split(";")[0]
    server.slack.install_code("code-org", "", enterprise_id=enterprise, org_wide=True)
    status, _h, page = get(f"{server.url}/slack/oauth_redirect?code=code-org&state={state}", cookie)
    assert status in (200, 302) and "error" not in page.lower(), (status, page, server.tail())
    (grant,) = server.slack.calls_to("oauth.v2.access")
    assert grant.response is not None
    return grant.response


def command(
    server: Server, text: str, *, team: str, enterprise: str, user: str, name: str
) -> dict[str, Any]:
    body = slash_command_body(
        text,
        user_id=user,
        team_id=team,
        enterprise_id=enterprise,
        is_enterprise_install=True,
        response_url=server.slack.response_url(name),
    )
    status, _h, data = post(f"{server.url}/slack/events", body, SECRET)
    assert status == 200, (status, data, server.tail())
    return json.loads(data) if data else {}


def test_an_org_wide_install_answers_every_workspace_of_the_org(server: Server) -> None:
    grant = install_org(server, "E1")
    # Slack's documented answer for an org-wide install.
    assert grant["team"] is None and grant["is_enterprise_install"] is True
    assert grant["enterprise"]["id"] == "E1"

    one = command(
        server, "can someone in Iran use GPT-4o", team="T8", enterprise="E1", user=ADMIN, name="a"
    )
    assert one["blocks"][0]["text"]["text"].startswith("⛔ Denied")
    two = command(
        server,
        "can Acme GmbH in Germany use GPT-4o",
        team="T9",
        enterprise="E1",
        user=ADMIN,
        name="b",
    )
    assert "Acme GmbH" in two["blocks"][0]["text"]["text"]

    # Slack calls for any workspace of the org use the org's token.
    command(server, "rule add", team="T9", enterprise="E1", user=ADMIN, name="c")
    (opened,) = server.slack.wait_for("views.open")
    assert (opened.token or "").startswith("xoxb-E1-")

    # Each workspace of the org still sees only its own audit log.
    audit_t8 = json.dumps(
        card_blocks(command(server, "audit", team="T8", enterprise="E1", user=ADMIN, name="d"))
    )
    assert "/ IR /" in audit_t8 and "Acme" not in audit_t8
    audit_t9 = json.dumps(
        card_blocks(command(server, "audit", team="T9", enterprise="E1", user=ADMIN, name="e"))
    )
    assert "Acme" in audit_t9 and "/ IR /" not in audit_t9


def test_a_workspace_of_another_org_is_not_answered(server: Server) -> None:
    install_org(server, "E1")
    body = slash_command_body(
        "can Acme GmbH in Germany use GPT-4o",
        team_id="T5",
        enterprise_id="E2",
        is_enterprise_install=True,
        response_url=server.slack.response_url("x"),
    )
    status, _h, data = post(f"{server.url}/slack/events", body, SECRET)
    assert status == 200 and b"Conditional" not in data and b"Allowed" not in data
    # Bolt finds no installation for E2: the user is asked to install the app, not answered.
    (told,) = server.slack.wait_for("response_url:x")
    assert "install" in json.dumps(told.args).lower() and "Acme" not in json.dumps(told.args)
    assert not server.slack.calls_to("views.open") and not server.slack.calls_to("chat.postMessage")
