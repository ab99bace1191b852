"""The fake Slack used by the end-to-end tests behaves like Slack towards the real slack_sdk."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from tests.support.slack_fake import FakeSlack, FakeSocketMode
from tests.support.slack_signing import (
    block_action_payload,
    event_body,
    interactive_body,
    post,
    sign,
    slash_command_body,
    view_submission_payload,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(usergroups={"S1": ["U1", "U2"]}) as slack:
        yield slack


def client(fake: FakeSlack, **kwargs: Any) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url, timeout=5, **kwargs)


def test_basic_methods_and_recording(fake: FakeSlack) -> None:
    web = client(fake)
    auth = web.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T1")

    first = web.chat_postMessage(channel="C1", text="one")
    second = web.chat_postMessage(channel="C1", text="two", blocks=[{"type": "divider"}])
    assert first["channel"] == "C1"
    assert float(second["ts"]) > float(first["ts"])
    assert web.chat_update(channel="C1", ts=first["ts"], text="uno")["ts"] == first["ts"]
    assert web.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"]
    assert web.conversations_open(users="U7")["channel"]["id"] == "DU7"
    assert web.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    assert web.users_info(user="U9")["user"]["id"] == "U9"
    assert web.chat_getPermalink(channel="C1", message_ts=first["ts"])["permalink"]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    opened = web.views_open(trigger_id="T.1", view=view)["view"]
    assert web.views_update(view_id=opened["id"], view=view)["view"]["id"] == opened["id"]
    assert web.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]["id"]
    with pytest.raises(SlackApiError) as err:
        web.api_call("no.such.method")
    assert err.value.response["error"] == "unknown_method"

    posts = fake.wait_for("chat.postMessage", count=2)
    assert posts[1].args["blocks"] == [{"type": "divider"}]
    assert posts[0].headers["authorization"] == "Bearer xoxb-test"
    assert posts[0].token == "xoxb-test"
    assert [m["text"] for m in fake.history("C1")] == ["uno", "two"]
    fake.reset()
    assert fake.calls == []


def test_form_encoded_json_fields_are_decoded(fake: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    client(fake).api_call(
        "chat.postMessage", params={"channel": "C2", "text": "x", "blocks": json.dumps(blocks)}
    )
    (call,) = fake.wait_for("chat.postMessage")
    assert call.args["blocks"] == blocks


def test_wait_for_times_out_with_listing(fake: FakeSlack) -> None:
    client(fake).auth_test()
    with pytest.raises(AssertionError, match=r"(?s)chat\.postMessage.*auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.2)


def test_rate_limit_retry_after_is_honoured(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    web = client(fake, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    resp = web.chat_postMessage(channel="C1", text="hello")
    assert resp["ok"] is True
    assert time.monotonic() - started >= 1.0
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert fake.fired_injections == [("chat.postMessage", "429")]
    assert fake.pending_injections() == 0


def test_rate_limit_without_retry_handler_surfaces(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client(fake, retry_handlers=[]).chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


def test_server_error_retry(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=500)
    web = client(fake, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])
    assert web.chat_postMessage(channel="C1", text="hello")["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [500, 200]


def test_error_next_and_crash(fake: FakeSlack) -> None:
    fake.error_next("chat.postMessage", error="not_in_channel")
    web = client(fake, retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)])
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_in_channel"

    fake.crash_on("chat.postMessage")
    assert web.chat_postMessage(channel="C1", text="again")["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [200, 0, 200]

    fake.crash_on("auth.test", times=2)
    fake.reset()
    assert fake.pending_injections() == 0
    assert web.auth_test()["ok"] is True


def test_conversations_history_returns_metadata(fake: FakeSlack) -> None:
    web = client(fake)
    meta = {"event_type": "clearance_digest", "event_payload": {"week": "2026-W10"}}
    old = web.chat_postMessage(channel="C5", text="old")
    web.chat_postMessage(channel="C5", text="digest", metadata=meta)
    web.chat_postMessage(channel="C5", text="reply", thread_ts=old["ts"])
    web.chat_postMessage(channel="C6", text="elsewhere")

    hist = web.conversations_history(channel="C5", include_all_metadata=True, limit=10)
    assert [m["text"] for m in hist["messages"]] == ["digest", "old"]  # newest first, no replies
    assert hist["messages"][0]["metadata"] == meta
    plain = web.conversations_history(channel="C5")
    assert "metadata" not in plain["messages"][0]
    assert [m["text"] for m in web.conversations_history(channel="C5", limit=1)["messages"]] == [
        "digest"
    ]
    newer = web.conversations_history(channel="C5", oldest=old["ts"])
    assert [m["text"] for m in newer["messages"]] == ["digest"]
    # Timestamps follow the real clock, so "since a week ago" queries see fresh posts.
    week_ago = f"{time.time() - 7 * 86400:.6f}"
    assert len(web.conversations_history(channel="C5", oldest=week_ago)["messages"]) == 2


def test_token_checks(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.base_url).auth_test()
    assert err.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as err:
        client(fake).apps_connections_open(app_token="xoxb-not-an-app-token")
    assert err.value.response["error"] == "not_allowed_token_type"


def test_response_url_is_recorded(fake: FakeSlack) -> None:
    url = fake.response_url("cmd1")
    resp = WebhookClient(url, timeout=5).send(text="later", response_type="in_channel")
    assert resp.status_code == 200
    assert resp.body == "ok"
    (call,) = fake.wait_for("response_url:cmd1")
    assert call.args == {"text": "later", "response_type": "in_channel"}


def test_signing_matches_slack_sdk_verifier() -> None:
    body = slash_command_body("check acme in DE", response_url="http://127.0.0.1:1/r")
    ts = int(time.time())
    headers = sign("s3cret", body, ts)
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    form = parse_qs(body.decode())
    assert form["command"] == ["/clearance"]
    assert form["text"] == ["check acme in DE"]
    assert form["is_enterprise_install"] == ["false"]

    event = json.loads(event_body({"type": "app_home_opened", "user": "U1"}, "Ev9"))
    assert event["type"] == "event_callback"
    assert event["authorizations"][0]["user_id"] == "UBOT"

    action = block_action_payload("approve", "42", "U3", "http://x/r")
    assert action["actions"][0]["value"] == "42"
    submission = view_submission_payload("ask", {"b": {"a": "text"}}, "U3", '{"k":1}')
    assert submission["view"]["state"]["values"]["b"]["a"]["value"] == "text"
    wrapped = parse_qs(interactive_body(action).decode())["payload"][0]
    assert json.loads(wrapped) == action


def test_post_signs_request(fake: FakeSlack) -> None:
    # The fake records any request, so it doubles as an echo server for `post`.
    body = slash_command_body("hi")
    status, headers, data = post(fake.response_url("echo"), body, "s3cret", timestamp=1234)
    assert status == 200
    assert data == b"ok"
    assert headers["content-type"].startswith("text/html")
    (call,) = fake.wait_for("response_url:echo")
    assert call.headers["x-slack-request-timestamp"] == "1234"
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.headers["x-slack-signature"] == sign("s3cret", body, 1234)["X-Slack-Signature"]
    status, _, _ = post(fake.root_url + "nowhere", b"{}", "s3cret")
    assert status == 404


def test_socket_mode_round_trip() -> None:
    sm = FakeSocketMode()
    with FakeSlack(socket_mode=sm) as fake:
        web = WebClient(base_url=fake.base_url, timeout=5)
        sm_client = SocketModeClient(app_token="xapp-1-test", web_client=web, ping_interval=1)
        received: list[SocketModeRequest] = []
        got = threading.Event()

        def listener(c: SocketModeClient, req: SocketModeRequest) -> None:
            received.append(req)
            c.send_socket_mode_response(
                SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "ack!"})
            )
            got.set()

        sm_client.socket_mode_request_listeners.append(listener)  # type: ignore[arg-type]
        try:
            sm_client.connect()
            sm.wait_connected(timeout=5)
            (open_call,) = fake.wait_for("apps.connections.open")
            assert open_call.token == "xapp-1-test"
            assert sm_client.is_connected()

            payload = {"command": "/clearance", "text": "help", "user_id": "U1"}
            eid = sm.send_envelope("slash_commands", payload)
            ack = sm.wait_ack(eid, timeout=5)
            assert ack == {"envelope_id": eid, "payload": {"text": "ack!"}}
            assert got.wait(5)
            assert received[0].payload == payload
            assert received[0].accepts_response_payload is True

            # A large envelope needs the 16-bit and 64-bit WebSocket length encodings.
            big = {"text": "x" * 70_000}
            eid2 = sm.send_envelope(
                "events_api", {"event": big}, retry_attempt=1, retry_reason="timeout"
            )
            assert sm.wait_ack(eid2, timeout=5)["envelope_id"] == eid2
            assert received[1].retry_attempt == 1

            # Slack's refresh: `disconnect` makes the client fetch a new URL and reconnect.
            sm.disconnect()
            sm.wait_connections_total(2, timeout=8)
            fake.wait_for("apps.connections.open", count=2)
            eid3 = sm.send_envelope("interactive", {"type": "block_actions"})
            assert sm.wait_ack(eid3, timeout=5)["envelope_id"] == eid3
            assert sm.received[0]  # acks and anything else the client sent are kept
        finally:
            sm_client.close()


def test_socket_mode_rejects_other_paths() -> None:
    with FakeSocketMode() as sm:
        url = sm.url.replace("ws://", "http://").replace("/link", "/other")
        req = urllib.request.Request(url, headers={"Connection": "Upgrade", "Upgrade": "websocket"})
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(req, timeout=5)
    assert not sm.running


def test_a_workspace_token_reaches_only_its_workspace_and_stops_when_revoked(
    fake: FakeSlack,
) -> None:
    fake.install_code("c1", "T1")
    fake.install_code("c2", "T2", enterprise_id="E1")
    fake.install_code("c3", "", enterprise_id="E1", org_wide=True)
    base = WebClient(base_url=fake.base_url, timeout=5)
    tokens = [
        base.oauth_v2_access(client_id="1", client_secret="s", code=c)["access_token"]
        for c in ("c1", "c2", "c3")
    ]
    fake.add_channel("C1", "T1")
    fake.add_channel("C2", "T2", enterprise_id="E1")
    one, two, org = (WebClient(token=t, base_url=fake.base_url, timeout=5) for t in tokens)
    assert one.chat_postMessage(channel="C1", text="x")["ok"]
    assert org.chat_postMessage(channel="C2", text="x")["ok"]  # an org-wide install
    for client, channel in ((one, "C2"), (two, "C1"), (org, "C1")):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel=channel, text="x")
        assert err.value.response["error"] == "channel_not_found"
    fake.revoke(tokens[0])
    with pytest.raises(SlackApiError) as err:
        one.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "token_revoked"


@pytest.mark.parametrize(
    ("attachments", "error"),
    [
        ([{"color": "#E01E5A", "blocks": [{"type": "divider"}]}], None),
        ([{"color": "good", "text": "legacy"}], None),
        ([{"color": "red", "blocks": []}], "invalid_attachments"),
        ([{"color": "#12345", "blocks": []}], "invalid_attachments"),
        (["not an object"], "invalid_attachments"),
        ([{"blocks": [{"type": "no_such_block"}]}], "invalid_blocks"),
        ([{"blocks": [{"type": "divider"}] * 51}], "invalid_blocks"),
        ([{"color": "good"}] * 101, "too_many_attachments"),
    ],
)
def test_attachments_are_checked_as_slack_documents_them(
    fake: FakeSlack, attachments: list[Any], error: str | None
) -> None:
    web = client(fake)
    for method, args in (
        ("chat.postMessage", {"channel": "C1"}),
        ("chat.postEphemeral", {"channel": "C1", "user": "U1"}),
    ):
        if error is None:
            assert web.api_call(method, json={**args, "text": "t", "attachments": attachments})
            continue
        with pytest.raises(SlackApiError) as err:
            web.api_call(method, json={**args, "text": "t", "attachments": attachments})
        assert err.value.response["error"] == error
    unfurl = {"https://x.example/d/1": attachments[0]}
    if error == "invalid_attachments" and isinstance(attachments[0], dict):
        with pytest.raises(SlackApiError) as err:
            web.chat_unfurl(channel="C1", ts="1.2", unfurls=unfurl)
        assert err.value.response["error"] == "invalid_unfurls_format"
