"""Scheduled posts in many workspaces: each subscription's alert goes out with its own token.

Two workspaces install the app through OAuth and subscribe a channel each; a rule-table change
that flips a recorded usage queues an alert for both, and the fake Slack (which refuses a token
in another workspace's channel) sees each posted with the token installed in its workspace.
After one workspace uninstalls the app, its alert is a recorded failure and nothing is posted
there, while the other workspace still gets its alert.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from handlers.render.colours import VERDICT_COLOURS
from storage.db import create_db_engine, session_scope
from storage.tables.app_state import AppState
from storage.tables.tracking import Delivery, Subscription
from tests.e2e.server import ADMIN, OAUTH, SECRET, Server, oauth_server, server_env
from tests.e2e.test_delivery_once import CUSTOMERS, cli, wait_until
from tests.e2e.test_slack_installs import install
from tests.support.slack_signing import event_body, post, slash_command_body

pytestmark = pytest.mark.e2e
FAST = {
    "CLEARANCE_SCHEDULER": "true",
    "CLEARANCE_TICK_S": "0.5",
    "CLEARANCE_DELIVERY_TICK_S": "0.3",
    "CLEARANCE_DELIVERY_LEASE_S": "2",
}


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with oauth_server(db_url, tmp_path, **FAST) as srv:
        yield srv


def subscribe(server: Server, *, team: str, channel: str) -> None:
    body = slash_command_body(
        "subscribe",
        user_id=ADMIN,
        team_id=team,
        channel_id=channel,
        response_url=server.slack.response_url(f"sub-{channel}"),
    )
    status, _h, data = post(f"{server.url}/slack/events", body, SECRET)
    assert status == 200, (status, data, server.tail())


def rows(db_url: str, model: type) -> list:  # type: ignore[type-arg]
    engine = create_db_engine(db_url)
    try:
        with session_scope(engine) as session:
            return list(session.exec(select(model)))
    finally:
        engine.dispose()


def alerts_to(server: Server, channel: str) -> list:  # type: ignore[type-arg]
    return [
        c
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and c.status == 200 and c.response["ok"]
    ]


def test_each_workspace_gets_its_alert_with_its_own_token(
    server: Server, db_url: str, tmp_path: Path
) -> None:
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS.replace("SHARE", "40"))
    cli(db_url, "customers", "import", str(customers))
    slack = server.slack
    for team in ("T1", "T2"):
        install(server, team)
        slack.add_channel(f"C{team}", team)
        subscribe(server, team=team, channel=f"C{team}")
    wait_until(lambda: len(rows(db_url, Subscription)) == 2, what="two subscriptions")
    assert {(s.channel, s.team_id) for s in rows(db_url, Subscription)} == {
        ("CT1", "T1"),
        ("CT2", "T2"),
    }
    # Let the jobs see the current revision first: a change made before is history, not news.
    wait_until(lambda: "impact" in json.dumps(_states(db_url)), what="the impact marker")

    customers.write_text(CUSTOMERS.replace("SHARE", "60"))
    cli(db_url, "customers", "import", str(customers))  # Nimbus flips: an alert for both
    wait_until(lambda: alerts_to(server, "CT1") and alerts_to(server, "CT2"), what="two alerts")
    (one,) = alerts_to(server, "CT1")
    (two,) = alerts_to(server, "CT2")
    assert (one.token or "").startswith("xoxb-T1-") and (two.token or "").startswith("xoxb-T2-")
    # Nimbus's usage flips to denied: the alert carries the denied colour bar.
    assert one.args["attachments"][0]["color"] == VERDICT_COLOURS["denied"]
    refused = [c for c in slack.calls_to("chat.postMessage") if not c.response["ok"]]
    assert refused == []  # no post was tried with another workspace's token

    # T2 removes the app: Slack sends app_uninstalled, and T2's token stops working.
    slack.revoke(two.token or "")
    uninstalled = event_body({"type": "app_uninstalled"}, event_id="EvUninstall", team_id="T2")
    status, _h, _d = post(f"{server.url}/slack/events", uninstalled, SECRET)
    assert status == 200, server.tail()

    customers.write_text(CUSTOMERS.replace("SHARE", "40"))
    cli(db_url, "customers", "import", str(customers))  # flips back: another alert for both
    wait_until(lambda: len(alerts_to(server, "CT1")) == 2, what="T1's second alert")
    wait_until(
        lambda: any(d.status == "failed" for d in rows(db_url, Delivery)),
        what="T2's alert recorded as failed",
    )
    failed = [d for d in rows(db_url, Delivery) if d.status != "sent"]
    assert [(d.channel, d.status) for d in failed] == [("CT2", "failed")]
    assert "no_installation" in (failed[0].last_error or "")
    to_t2 = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "CT2"]
    assert len(to_t2) == 1  # nothing more was tried there, with any token
    paused = {s.channel: s.paused for s in rows(db_url, Subscription)}
    assert paused == {"CT1": False, "CT2": True}
    assert alerts_to(server, "CT1")[1].token == one.token
    assert "Traceback" not in server.tail()


def _states(db_url: str) -> dict[str, str]:
    return {r.key: r.value for r in rows(db_url, AppState)}


def test_digest_run_from_the_cli_posts_with_each_workspaces_token(
    db_url: str, tmp_path: Path
) -> None:
    # The server takes the installs and subscriptions; its scheduler is off, so only the CLI posts.
    with oauth_server(db_url, tmp_path) as server:
        slack = server.slack
        customers = tmp_path / "customers.yaml"
        customers.write_text(CUSTOMERS.replace("SHARE", "40"))
        cli(db_url, "customers", "import", str(customers))
        for team in ("T1", "T2"):
            install(server, team)
            slack.add_channel(f"C{team}", team)
            subscribe(server, team=team, channel=f"C{team}")
        env = server_env(db_url, slack, **OAUTH)

        def digest_run() -> dict[str, object]:
            proc = subprocess.run(
                [sys.executable, "-m", "bot", "digest", "run"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            return json.loads(proc.stdout)  # type: ignore[no-any-return]

        digest_run()  # marks where news begins
        customers.write_text(CUSTOMERS.replace("SHARE", "60"))
        cli(db_url, "customers", "import", str(customers))  # Nimbus flips: an alert for both
        assert digest_run()["delivered"] == {"sent": 2}
        (one,) = alerts_to(server, "CT1")
        (two,) = alerts_to(server, "CT2")
        assert (one.token or "").startswith("xoxb-T1-") and (two.token or "").startswith("xoxb-T2-")
