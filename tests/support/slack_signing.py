"""Build and sign Slack's HTTP-mode requests the way Slack does, for driving the bot over HTTP.

Signature: `X-Slack-Signature: v0=` + hex HMAC-SHA256(signing_secret, `v0:{timestamp}:{raw body}`),
with the timestamp in `X-Slack-Request-Timestamp` (Slack doc; slack_sdk.signature).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "UNUSED_RESPONSE_URL",
    "block_action_payload",
    "block_suggestion_payload",
    "event_body",
    "global_shortcut_payload",
    "interactive_body",
    "message_shortcut_payload",
    "post",
    "sign",
    "signature",
    "slash_command_body",
    "url_verification_body",
    "view_submission_payload",
]

TEAM_ID = "T1"
TEAM_DOMAIN = "fake-team"
API_APP_ID = "A1"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "verification-token-unused"
# Nothing listens on port 9 (discard): a bot that posts here fails fast instead of hitting Slack.
UNUSED_RESPONSE_URL = "http://127.0.0.1:9/respond/unset"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`v0=<hex hmac-sha256>` of `v0:{timestamp}:{body}`."""
    base = b"v0:" + str(int(timestamp)).encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers Slack adds to every HTTP request it sends to an app."""
    return {
        "X-Slack-Request-Timestamp": str(int(timestamp)),
        "X-Slack-Signature": signature(secret, body, timestamp),
    }


def slash_command_body(
    text: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    response_url: str = UNUSED_RESPONSE_URL,
    trigger_id: str = "T.1",
    command: str = "/clearance",
    *,
    user_name: str | None = None,
    channel_name: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> bytes:
    """A form-encoded slash-command body with the fields (and order) Slack sends.

    On Enterprise Grid it also names the org; `is_enterprise_install` for an org-wide install.
    """
    if channel_name is None:
        channel_name = "directmessage" if channel_id.startswith("D") else channel_id.lower()
    fields = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", TEAM_DOMAIN),
        *(
            [("enterprise_id", enterprise_id), ("enterprise_name", f"Org {enterprise_id}")]
            if enterprise_id
            else []
        ),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name or user_id.lower()),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "true" if is_enterprise_install else "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urlencode(fields).encode("utf-8")


def event_body(
    event: Mapping[str, Any],
    event_id: str = "Ev0001",
    *,
    event_time: int | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
) -> bytes:
    """A JSON `event_callback` envelope around `event`, as the Events API posts it."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{event_id}",
        }
    ).encode("utf-8")


def url_verification_body(challenge: str = "challenge-token") -> bytes:
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    ).encode("utf-8")


def interactive_body(payload: Mapping[str, Any]) -> bytes:
    """Interactivity requests are form-encoded with the JSON in a single `payload` field."""
    return urlencode({"payload": json.dumps(payload)}).encode("utf-8")


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def block_action_payload(
    action_id: str,
    value: str,
    user_id: str = "U1",
    response_url: str = UNUSED_RESPONSE_URL,
    *,
    block_id: str = "actions",
    channel_id: str = "C1",
    message_ts: str = "1700000000.000100",
    message: Mapping[str, Any] | None = None,
    action_type: str = "button",
    action: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    trigger_id: str = "T.2",
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A `block_actions` payload for one action.

    `action_type` "button" carries `value`; "static_select"/"external_select" carry it as
    `selected_option`. Pass `action` to supply the whole action object. With `view`, the action
    comes from a modal/Home tab: container type "view", no channel/message/response_url.
    """
    now = f"{time.time():.6f}"
    if action is None:
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": now,
        }
        if action_type == "button":
            act["value"] = value
            act["text"] = {"type": "plain_text", "text": value[:75], "emoji": True}
        elif action_type.endswith("_select"):
            act["selected_option"] = {
                "text": {"type": "plain_text", "text": value, "emoji": True},
                "value": value,
            }
        else:
            act["value"] = value
    else:
        act = dict(action)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [act],
        "state": {"values": {}},
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
        payload["view"] = dict(view)
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
        payload["message"] = (
            dict(message)
            if message is not None
            else {"type": "message", "user": BOT_USER_ID, "ts": message_ts, "text": ""}
        )
        payload["response_url"] = response_url
    return payload


def view_submission_payload(
    callback_id: str,
    values: Mapping[str, Mapping[str, Any]],
    user_id: str = "U1",
    private_metadata: str = "",
    *,
    view_id: str = "V1",
    trigger_id: str = "T.3",
    blocks: list[dict[str, Any]] | None = None,
    response_urls: list[dict[str, Any]] | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A `view_submission` payload.

    `values` is Slack's `state.values` shape `{block_id: {action_id: {...}}}`; a plain string
    leaf is shorthand for `{"type": "plain_text_input", "value": leaf}`.
    """
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in values.items():
        state[block_id] = {
            action_id: (
                {"type": "plain_text_input", "value": leaf} if isinstance(leaf, str) else leaf
            )
            for action_id, leaf in actions.items()
        }
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state},
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": "Clearance"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": API_APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "BBOT",
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def post(
    url: str,
    body: bytes,
    secret: str,
    *,
    timestamp: int | None = None,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """POST `body` to `url` signed with `secret`; returns (status, headers, body) for any status.

    `content_type` defaults to JSON for bodies starting with `{`, otherwise form-encoded.
    `headers` are added last (so they can override the signature, e.g. to test rejection).
    """
    ts = int(time.time()) if timestamp is None else timestamp
    if content_type is None:
        is_json = body.lstrip()[:1] == b"{"
        content_type = "application/json" if is_json else "application/x-www-form-urlencoded"
    all_headers = {"Content-Type": content_type, **sign(secret, body, ts), **dict(headers or {})}
    request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def global_shortcut_payload(
    callback_id: str, user_id: str = "U1", *, trigger_id: str = "T.4", team_id: str = TEAM_ID
) -> dict[str, Any]:
    """A global shortcut (`type: shortcut`): no channel, no response_url, a trigger_id."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }


def message_shortcut_payload(
    callback_id: str,
    text: str,
    user_id: str = "U1",
    response_url: str = UNUSED_RESPONSE_URL,
    *,
    channel_id: str = "C1",
    message_ts: str = "1700000005.000100",
    author: str = "U2",
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A message shortcut (`type: message_action`) on a message someone posted."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": "T.5",
        "message_ts": message_ts,
        "message": {"type": "message", "user": author, "ts": message_ts, "text": text},
        "response_url": response_url,
    }


def block_suggestion_payload(
    action_id: str,
    value: str,
    user_id: str = "U1",
    *,
    block_id: str = "block",
    callback_id: str = "",
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """An options request (`type: block_suggestion`) for an external_select in a modal."""
    return {
        "type": "block_suggestion",
        "user": _user(user_id, team_id),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": "V1"},
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "state": {"values": {}}},
    }
