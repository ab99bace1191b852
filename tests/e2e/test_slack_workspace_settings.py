"""Each workspace's own review and audit channels, set by its admins (`/clearance settings`).

With installs into many workspaces the environment's channels are never used, and one
workspace can neither see nor change another's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.render.colours import card_blocks
from tests.e2e.server import ADMIN, REVIEW_CHANNEL, SECRET, Server, oauth_server
from tests.e2e.test_slack_installs import command, install
from tests.support.slack_signing import block_action_payload, interactive_body, post

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with oauth_server(db_url, tmp_path) as srv:
        yield srv


def said(payload: dict[str, Any]) -> str:
    return json.dumps(card_blocks(payload), ensure_ascii=False)


def request_review(server: Server, *, team: str, name: str) -> None:
    card = command(server, "can someone in Iran use GPT-4o", team=team, user="U7", name=name)
    decision = next(
        e["value"] for e in card_blocks(card)[-1]["elements"] if e["action_id"] == "request_review"
    )
    payload = block_action_payload(
        "request_review",
        decision,
        user_id="U7",
        team_id=team,
        response_url=server.slack.response_url(f"{name}-review"),
    )
    status, _h, _d = post(f"{server.url}/slack/events", interactive_body(payload), SECRET)
    assert status == 200, server.tail()


def test_each_workspace_sets_and_sees_only_its_own_channels(server: Server) -> None:
    slack = server.slack
    for team in ("T1", "T2"):
        install(server, team)
        slack.add_channel("CREVT1" if team == "T1" else "C0REVT2", team)
    # The environment's CLEARANCE_REVIEW_CHANNEL belongs to no installed workspace: unused.
    shown = said(command(server, "settings", team="T2", user=ADMIN, name="s0"))
    assert "`review-channel`: not set" in shown and REVIEW_CHANNEL not in shown

    refused = command(
        server, "settings review-channel <#CREVT1|rev>", team="T1", user="U7", name="x"
    )
    assert "only compliance admins" in said(refused)
    done = command(server, "settings review-channel <#CREVT1|rev>", team="T1", user=ADMIN, name="a")
    assert "now go to <#CREVT1>" in said(done)
    assert "<#CREVT1>" in said(command(server, "settings", team="T1", user="U7", name="s1"))
    assert "<#CREVT1>" not in said(command(server, "settings", team="T2", user=ADMIN, name="s2"))

    # T2 has no review channel: its asker is told so, and nothing is posted anywhere.
    request_review(server, team="T2", name="t2")
    (told,) = slack.wait_for("response_url:t2-review")
    assert "No review channel is configured" in json.dumps(told.args)
    # T1's request goes to T1's channel, posted with T1's own token.
    request_review(server, team="T1", name="t1")
    (ticket,) = slack.wait_for("chat.postMessage")
    assert ticket.args["channel"] == "CREVT1" and ticket.response and ticket.response["ok"]
    assert (ticket.token or "").startswith("xoxb-T1-")

    # T2 sets its own; T1's stays.
    command(server, "settings review-channel C0REVT2", team="T2", user=ADMIN, name="b")
    assert "<#C0REVT2>" in said(command(server, "settings", team="T2", user="U7", name="s3"))
    t1 = said(command(server, "settings", team="T1", user="U7", name="s4"))
    assert "<#CREVT1>" in t1 and "C0REVT2" not in t1
    cleared = command(server, "settings review-channel none", team="T1", user=ADMIN, name="c")
    assert "cleared" in said(cleared) and "<#CREVT1>" not in said(cleared)
    bad = command(server, "settings review-channel reviews", team="T1", user=ADMIN, name="d")
    assert "is not a channel" in said(bad)
    assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")] == ["CREVT1"]
