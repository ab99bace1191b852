"""A local fake of the Slack platform for end-to-end tests.

`FakeSlack` is a threaded stdlib HTTP server that speaks enough of the Slack Web API for the bot
(`base_url` is handed to the bot's `WebClient`), records every request, accepts `response_url`
POSTs and can inject failures (429 + Retry-After, 5xx, `ok: false` errors, dropped connections).

`FakeSocketMode` is a WebSocket server (the `websockets` sync API) that plays Slack's Socket Mode
side: it greets each connection with `hello`, sends envelopes and collects the bot's acks. Attach
it to a `FakeSlack` so that `apps.connections.open` hands its URL out.

Everything binds to 127.0.0.1 on a free port, runs in daemon threads, and every wait is bounded:
synchronisation goes through `threading.Condition`, never through sleeps.

    with FakeSlack(socket_mode=FakeSocketMode()) as slack:
        ...  # start the bot with SLACK_API_URL=slack.base_url
        slack.socket_mode.wait_connected(10)
        eid = slack.socket_mode.send_envelope("slash_commands", {...})
        ack = slack.socket_mode.wait_ack(eid)
        (post,) = slack.wait_for("chat.postMessage")
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, quote, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from tests.support.block_kit import attachment_problem, attachments_problem

__all__ = ["Call", "FakeSlack", "FakeSocketMode"]

log = logging.getLogger(__name__)

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
APP_ID = "A1"

# Arguments that slack_sdk (or a caller) may send as JSON text inside a form body.
_JSON_ARGS = frozenset(
    {
        "blocks",
        "attachments",
        "metadata",
        "view",
        "unfurls",
        "user_auth_blocks",
        "user_auth_message",
    }
)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    `method` is the Web API method (`chat.postMessage`) or `response_url:<name>`; `args` the decoded
    arguments (query string and body merged, JSON-in-form fields decoded); `headers` the request
    headers with lower-cased names; `status` the HTTP status answered (0: connection dropped).
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    response: dict[str, Any] | None = None

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = self.args.get("token")
        return str(token) if token else None


@dataclass
class _Injection:
    kind: str  # "status" | "error" | "crash"
    status: int = 200
    retry_after: int | None = None
    error: str = ""


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_ARGS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    prefix = f"Content-Type: {content_type}\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(prefix + body)
    out: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        out[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return out


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSlack


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            message = format % args
            log.debug("fake slack: %s", message)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _read_args(self) -> dict[str, Any]:
        split = urlsplit(self.path)
        args: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        ctype = self.headers.get("Content-Type", "")
        if body:
            lowered = ctype.lower()
            if lowered.startswith("application/json"):
                parsed = json.loads(body.decode("utf-8"))
                if isinstance(parsed, dict):
                    args.update(parsed)
                else:
                    args["_json"] = parsed
            elif lowered.startswith("multipart/form-data"):
                args.update(_parse_multipart(ctype, body))
            elif lowered.startswith("application/x-www-form-urlencoded") or not lowered:
                args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            else:
                args["_raw"] = body.decode("utf-8", "replace")
        return _decode_json_args(args)

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            args = self._read_args()
        except (ValueError, UnicodeDecodeError) as exc:
            self._send(400, {"ok": False, "error": "invalid_json", "detail": str(exc)})
            return
        fake = self.server.fake
        if path.startswith("/api/"):
            method = path[len("/api/") :].strip("/")
        elif path.startswith("/respond/"):
            method = "response_url:" + path[len("/respond/") :].strip("/")
        else:
            fake._record(Call(f"unknown_path:{path}", args, headers, 404, None))
            self._send(404, {"ok": False, "error": "not_found"})
            return

        injection = fake._take_injection(method)
        if injection is not None:
            self._answer_injection(fake, method, args, headers, injection)
            return
        status, payload, extra = fake._handle(method, args, headers)
        fake._record(Call(method, args, headers, status, payload))
        if method.startswith("response_url:") and status == 200:
            self._send_text(200, "ok")
        else:
            self._send(status, payload, extra)

    def _answer_injection(
        self,
        fake: FakeSlack,
        method: str,
        args: dict[str, Any],
        headers: dict[str, str],
        inj: _Injection,
    ) -> None:
        if inj.kind == "crash":
            fake._record(Call(method, args, headers, 0, None))
            self.close_connection = True
            # No status line at all: the client sees RemoteDisconnected / connection reset.
            return
        if inj.kind == "error":
            payload = {"ok": False, "error": inj.error}
            fake._record(Call(method, args, headers, 200, payload))
            self._send(200, payload)
            return
        extra: dict[str, str] = {}
        if inj.status == 429:
            payload = {"ok": False, "error": "ratelimited"}
            if inj.retry_after is not None:
                extra["Retry-After"] = str(inj.retry_after)
        else:
            payload = {
                "ok": False,
                "error": "fatal_error" if inj.status >= 500 else "request_failed",
            }
            if inj.retry_after is not None:
                extra["Retry-After"] = str(inj.retry_after)
        fake._record(Call(method, args, headers, inj.status, payload))
        self._send(inj.status, payload, extra)

    def _send(
        self, status: int, payload: Mapping[str, Any], extra: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeSlack:
    """A fake Slack Web API + response_url endpoint on 127.0.0.1 (see module docstring).

    State that tests may read or preconfigure: `users` (id -> user object for `users.info`;
    unknown ids get a synthesised user), `usergroups` (group id -> member ids),
    `messages` (channel -> chronological list of posted message dicts), `calls`.
    `on(method, handler)` overrides a method's answer entirely.
    """

    def __init__(
        self,
        *,
        socket_mode: FakeSocketMode | None = None,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        usergroups: Mapping[str, list[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.socket_mode = socket_mode
        self.users: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (users or {}).items()}
        self.usergroups: dict[str, list[str]] = {k: list(v) for k, v in (usergroups or {}).items()}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._clock = clock
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._injections: dict[str, deque[_Injection]] = defaultdict(deque)
        self._fired: list[tuple[str, str]] = []
        self._handlers: dict[str, Handler] = {}
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        # OAuth (oauth.v2.access): code -> the workspace it installs into; refresh tokens.
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.token_lifetime_s: int | None = None  # set: tokens rotate (expires_in, refresh)
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        # Tokens granted by oauth.v2.access -> their grant; revoked tokens; channel -> its team.
        # A token granted for one workspace cannot reach another's channels (channel_not_found).
        self.granted: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()
        self.channel_teams: dict[str, str] = {}
        self.team_enterprises: dict[str, str | None] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Bind 127.0.0.1:0 and serve in a daemon thread (also starts an attached socket mode)."""
        if self._server is not None:
            return self
        server = _HTTPServer(("127.0.0.1", 0), _RequestHandler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        if self.socket_mode is not None:
            self.socket_mode.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); also stops an attached socket mode server."""
        if self.socket_mode is not None:
            self.socket_mode.stop()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def attach_socket_mode(self, socket_mode: FakeSocketMode) -> FakeSocketMode:
        """Make `apps.connections.open` hand out `socket_mode`'s URL (starting it if needed)."""
        self.socket_mode = socket_mode
        if self._server is not None:
            socket_mode.start()
        return socket_mode

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def base_url(self) -> str:
        """What the bot's `WebClient(base_url=...)` must be set to."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        """A response_url whose POSTs are recorded as calls of method `response_url:<name>`."""
        return f"http://127.0.0.1:{self.port}/respond/{quote(name, safe='')}"

    # ------------------------------------------------------------------ recording

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request received so far, in arrival order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until at least `count` calls of `method` (matching `where`) arrived; return them.

        Raises AssertionError listing what did arrive when `timeout` seconds pass first.
        """

        def matching() -> list[Call]:
            return [c for c in self._calls if c.method == method and (where is None or where(c))]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                return matching()
            got = matching()
            listing = "\n".join(
                f"  {c.method} [{c.status}] {_short(c.args)}" for c in self._calls[-40:]
            )
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} call(s) to {method!r} "
            f"(got {len(got)}); {len(self._calls)} call(s) arrived:\n{listing or '  (none)'}"
        )

    def reset(self) -> None:
        """Forget recorded calls, pending/fired injections, posted messages and overrides."""
        with self._cond:
            self._calls.clear()
            self._injections.clear()
            self._fired.clear()
            self._handlers.clear()
            self.messages.clear()

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self, method: str, status: int = 429, retry_after: int | None = 1, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with HTTP `status` (429 adds Retry-After)."""
        self._inject(method, _Injection("status", status=status, retry_after=retry_after), times)

    def error_next(self, method: str, error: str = "not_in_channel", times: int = 1) -> None:
        """Answer the next `times` calls of `method` with HTTP 200 `{"ok": false, "error": ...}`."""
        self._inject(method, _Injection("error", error=error), times)

    def crash_on(self, method: str, times: int = 1) -> None:
        """Drop the connection without any response on the next `times` calls of `method`."""
        self._inject(method, _Injection("crash"), times)

    def pending_injections(self, method: str | None = None) -> int:
        with self._cond:
            if method is not None:
                return len(self._injections.get(method, ()))
            return sum(len(q) for q in self._injections.values())

    @property
    def fired_injections(self) -> list[tuple[str, str]]:
        """(method, kind) of every injection that has been used, in order."""
        with self._cond:
            return list(self._fired)

    def on(self, method: str, handler: Handler | None) -> None:
        """Answer `method` with `handler(args)` (a JSON dict) instead of the built-in behaviour."""
        with self._cond:
            if handler is None:
                self._handlers.pop(method, None)
            else:
                self._handlers[method] = handler

    def _inject(self, method: str, injection: _Injection, times: int) -> None:
        with self._cond:
            for _ in range(times):
                self._injections[method].append(injection)

    def _take_injection(self, method: str) -> _Injection | None:
        with self._cond:
            queue = self._injections.get(method)
            if not queue:
                return None
            inj = queue.popleft()
            self._fired.append((method, inj.kind if inj.kind != "status" else str(inj.status)))
            return inj

    # ------------------------------------------------------------------ state helpers

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        user = self._default_user(user_id)
        user.update(fields)
        self.users[user_id] = user
        return user

    def history(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to `channel`, oldest first (copies)."""
        with self._cond:
            return [dict(m) for m in self.messages.get(channel, [])]

    def next_ts(self) -> str:
        """A unique, strictly increasing Slack-style ts (`"1700000000.000100"` format)."""
        with self._cond:
            now_us = int(self._clock() * 1_000_000)
            ts_us = max(now_us, self._last_ts_us + 100)
            self._last_ts_us = ts_us
        return f"{ts_us // 1_000_000}.{ts_us % 1_000_000:06d}"

    @staticmethod
    def _default_user(user_id: str) -> dict[str, Any]:
        name = user_id.lower()
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_admin": False,
            "tz": "UTC",
            "tz_offset": 0,
            "profile": {
                "real_name": f"User {user_id}",
                "display_name": name,
                "email": f"{name}@example.com",
            },
        }

    # ------------------------------------------------------------------ Web API

    def _handle(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method.startswith("response_url:"):
            problem = attachments_problem(args.get("attachments"))
            if problem:
                return 400, {"ok": False, "error": problem}, {}
            return 200, {"ok": True}, {}
        with self._cond:
            override = self._handlers.get(method)
        if override is not None:
            return 200, override(args), {}
        impl = _METHODS.get(method)
        if impl is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        if method == "oauth.v2.access":  # client credentials, not a token
            return 200, self._oauth_v2_access(args, headers), {}
        auth = Call(method, args, headers).token
        if not auth:
            return 200, {"ok": False, "error": "not_authed"}, {}
        is_app_token = auth.startswith("xapp-")
        if (method == "apps.connections.open") != is_app_token:
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        if not auth.startswith(("xoxb-", "xoxp-", "xapp-", "xoxe.")):
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if auth in self.revoked:
            return 200, {"ok": False, "error": "token_revoked"}, {}
        if not self._may_reach(auth, self._channel_of(args)):
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if method in _MESSAGE_METHODS:
            problem = attachments_problem(args.get("attachments"))
            if problem:
                return 200, {"ok": False, "error": problem}, {}
        extra: dict[str, str] = {}
        if method == "auth.test":
            extra["x-oauth-scopes"] = (
                "commands,chat:write,users:read,usergroups:read,channels:history"
            )
        return 200, impl(self, args), extra

    def add_channel(self, channel: str, team_id: str, enterprise_id: str | None = None) -> None:
        """Make `channel` belong to a workspace: only tokens granted there may use it."""
        with self._cond:
            self.channel_teams[channel] = team_id
            self.team_enterprises.setdefault(team_id, enterprise_id)

    def revoke(self, token: str) -> None:
        """Revoke a token (the app was uninstalled): calls with it answer `token_revoked`."""
        with self._cond:
            self.revoked.add(token)

    def _may_reach(self, token: str, channel: str) -> bool:
        """Whether a granted token's workspace (or Enterprise Grid org) holds the channel."""
        with self._cond:
            grant, team = self.granted.get(token), self.channel_teams.get(channel)
            if grant is None or team is None:
                return True  # a configured token, or a channel of no particular workspace
            if grant.get("org_wide"):
                return grant.get("enterprise_id") == self.team_enterprises.get(team)
            return bool(grant.get("team_id") == team)

    def _channel_of(self, args: Mapping[str, Any]) -> str:
        channel = str(args.get("channel") or "")
        if channel[:1] in ("U", "W"):  # posting to a user id lands in the DM with them
            return "D" + channel
        return channel

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "clearance",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, args: Mapping[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": str(args.get("text") or ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key) not in (None, ""):
                msg[key] = args[key]
        if _truthy(args.get("reply_broadcast", False)):
            msg["subtype"] = "thread_broadcast"
        return msg

    def _api_chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        msg = self._message(args, ts)
        with self._cond:
            self.messages[channel].append(msg)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(msg)}

    def _api_chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self.next_ts()}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        ts = str(args.get("ts") or "")
        with self._cond:
            found = next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            for key in ("text", "blocks", "attachments", "metadata"):
                if key in args:
                    found[key] = args[key]
            found["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
            msg = dict(found)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": msg.get("text", ""),
            "message": msg,
        }

    def _api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        ts = str(args.get("ts") or "")
        with self._cond:
            msgs = self.messages.get(channel, [])
            for i, m in enumerate(msgs):
                if m["ts"] == ts:
                    del msgs[i]
                    return {"ok": True, "channel": channel, "ts": ts}
        return {"ok": False, "error": "message_not_found"}

    def _api_chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        ts = str(args.get("message_ts") or "")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake-team.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _view(self, args: Mapping[str, Any], view_id: str | None = None) -> dict[str, Any]:
        raw = args.get("view")
        view: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        n = next(self._ids)
        view.setdefault("type", "modal")
        view.setdefault("blocks", [])
        view.setdefault("private_metadata", "")
        view.setdefault("callback_id", "")
        view.update(
            {
                "id": view_id or f"V{n:08d}",
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "hash": f"{int(self._clock())}.{n:08d}",
                "state": {"values": {}},
                "root_view_id": view_id or f"V{n:08d}",
                "previous_view_id": None,
            }
        )
        return view

    def install_code(
        self,
        code: str,
        team_id: str,
        *,
        enterprise_id: str | None = None,
        user_id: str = "UINSTALLER",
        org_wide: bool = False,
    ) -> None:
        """Make `code` a valid OAuth code installing the app into a workspace (or an org)."""
        self.oauth_codes[code] = {
            "team_id": team_id,
            "enterprise_id": enterprise_id,
            "user_id": user_id,
            "org_wide": org_wide,
        }

    def _oauth_grant(self, grant: Mapping[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        token = f"xoxb-{grant['team_id'] or grant['enterprise_id']}-{n}"
        enterprise = grant.get("enterprise_id")
        org_wide = bool(grant.get("org_wide"))
        with self._cond:
            self.granted[token] = dict(grant)
            if grant.get("team_id"):
                self.team_enterprises[grant["team_id"]] = enterprise
        answer: dict[str, Any] = {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": BOT_USER_ID,
            "app_id": APP_ID,
            "team": None
            if org_wide
            else {"id": grant["team_id"], "name": f"Team {grant['team_id']}"},
            "enterprise": {"id": enterprise, "name": f"Org {enterprise}"} if enterprise else None,
            "is_enterprise_install": org_wide,
            "authed_user": {"id": grant["user_id"]},
        }
        if self.token_lifetime_s is not None:
            refresh = f"xoxe-1-{n}"
            self.refresh_tokens[refresh] = dict(grant)
            answer["refresh_token"] = refresh
            answer["expires_in"] = self.token_lifetime_s
        return answer

    def _oauth_v2_access(self, args: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        # https://api.slack.com/methods/oauth.v2.access: client_id + client_secret (form or
        # HTTP Basic), then a code, or grant_type=refresh_token (token rotation; single use).
        if not (args.get("client_id") and args.get("client_secret")) and not headers.get(
            "authorization", ""
        ).lower().startswith("basic "):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            grant = self.refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
            if grant is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return self._oauth_grant(grant)
        grant = self.oauth_codes.pop(str(args.get("code") or ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        return self._oauth_grant(grant)

    def _api_chat_unfurl(self, args: dict[str, Any]) -> dict[str, Any]:
        # https://api.slack.com/methods/chat.unfurl: channel + ts (or unfurl_id + source) and a
        # JSON map of each shared URL to its attachment or blocks.
        if not (args.get("channel") and args.get("ts")) and not args.get("unfurl_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("unfurls"), Mapping):
            return {"ok": False, "error": "invalid_unfurls_format"}
        # Each unfurl is an attachment (colour, blocks...).
        for unfurl in args["unfurls"].values():
            if attachment_problem(unfurl):
                return {"ok": False, "error": "invalid_unfurls_format"}
        return {"ok": True}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("view"), Mapping):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(args)}

    def _api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._api_views_open(args)

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("view_id") and not args.get("external_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("view"), Mapping):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = str(args.get("view_id") or "")
        return {"ok": True, "view": self._view(args, view_id or None)}

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user_id") or not isinstance(args.get("view"), Mapping):
            return {"ok": False, "error": "invalid_arguments"}
        view = self._view(args)
        view["type"] = "home"
        return {"ok": True, "view": view}

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        inclusive = _truthy(args.get("inclusive", False))
        oldest = float(args.get("oldest") or 0)
        latest = float(args["latest"]) if args.get("latest") else None
        limit = int(args.get("limit") or 100)
        offset = int(args.get("cursor") or 0)
        with_meta = _truthy(args.get("include_all_metadata", False))

        def visible(m: Mapping[str, Any]) -> bool:
            thread_ts = m.get("thread_ts")
            if thread_ts and thread_ts != m["ts"] and m.get("subtype") != "thread_broadcast":
                return False
            ts = float(m["ts"])
            lo = ts >= oldest if inclusive else ts > oldest
            hi = latest is None or (ts <= latest if inclusive else ts < latest)
            return lo and hi

        with self._cond:
            found = [dict(m) for m in reversed(self.messages.get(channel, [])) if visible(m)]
        page = found[offset : offset + limit]
        if not with_meta:
            for m in page:
                m.pop("metadata", None)
        has_more = offset + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(offset + limit) if has_more else ""},
        }

    def _api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        ts = str(args.get("ts") or "")
        with self._cond:
            msgs = [
                dict(m)
                for m in self.messages.get(channel, [])
                if m["ts"] == ts or m.get("thread_ts") == ts
            ]
        if not msgs:
            return {"ok": False, "error": "thread_not_found"}
        if not _truthy(args.get("include_all_metadata", False)):
            for m in msgs:
                m.pop("metadata", None)
        return {"ok": True, "messages": msgs, "has_more": False}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": str(args["channel"])}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            return {"ok": True, "channel": {"id": "D" + users[0], "is_im": True, "user": users[0]}}
        return {"ok": True, "channel": {"id": "G" + "".join(sorted(users)), "is_mpim": True}}

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_member": True,
            },
        }

    def _api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._api_conversations_info(args)

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        with self._cond:
            user = self.users.get(user_id)
        return {"ok": True, "user": dict(user) if user else self._default_user(user_id)}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup") or "")
        with self._cond:
            members = self.usergroups.get(group)
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        sm = self.socket_mode
        if sm is None or not sm.running:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        ticket = uuid.uuid4().hex
        return {"ok": True, "url": f"{sm.url}?ticket={ticket}&app_id={APP_ID}"}


# Methods whose `attachments` Slack checks (https://docs.slack.dev/reference/methods/chat.postMessage).
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})

_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._api_auth_test,
    "chat.postMessage": FakeSlack._api_chat_post_message,
    "chat.postEphemeral": FakeSlack._api_chat_post_ephemeral,
    "chat.update": FakeSlack._api_chat_update,
    "chat.delete": FakeSlack._api_chat_delete,
    "chat.getPermalink": FakeSlack._api_chat_get_permalink,
    "chat.unfurl": FakeSlack._api_chat_unfurl,
    "oauth.v2.access": lambda fake, args: {"ok": False, "error": "invalid_code"},
    "views.open": FakeSlack._api_views_open,
    "views.push": FakeSlack._api_views_push,
    "views.update": FakeSlack._api_views_update,
    "views.publish": FakeSlack._api_views_publish,
    "conversations.history": FakeSlack._api_conversations_history,
    "conversations.replies": FakeSlack._api_conversations_replies,
    "conversations.open": FakeSlack._api_conversations_open,
    "conversations.info": FakeSlack._api_conversations_info,
    "conversations.join": FakeSlack._api_conversations_join,
    "users.info": FakeSlack._api_users_info,
    "usergroups.users.list": FakeSlack._api_usergroups_users_list,
    "apps.connections.open": FakeSlack._api_apps_connections_open,
}


def _short(args: Mapping[str, Any], limit: int = 160) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(eq=False)
class _Client:
    conn: ServerConnection
    query: str
    connected_at: float = field(default_factory=time.monotonic)


class FakeSocketMode:
    """Slack's side of Socket Mode: a WebSocket server at `ws://127.0.0.1:PORT/link`.

    Every connection is greeted with a `hello`; `send_envelope` delivers to the newest open
    connection (Slack delivers each envelope to one connection); every JSON text message the bot
    sends is kept in `received`, and acks (messages with an `envelope_id`) are matched by
    `wait_ack`.

    The server pings every `ping_interval` seconds (default 0.5). Besides keepalive this matters
    for slack_sdk's builtin client: its `Connection.disconnect()` waits for the receiver thread's
    lock, held across a blocking `recv` with a 3 s timeout, so closing or replacing a session
    (after `disconnect`) stalls up to 3 s on a silent socket; frequent pings cut that short.
    """

    def __init__(self, *, app_id: str = APP_ID, ping_interval: float | None = 0.5) -> None:
        self.app_id = app_id
        self._ping_interval = ping_interval
        self._cond = threading.Condition()
        self._clients: list[_Client] = []
        self._connections_total = 0
        self._acks: dict[str, dict[str, Any]] = {}
        self._received: list[dict[str, Any]] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._server = serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            compression=None,
            ping_interval=self._ping_interval,
            open_timeout=5,
            close_timeout=2,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._cond:
            self._clients.clear()
            self._cond.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    # ------------------------------------------------------------------ server side

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        # slack_sdk's builtin client always sends "GET {path}?{query}", even with an empty query.
        if urlsplit(request.path).path.rstrip("/") != "/link":
            return conn.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    def _handle(self, conn: ServerConnection) -> None:
        client = _Client(conn, urlsplit(conn.request.path if conn.request else "").query)
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {
                "host": "fake-socket-mode",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            conn.send(json.dumps(hello))
        except ConnectionClosed:
            return
        with self._cond:
            self._clients.append(client)
            self._connections_total += 1
            self._cond.notify_all()
        try:
            for raw in conn:
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                try:
                    message = json.loads(text)
                except ValueError:
                    message = {"_raw": text}
                if not isinstance(message, dict):
                    message = {"_json": message}
                with self._cond:
                    self._received.append(message)
                    envelope_id = message.get("envelope_id")
                    if isinstance(envelope_id, str):
                        self._acks.setdefault(envelope_id, message)
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                if client in self._clients:
                    self._clients.remove(client)
                self._cond.notify_all()

    # ------------------------------------------------------------------ test API

    @property
    def connected(self) -> int:
        """Number of currently open connections."""
        with self._cond:
            return len(self._clients)

    @property
    def connections_total(self) -> int:
        """Number of connections accepted since start (reconnects included)."""
        with self._cond:
            return self._connections_total

    @property
    def received(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._received)

    def wait_connected(self, timeout: float = 10.0, count: int = 1) -> None:
        """Block until at least `count` connections are open; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._clients) >= count, timeout=timeout):
                raise AssertionError(
                    f"no Socket Mode client connected within {timeout}s "
                    f"(open: {len(self._clients)}, ever: {self._connections_total})"
                )

    def wait_connections_total(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` connections have been accepted in total (e.g. after a reconnect)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections_total >= count, timeout=timeout):
                raise AssertionError(
                    f"only {self._connections_total} Socket Mode connection(s) within {timeout}s, "
                    f"wanted {count}"
                )

    def send_envelope(
        self,
        type: str,
        payload: Mapping[str, Any],
        retry_attempt: int = 0,
        retry_reason: str = "",
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope (`slash_commands`, `events_api`, `interactive`) and return its id.

        Like Slack: `accepts_response_payload` defaults to False for `events_api` and True
        otherwise; `retry_attempt`/`retry_reason` are included for `events_api` always and for
        other types only when set. Waits up to `timeout` for a connection.
        """
        eid = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": eid,
            "type": type,
            "payload": dict(payload),
            "accepts_response_payload": (
                accepts_response_payload
                if accepts_response_payload is not None
                else type != "events_api"
            ),
        }
        if type == "events_api" or retry_attempt or retry_reason:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self.send_raw(envelope, timeout=timeout)
        return eid

    def send_raw(self, message: Mapping[str, Any], timeout: float = 5.0) -> None:
        """Send any JSON message to the newest open connection."""
        self.wait_connected(timeout)
        with self._cond:
            client = self._clients[-1]
        client.conn.send(json.dumps(message))

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's `disconnect` message; the builtin client then reconnects via a new URL."""
        self.send_raw(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "fake-socket-mode"},
            }
        )

    def close_connections(self, code: int = 1001, reason: str = "") -> None:
        """Close every open WebSocket (server side)."""
        with self._cond:
            clients = list(self._clients)
        for client in clients:
            client.conn.close(code, reason)

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The bot's ack for `envelope_id` (`{"envelope_id": ..., "payload": {...}?}`)."""
        with self._cond:
            if self._cond.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                return self._acks[envelope_id]
            seen = [m.get("envelope_id", m.get("type")) for m in self._received[-20:]]
        raise AssertionError(
            f"no ack for envelope {envelope_id} within {timeout}s; received: {seen}"
        )

    def acks(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return dict(self._acks)
