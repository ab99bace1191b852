"""Checking Slack requests before anything acts on them: signature first, then the body's shape."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.verification import (
    Rejected,
    check_shape,
    is_allowed_response_url,
    parse_body,
    verify_signature,
)
from tests.support.slack_signing import (
    block_action_payload,
    event_body,
    interactive_body,
    signature,
    slash_command_body,
    view_submission_payload,
)

SECRET = "unit-signing-secret"
NOW = 1_800_000_000
HOOKS = "https://hooks.slack.com/"
GOOD_URL = "https://hooks.slack.com/commands/T1/1/abc"


def headers(body: bytes, timestamp: str, sig: str | None = None) -> dict[str, list[str]]:
    return {
        "x-slack-request-timestamp": [timestamp],
        "x-slack-signature": [sig if sig is not None else signature(SECRET, body, NOW)],
    }


def test_a_signed_request_passes() -> None:
    body = slash_command_body("help")
    verify_signature(SECRET, headers(body, str(NOW)), body, now=NOW + 10)


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "", "1e9", " 1800000000", "1800000000 ", "+1800000000", "-1", "١٨٠٠٠٠٠٠٠٠",
     "1_800_000_000", "9" * 5000, "1800000000.5", "0x6B49D200"],
)  # fmt: skip
def test_an_odd_timestamp_is_401(timestamp: str) -> None:
    body = slash_command_body("help")
    with pytest.raises(Rejected) as caught:
        verify_signature(SECRET, headers(body, timestamp), body, now=NOW)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("case", "request_headers"),
    [
        ("no headers", {}),
        ("no signature", {"x-slack-request-timestamp": [str(NOW)]}),
        ("no timestamp", {"x-slack-signature": ["v0=" + "0" * 64]}),
        ("two timestamps", {"x-slack-request-timestamp": [str(NOW), str(NOW)]}),
        ("stale", {"x-slack-request-timestamp": [str(NOW - 301)]}),
        ("future", {"x-slack-request-timestamp": [str(NOW + 301)]}),
        ("bad hex", {"x-slack-request-timestamp": [str(NOW)], "x-slack-signature": ["v0=zz"]}),
        ("wrong key", {"x-slack-request-timestamp": [str(NOW)], "x-slack-signature": ["v0=" + "a" * 64]}),
    ],
)  # fmt: skip
def test_missing_or_wrong_headers_are_401(case: str, request_headers: dict[str, list[str]]) -> None:
    body = slash_command_body("help")
    sent = {"x-slack-signature": [signature(SECRET, body, NOW)], **request_headers}
    if case == "no signature":
        del sent["x-slack-signature"]
    with pytest.raises(Rejected) as caught:
        verify_signature(SECRET, sent, body, now=NOW)
    assert caught.value.status == 401, case


def _form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _view(metadata: str) -> bytes:
    return _form(view_submission_payload("edit_entity", {}, private_metadata=metadata))


GOOD_BODIES = {
    "command": slash_command_body("help", response_url=GOOD_URL),
    "action": interactive_body(block_action_payload("share_answer", "1", response_url=GOOD_URL)),
    "view": _view(json.dumps({"kind": "rules"})),
    "view, no metadata": _view(""),
    "event": event_body({"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"}),
    "challenge": json.dumps({"type": "url_verification", "challenge": "c"}).encode(),
}


@pytest.mark.parametrize("name", sorted(GOOD_BODIES))
def test_what_slack_sends_passes(name: str) -> None:
    check_shape(parse_body(GOOD_BODIES[name], None), response_url_base=HOOKS)


def _without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    node = payload
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return payload


BAD_BODIES = {
    "invalid UTF-8": b"text=\xff\xfe&command=/clearance",
    "empty": b"",
    "payload a list": urlencode({"payload": "[1, 2]"}).encode(),
    "payload a string": urlencode({"payload": '"x"'}).encode(),
    "payload not JSON": urlencode({"payload": "{oops"}).encode(),
    "payload nested deep": urlencode({"payload": "[" * 100_000}).encode(),
    "JSON a list": b'[{"type": "event_callback"}]',
    "command without user": urlencode({"command": "/clearance", "text": "help"}).encode(),
    "JSON empty object": b"{}",
    "command, text a list": json.dumps({"command": "/c", "user_id": "U", "channel_id": "C", "trigger_id": "t", "response_url": GOOD_URL, "text": []}).encode(),
    "action without user": _form(
        _without(block_action_payload("x", "1", response_url=GOOD_URL), "user")
    ),
    "action, user id a number": _form(
        {**block_action_payload("x", "1", response_url=GOOD_URL), "user": {"id": 5}}
    ),
    "action without actions": _form(
        {**block_action_payload("x", "1", response_url=GOOD_URL), "actions": []}
    ),
    "action value an object": _form(
        block_action_payload("x", "1", response_url=GOOD_URL, action={"action_id": "x", "value": {}})
    ),
    "metadata not JSON": _view("{broken"),
    "metadata a list": _view("[1]"),
    "view without view": _form(_without(view_submission_payload("x", {}), "view")),
    "state values not objects": _form(
        {**view_submission_payload("x", {}), "view": {"state": {"values": {"b": 3}}}}
    ),
    "event without event": json.dumps({"type": "event_callback", "event_id": "Ev1"}).encode(),
    "mention without user": event_body({"type": "app_mention", "text": "hi"}),
    "no type": json.dumps({"hello": "world"}).encode(),
    "response_url elsewhere": slash_command_body("help", response_url="http://127.0.0.1:9/x"),
    "response_url lookalike": slash_command_body(
        "help", response_url="https://hooks.slack.com.evil.example/x"
    ),
    "response_urls elsewhere": _form(
        view_submission_payload("x", {}, response_urls=[{"response_url": "https://evil/x"}])
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_a_malformed_signed_body_is_400(name: str) -> None:
    with pytest.raises(Rejected) as caught:
        check_shape(parse_body(BAD_BODIES[name], None), response_url_base=HOOKS)
    assert caught.value.status == 400, name
    assert len(caught.value.reason) <= 200


@pytest.mark.parametrize(
    ("url", "base", "allowed"),
    [
        ("https://hooks.slack.com/commands/1/2/3", HOOKS, True),
        ("http://hooks.slack.com/commands/1", HOOKS, False),
        ("https://hooks.slack.com:8443/commands/1", HOOKS, False),
        ("https://user@hooks.slack.com/commands/1", HOOKS, False),
        ("https://hooks.slack.com.evil.example/x", HOOKS, False),
        ("https://HOOKS.slack.com/x", HOOKS, True),
        ("https://[::1]:99999/x", HOOKS, False),
        ("http://127.0.0.1:5000/respond/a", "http://127.0.0.1:5000/", True),
        ("http://127.0.0.1:5001/respond/a", "http://127.0.0.1:5000/", False),
        ("javascript:alert(1)", HOOKS, False),
    ],
)
def test_response_urls_must_be_under_the_base(url: str, base: str, allowed: bool) -> None:
    assert is_allowed_response_url(url, base) is allowed


@settings(max_examples=400, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000), st.sampled_from([None, "application/json", "text/plain"]))
def test_any_bytes_are_read_or_refused_with_a_400(body: bytes, content_type: str | None) -> None:
    started = time.monotonic()
    try:
        check_shape(parse_body(body, content_type), response_url_base=HOOKS)
    except Rejected as exc:
        assert exc.status == 400 and len(exc.reason) <= 200
    assert time.monotonic() - started < 0.5


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)  # fmt: skip
payload_keys = st.sampled_from(
    ["type", "user", "actions", "view", "channel", "response_url", "response_urls", "event",
     "event_id", "command", "user_id", "trigger_id", "private_metadata", "state", "id"]
)  # fmt: skip


@settings(max_examples=400, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(payload_keys, json_values | st.sampled_from(["block_actions", "view_submission",
        "event_callback", GOOD_URL])),
    st.booleans(),
)  # fmt: skip
def test_any_payload_shape_is_read_or_refused(data: dict[str, Any], as_form: bool) -> None:
    body = _form(data) if as_form else json.dumps(data).encode()
    try:
        check_shape(parse_body(body, None), response_url_base=HOOKS)
    except Rejected as exc:
        assert exc.status == 400
