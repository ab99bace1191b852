"""Policy tracking from Slack, through the running server: subscribe, preview, Update group."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.e2e.server import ADMIN, AUDIT_CHANNEL, Server, running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e


def cli(db_url: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def page(*countries: str) -> str:
    items = "".join(f"<li>{c}</li>" for c in countries)
    return f"<html><body><main><h1>Supported regions</h1><ul>{items}</ul></main></body></html>"


@pytest.fixture
def server(db_url: str, tmp_path: Path, httpserver: HTTPServer) -> Iterator[Server]:
    httpserver.expect_request("/regions").respond_with_data(
        page("Germany", "France", "Holy See"), content_type="text/html"
    )
    cli(
        db_url,
        "sources",
        "add",
        "--name",
        "Vendor regions",
        "--kind",
        "webpage",
        "--url",
        httpserver.url_for("/regions"),
        "--country-list",
        "g-anthropic-supported",
        "--tags",
        "vendor",
    )
    cli(db_url, "sources", "poll")  # the baseline
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path) as srv:
        yield srv


def text_of(payload: dict[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_subscriptions_sources_changes_preview_and_update_group(
    server: Server, db_url: str, httpserver: HTTPServer
) -> None:
    refused = server.command("subscribe vendor", user="UNOTADMIN")
    assert "only compliance admins" in text_of(refused)

    ok = server.command("subscribe vendor weekly MON 09:00 Europe/Berlin", user=ADMIN)
    assert "now gets tags vendor on a weekly MON 09:00 Europe/Berlin digest" in text_of(ok)
    assert "<#C1>" in text_of(server.command("subscriptions"))
    assert "Vendor regions" in text_of(server.command("sources"))
    bad = server.command("subscribe vendor daily 25:00 UTC", user=ADMIN)
    assert "is not a time of day" in text_of(bad)

    assert "Nothing new since the last digest" in text_of(server.command("digest preview"))
    httpserver.clear()
    httpserver.expect_request("/regions").respond_with_data(
        page("Germany", "France", "Ethiopia"), content_type="text/html"
    )
    assert "1 change(s)" in cli(db_url, "sources", "poll")

    changes = text_of(server.command("changes"))
    assert "added Ethiopia (ET); removed Holy See" in changes
    preview = server.command("digest preview")
    assert preview["blocks"][0]["text"]["text"].startswith("Policy digest: 1 change")
    button = next(
        e
        for b in preview["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "update_group"
    )

    server.action("update_group", button["value"], user="UNOTADMIN", name="refuse")
    assert "only compliance admins" in server.slack.wait_for("response_url:refuse")[0].args["text"]
    server.action("update_group", button["value"], user=ADMIN, name="update")
    done = server.slack.wait_for("response_url:update")[0].args["text"]
    assert "Group *g-anthropic-supported* updated in revision 2: added ET; removed VA." in done
    audit = server.slack.wait_for("chat.postMessage")[0].args
    assert audit["channel"] == AUDIT_CHANNEL and "<@UADMIN>" in audit["text"]
    shown = text_of(server.command("rule anthropic-supported-allow"))
    assert "revision 2" in shown
    group = cli(db_url, "rules", "show", "g-anthropic-supported")
    assert "- ET" in group and "- VA" not in group and "- DE" in group

    assert "unsubscribed" in text_of(server.command("unsubscribe", user=ADMIN))
    assert "has no subscription" in text_of(server.command("digest preview"))
