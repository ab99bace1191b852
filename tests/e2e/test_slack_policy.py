"""Policy tracking from Slack, through the running server: subscribe, preview, Update group."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.e2e.server import ADMIN, AUDIT_CHANNEL, Server, running_server, server_env
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
    view = server.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "update_group_confirm"
    assert "Group size" in text_of(view) and "Ethiopia (ET)" in text_of(view)
    assert cli(db_url, "revisions", "list").count("\n") == 1  # nothing applied before confirming
    server.submit("update_group_confirm", {}, metadata=view["private_metadata"])
    done = server.slack.wait_for("chat.postEphemeral")[0].args["text"]
    assert "Group *g-anthropic-supported* updated in revision 2: added ET; removed VA." in done
    audit = server.slack.wait_for("chat.postMessage")[0].args
    assert audit["channel"] == AUDIT_CHANNEL and "<@UADMIN>" in audit["text"]
    shown = text_of(server.command("rule anthropic-supported-allow"))
    assert "revision 2" in shown
    group = cli(db_url, "rules", "show", "g-anthropic-supported")
    assert "- ET" in group and "- VA" not in group and "- DE" in group

    assert "unsubscribed" in text_of(server.command("unsubscribe", user=ADMIN))
    assert "has no subscription" in text_of(server.command("digest preview"))


PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "policy_pages"
ADDIS = """version: 1
customers:
  - id: addis
    name: Addis Data PLC
    hq: ET
    uses: [{model: claude-sonnet-4-5, country: ET}]
"""


def test_real_page_change_digest_and_reviewed_update_group(
    db_url: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A real-shaped page changes, a digest is posted, and Update group opens a confirmation
    with its impact preview; once applied, the digest message says who applied it, and when."""
    page = (PAGES / "anthropic-supported-regions.html").read_text()
    httpserver.expect_request("/supported").respond_with_data(page, content_type="text/html")
    url = httpserver.url_for("/supported")
    cli(
        db_url,
        "sources",
        "add",
        "--name",
        "Anthropic supported regions",
        "--kind",
        "webpage",
        "--url",
        url,
        "--country-list",
        "g-anthropic-supported",
        "--tags",
        "vendor",
        "--ignore",
        "^Last updated",
    )
    cli(db_url, "sources", "poll")  # the baseline: 175 places
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path) as srv:
        env = server_env(db_url, slack)
        ok = srv.command("subscribe vendor daily 09:00 Europe/Berlin", user=ADMIN)
        assert "now gets tags vendor" in text_of(ok)
        # The page adds Ethiopia, as a later real version did; nobody operates there yet.
        httpserver.clear()
        httpserver.expect_request("/supported").respond_with_data(
            page.replace(
                "<li>Eswatini (Swaziland)</li>", "<li>Eswatini (Swaziland)</li><li>Ethiopia</li>"
            ),
            content_type="text/html",
        )
        assert "1 change(s)" in cli(db_url, "sources", "poll")
        customers = tmp_path / "addis.yaml"
        customers.write_text(ADDIS)
        cli(db_url, "customers", "import", str(customers))
        run = subprocess.run(
            [sys.executable, "-m", "bot", "digest", "run", "--channel", "C1", "--force"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        (digest,) = [
            m for m in slack.history("C1") if m.get("text", "").startswith("Policy digest:")
        ]
        assert "added Ethiopia (ET)" in text_of(digest)
        button = next(
            e
            for b in digest["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "update_group"
        )
        srv.action(
            "update_group",
            button["value"],
            user=ADMIN,
            name="upd",
            channel_id="C1",
            message_ts=digest["ts"],
            block_id=f"change_{button['value']}",
        )
        view = slack.wait_for("views.open")[0].args["view"]
        shown = text_of(view)
        assert "Group size: *175* places before, *176* after" in shown
        assert "Added" in shown and "Ethiopia (ET)" in shown
        assert "Impact:" in shown and "Addis Data PLC" in shown
        srv.submit("update_group_confirm", {}, metadata=view["private_metadata"])
        (update,) = slack.wait_for("chat.update")
        assert update.args["ts"] == digest["ts"]
        assert "Applied in revision 3 (change #" in text_of(update.args["blocks"])
        assert "by <@UADMIN> on " in text_of(update.args["blocks"])
        assert not any(
            b.get("block_id") == f"change_{button['value']}" for b in update.args["blocks"]
        )
    assert "- ET" in cli(db_url, "rules", "show", "g-anthropic-supported")


def test_declining_an_alerted_change_updates_the_message_for_everyone(
    db_url: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    page = (PAGES / "anthropic-supported-regions.html").read_text()
    httpserver.expect_request("/supported").respond_with_data(page, content_type="text/html")
    cli(
        db_url,
        "sources",
        "add",
        "--name",
        "Anthropic supported regions",
        "--kind",
        "webpage",
        "--url",
        httpserver.url_for("/supported"),
        "--country-list",
        "g-anthropic-supported",
        "--tags",
        "vendor",
    )
    cli(db_url, "sources", "poll")
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path) as srv:
        srv.command("subscribe vendor", user=ADMIN)
        httpserver.clear()
        httpserver.expect_request("/supported").respond_with_data(
            page.replace("<li>Holy See (Vatican City)</li>", ""), content_type="text/html"
        )
        assert "1 change(s)" in cli(db_url, "sources", "poll")
        run = subprocess.run(
            [sys.executable, "-m", "bot", "digest", "run"],
            env=server_env(db_url, slack),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        (alert,) = [m for m in slack.history("C1") if m.get("text", "").startswith("Policy alert")]
        assert "removed Holy See" in alert["text"]
        decline = next(
            e
            for b in alert["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "decline_group_update"
        )
        srv.action(
            "decline_group_update",
            decline["value"],
            user="UNOTADMIN",
            name="no",
            channel_id="C1",
            message_ts=alert["ts"],
        )
        assert "only compliance admins" in slack.wait_for("response_url:no")[0].args["text"]
        srv.action(
            "decline_group_update",
            decline["value"],
            user=ADMIN,
            name="dec",
            channel_id="C1",
            message_ts=alert["ts"],
        )
        (update,) = slack.wait_for("chat.update")
        shown = text_of(update.args["blocks"])
        assert "Declined at revision 1 (change #" in shown and "by <@UADMIN> on " in shown
        assert not any(b["type"] == "actions" for b in update.args["blocks"])
    assert "- VA" in cli(db_url, "rules", "show", "g-anthropic-supported")  # nothing applied
