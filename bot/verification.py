"""Checking a request from Slack before anything acts on it: its signature, then its body's shape.

Pure functions over the raw bytes and headers, with the current time passed in. A request that
fails is a `Rejected` with the HTTP status to answer and a short reason for the log; nothing in
the body is ever acted on (or echoed) before the signature has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_SKEW_S = 300  # Slack: refuse a timestamp more than five minutes from now
SLACK_RESPONSE_URL_BASE = "https://hooks.slack.com/"
# Set in a Bolt request's context by HTTP mode's front once it has run every check here.
FRONT_CHECKED = "clearance_front_checked"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take '١٢' or ' 1_0 '
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_COMMAND_FIELDS = ("command", "user_id", "channel_id", "trigger_id", "response_url")
_INTERACTIVE = {
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "interactive_message",
    "dialog_submission",
}
_EVENTS_WITH_USER = {"app_mention", "app_home_opened"}
# Fields Bolt itself reads as objects when present (slack_bolt.request.internals, payload_utils).
_NESTED = (
    "team",
    "enterprise",
    "container",
    "message",
    "previous_message",
    "item",
    "state",
    "assistant_thread",
    "function_data",
    "workflow_step",
)


class Rejected(Exception):
    """A request refused before any listener runs: the status to answer and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason[:200]


def _one(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = headers.get(name) or ()
    if len(values) != 1:
        return None  # missing, or sent twice: which one was signed is unclear
    return values[0]


def verify_signature(
    secret: str, headers: Mapping[str, Sequence[str]], body: bytes, *, now: float
) -> None:
    """Raise `Rejected(401)` unless the body carries Slack's signature over this timestamp.

    `headers` maps lower-case names to their values. The timestamp must be plain digits within
    five minutes of `now`, and the signature `v0=` and 64 hex digits (HMAC-SHA256 of
    `v0:{timestamp}:{body}`), compared in constant time.
    """
    timestamp = _one(headers, "x-slack-request-timestamp")
    signature = _one(headers, "x-slack-signature")
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        raise Rejected(401, "missing or malformed X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW_S:
        raise Rejected(401, "X-Slack-Request-Timestamp more than 5 minutes from now")
    if signature is None or not _SIGNATURE.fullmatch(signature):
        raise Rejected(401, "missing or malformed X-Slack-Signature")
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Rejected(401, "signature does not match")


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Return the body as Bolt will read it, or raise `Rejected(400)` if it can't be read.

    Follows `slack_bolt.request.internals.parse_body`: JSON when the content type says so or the
    text starts with `{`; otherwise a form, whose `payload` field (when there is one) is JSON.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    try:
        if content_type == "application/json" or text.startswith("{"):
            data: Any = json.loads(text)
        elif "payload" in text:
            form = dict(parse_qsl(text, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in form else {}
            if not isinstance(data, dict):
                raise Rejected(400, "payload is not a JSON object")
        else:
            data = dict(parse_qsl(text, keep_blank_values=True))
    except (ValueError, RecursionError):
        raise Rejected(400, "body is neither a form nor JSON Slack sends") from None
    if not isinstance(data, dict):
        raise Rejected(400, "body is not a JSON object")
    return data


def check_shape(data: Mapping[str, Any], *, response_url_base: str) -> None:
    """Raise `Rejected(400)` unless `data` has the fields, of the types, that listeners read.

    Every `response_url` must lie under `response_url_base` (Slack's own host unless the tests'
    fake Slack is configured).
    """
    kind = data.get("type")
    if "command" in data:
        for name in _COMMAND_FIELDS:
            _string(data, name, "slash command")
        if not isinstance(data.get("text", ""), str):
            raise Rejected(400, "slash command: 'text' is not a string")
    elif not isinstance(kind, str):
        raise Rejected(400, "neither a slash command, an event nor an interactive payload")
    elif kind in _INTERACTIVE:
        _check_interactive(data)
    elif kind == "event_callback":
        _check_event(data)
    elif kind == "url_verification":
        _string(data, "challenge", "url_verification")
    check_response_urls(data, response_url_base)


def _string(data: Mapping[str, Any], name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise Rejected(400, f"{where}: '{name}' is missing or not a string")
    return value


def _optional(data: Mapping[str, Any], name: str, kind: type, where: str) -> None:
    if name in data and not isinstance(data[name], kind):
        raise Rejected(400, f"{where}: '{name}' is not a {kind.__name__}")


def _object(data: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise Rejected(400, f"{where}: '{name}' is missing or not an object")
    return value


def _objects(data: Mapping[str, Any], names: tuple[str, ...], where: str) -> None:
    """Require each of `names` that is present (and not null) to be an object: Bolt reads them."""
    for name in names:
        if data.get(name) is not None:
            _object(data, name, where)


def _check_interactive(data: Mapping[str, Any]) -> None:
    kind = str(data["type"])
    _string(_object(data, "user", kind), "id", f"{kind} user")
    _objects(data, _NESTED, kind)
    if data.get("channel") is not None:
        _string(_object(data, "channel", kind), "id", f"{kind} channel")
    _optional(data, "trigger_id", str, kind)
    if kind == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Rejected(400, "block_actions: 'actions' is missing or empty")
        for action in actions:
            if not isinstance(action, dict):
                raise Rejected(400, "block_actions: an action is not an object")
            _string(action, "action_id", "block_actions action")
            _optional(action, "value", str, "block_actions action")
            if "selected_option" in action:
                _string(
                    _object(action, "selected_option", "block_actions action"),
                    "value",
                    "block_actions selected_option",
                )
    submitted = kind in ("view_submission", "view_closed")
    if submitted or data.get("view") is not None:
        _check_view(_object(data, "view", kind), submitted=submitted)


def _check_view(view: Mapping[str, Any], *, submitted: bool) -> None:
    _string(view, "type", "view")
    if submitted:
        _string(view, "callback_id", "view")
    _optional(view, "callback_id", str, "view")
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str):
        raise Rejected(400, "view: 'private_metadata' is not a string")
    if metadata:
        try:
            parsed = json.loads(metadata)
        except (ValueError, RecursionError):
            raise Rejected(400, "view: 'private_metadata' is not JSON") from None
        if not isinstance(parsed, dict):
            raise Rejected(400, "view: 'private_metadata' is not a JSON object")
    if "state" in view:
        values = _object(view, "state", "view").get("values", {})
        if not isinstance(values, dict) or not all(
            isinstance(block, dict) and all(isinstance(leaf, dict) for leaf in block.values())
            for block in values.values()
        ):
            raise Rejected(400, "view: 'state.values' is not objects of objects")


def _check_event(data: Mapping[str, Any]) -> None:
    event = _object(data, "event", "event_callback")
    kind = _string(event, "type", "event")
    authorizations = data.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise Rejected(400, "event_callback: 'authorizations' is not a list of objects")
    _objects(data, _NESTED, "event_callback")
    _objects(event, _NESTED, f"{kind} event")
    _string(data, "event_id", "event_callback")
    for name in ("user", "text", "channel", "ts", "thread_ts", "channel_type", "subtype"):
        _optional(event, name, str, f"{kind} event")
    if kind in _EVENTS_WITH_USER:
        _string(event, "user", f"{kind} event")


def check_response_urls(data: Mapping[str, Any], base: str) -> None:
    """Raise `Rejected(400)` unless every `response_url` of a payload lies under `base`."""
    urls: list[Any] = []
    if "response_url" in data:
        urls.append(data["response_url"])
    listed = data.get("response_urls", [])
    if not isinstance(listed, list) or not all(isinstance(u, dict) for u in listed):
        raise Rejected(400, "'response_urls' is not a list of objects")
    urls.extend(u.get("response_url") for u in listed)
    for url in urls:
        if not isinstance(url, str) or not is_allowed_response_url(url, base):
            raise Rejected(400, "a response_url is not on Slack's response host")


def is_allowed_response_url(url: str, base: str = SLACK_RESPONSE_URL_BASE) -> bool:
    """Return whether `url` has the scheme, host and port of `base` and a path under it."""
    try:
        got, want = urlsplit(url), urlsplit(base)
        same_port = got.port == want.port
    except ValueError:
        return False
    return (
        got.scheme == want.scheme
        and got.hostname == want.hostname
        and same_port
        and not got.username
        and not got.password
        and got.path.startswith(want.path or "/")
    )
