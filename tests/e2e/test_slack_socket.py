"""`clearance serve` in Socket Mode: envelopes over a local WebSocket, acks with the answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.render.colours import card_blocks
from tests.e2e.server import free_port, server_env, wait_healthy
from tests.support.slack_fake import FakeSlack, FakeSocketMode
from tests.support.slack_signing import block_action_payload

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(socket_mode=FakeSocketMode()) as fake:
        yield fake


@pytest.fixture(scope="module")
def socket_server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    port = free_port()
    log = tmp_path_factory.mktemp("socket") / "serve.log"
    env = server_env(module_db_url, slack, SLACK_APP_TOKEN="xapp-1-e2e-test-token")
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs no signing secret
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        assert slack.socket_mode is not None
        slack.socket_mode.wait_connected(timeout=20)
        yield log
    finally:
        process.terminate()
        process.wait(timeout=15)


def _command(text: str, user: str = "U1", *, response_url: str) -> dict[str, str]:
    return {
        "token": "x",
        "team_id": "T1",
        "team_domain": "t",
        "channel_id": "C1",
        "channel_name": "general",
        "user_id": user,
        "user_name": "u",
        "command": "/clearance",
        "text": text,
        "api_app_id": "A1",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "T.9",
    }


def test_started_in_socket_mode(socket_server: Path, slack: FakeSlack) -> None:
    assert "serving in socket mode" in socket_server.read_text()
    assert slack.calls_to("apps.connections.open")[0].token == "xapp-1-e2e-test-token"


def test_slash_command_is_answered_in_the_ack(socket_server: Path, slack: FakeSlack) -> None:
    sm = slack.socket_mode
    assert sm is not None
    started = time.monotonic()
    envelope = sm.send_envelope(
        "slash_commands",
        _command("can someone in Iran use GPT-4o", response_url=slack.response_url("sock")),
    )
    ack = sm.wait_ack(envelope, timeout=10)
    assert time.monotonic() - started < 3
    payload = ack["payload"]
    assert payload["response_type"] == "ephemeral"
    assert card_blocks(payload)[0]["text"]["text"].startswith("⛔ Denied · ")
    assert "ofac-iran-place" in json.dumps(card_blocks(payload))


def test_help_over_socket_mode(socket_server: Path, slack: FakeSlack) -> None:
    sm = slack.socket_mode
    assert sm is not None
    ack = sm.wait_ack(
        sm.send_envelope(
            "slash_commands", _command("help", response_url=slack.response_url("sock"))
        ),
        timeout=10,
    )
    assert "Clearance: can customer X" in json.dumps(ack["payload"])


def test_retried_event_envelopes_are_answered_once(socket_server: Path, slack: FakeSlack) -> None:
    sm = slack.socket_mode
    assert sm is not None
    slack.reset()
    event = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": "EvSock1",
        "event_time": int(time.time()),
        "authorizations": [{"user_id": "UBOT", "team_id": "T1", "is_bot": True}],
        "event": {
            "type": "app_mention",
            "user": "U1",
            "channel": "C1",
            "ts": "1700000009.000100",
            "text": "<@UBOT> can someone in Japan use gpt-oss-120b",
        },
    }
    first = sm.send_envelope("events_api", event)
    sm.wait_ack(first, timeout=10)
    retry = sm.send_envelope("events_api", event, retry_attempt=1, retry_reason="timeout")
    sm.wait_ack(retry, timeout=10)
    posted = slack.wait_for("chat.postMessage", timeout=10)
    time.sleep(0.5)  # room for a wrongly processed retry to arrive
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert posted[0].args["thread_ts"] == "1700000009.000100"
    # "someone" can't be screened against restricted-party lists: allowed only on that condition.
    assert "🟡 Conditional" in json.dumps(card_blocks(posted[0].args), ensure_ascii=False)


def test_a_response_url_off_slack_is_refused_and_never_called(
    socket_server: Path, slack: FakeSlack
) -> None:
    sm = slack.socket_mode
    assert sm is not None
    # A button value no listener can read is answered through the payload's response_url.
    unreadable = ("pick_candidate_0", "{not json")
    with FakeSlack() as elsewhere:  # another port: not the configured response host
        sm.send_envelope(
            "interactive",
            block_action_payload(*unreadable, response_url=elsewhere.response_url("off")),
        )
        # The same payload with a response_url on the configured host is answered there.
        sm.send_envelope(
            "interactive", block_action_payload(*unreadable, response_url=slack.response_url("on"))
        )
        told = slack.wait_for("response_url:on", timeout=10)[0].args
        assert "no longer available" in json.dumps(told)
        time.sleep(0.5)  # room for a wrong call to arrive
        assert elsewhere.calls == []
    log = socket_server.read_text()
    assert "rejected request" in log and "response_url is not on Slack's response host" in log
