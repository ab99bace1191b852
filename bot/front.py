"""The ASGI front of HTTP mode: whole requests buffered under a deadline, checked, then handed on.

The event loop only reads bytes, so a slow or idle client holds a socket and nothing else. A
request reaches a thread only once its whole body is in, and Bolt only once its signature and
shape have passed (`bot.verification`); everything refused is answered here and logged in one
short line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from slack_bolt import App, BoltRequest

from bot.commit_watch import CommitWatch
from bot.services.held_answers import HELD_ANSWER, HeldAnswer
from bot.verification import (
    FRONT_CHECKED,
    Rejected,
    check_shape,
    parse_body,
    verify_signature,
)

if TYPE_CHECKING:
    from bot.answerer import Answerer

log = logging.getLogger("clearance.front")
EVENTS_PATH = "/slack/events"
# A decision link (<CLEARANCE_PUBLIC_URL>/decisions/<id>): Slack unfurls it to its card.
DECISION_PATH = re.compile(r"/decisions/([0-9a-f]{8,40})/?")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Reply = tuple[int, dict[str, str], bytes]
# A GET page: given the query string and the request headers, its reply (on a worker thread).
Page = Callable[[str, dict[str, list[str]]], Reply]
# Who may GET a page: given the client's address and the headers, a refusal or None.
Guard = Callable[[str | None, dict[str, list[str]]], Reply | None]


def _decision_page(decision_id: str) -> Reply:
    """A decision link opened in a browser: where to see it, and nothing of the answer itself.

    The page has no sign-in, so the answer (customer, verdict, rules) stays in Slack, where the
    link unfurls to its card for members of the workspace that asked.
    """
    html = (
        "<!doctype html><html><head><meta charset=utf-8><title>Clearance decision</title>"
        "</head><body><h1>Clearance decision " + decision_id + "</h1><p>Paste this link in "
        "Slack to see its answer card; admins find it in the audit log "
        "(<code>/clearance audit</code>). This page shows nothing of the answer.</p>"
        "</body></html>"
    )
    headers = {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"}
    return 200, headers, html.encode()


def _json(status: int, data: dict[str, Any]) -> Reply:
    return status, {"content-type": "application/json"}, orjson.dumps(data)


@dataclass
class SlackFront:
    """Serve `POST /slack/events` (to Bolt) and the GET `pages` (health, metrics...) as ASGI."""

    app: App
    health: Callable[[], Reply]
    secret: str
    response_url_base: str
    max_body: int = 1_000_000
    body_timeout_s: float = 10.0
    threads: int = 8
    clock: Callable[[], float] = time.time
    pages: dict[str, Page] = field(default_factory=dict)
    guards: dict[str, Guard] = field(default_factory=dict)
    answerer: Answerer | None = None  # answers questions in a process of its own
    _pool: ThreadPoolExecutor = field(init=False)
    _commits: CommitWatch | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        status, headers, body = await self._answer(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.answerer is not None:
                    await self.answerer.connect()  # so its end is noticed before any question
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._pool.shutdown(wait=False, cancel_futures=True)
                if self.answerer is not None:
                    self.answerer.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer(self, scope: Scope, receive: Receive) -> Reply:
        path, method = scope.get("path", ""), scope.get("method", "")
        loop = asyncio.get_running_loop()
        if path == "/healthz" and method in ("GET", "HEAD"):
            return await loop.run_in_executor(self._pool, self.health)
        page = self.pages.get(path)
        if page is not None and method in ("GET", "HEAD"):
            guard = self.guards.get(path)
            peer = (scope.get("client") or (None, 0))[0]
            refused = guard(peer, _headers(scope)) if guard is not None else None
            if refused is not None:
                return refused
            query = scope.get("query_string", b"").decode("latin-1")
            return await loop.run_in_executor(self._pool, page, query, _headers(scope))
        decision = DECISION_PATH.fullmatch(path)
        if decision is not None and method in ("GET", "HEAD"):
            return _decision_page(decision.group(1))
        if path != EVENTS_PATH:
            return _json(404, {"ok": False, "error": "not_found"})
        if method != "POST":
            return _json(405, {"ok": False})
        headers = _headers(scope)
        try:
            body = await self._read_body(headers, receive)
        except Rejected as exc:
            return self._refuse(exc, scope, 0)
        answerer = self.answerer
        if answerer is not None and not answerer.reading:
            await answerer.connect()  # a process started again, or a server without lifespan
        held = HeldAnswer(ask_elsewhere=answerer.ask if answerer and answerer.ready else None)
        reply = await loop.run_in_executor(self._pool, self._handle, scope, headers, body, held)
        if held.committed is None:
            return reply
        return await self._after_commit(held)

    async def _after_commit(self, held: HeldAnswer) -> Reply:
        """Send a held answer once its decision is committed, or what to say instead."""
        assert held.committed is not None
        loop = asyncio.get_running_loop()
        if self._commits is None or self._commits.loop is not loop:
            self._commits = CommitWatch(loop)
        if not await self._commits.wait(held.committed, held.budget_s):
            return _json(200, held.late())
        exc = held.committed.exception()
        if exc is not None:
            return _json(200, held.failed(exc))
        if held.reply is None:  # the answer process's reply, encoded there
            return 200, {"content-type": "application/json"}, held.committed.result()
        return _json(200, held.reply)

    async def _read_body(self, headers: dict[str, list[str]], receive: Receive) -> bytes:
        length = (headers.get("content-length") or ["0"])[0]
        if not length.isascii() or not length.isdigit():
            raise Rejected(400, "malformed Content-Length")
        if int(length) > self.max_body:
            raise Rejected(413, f"body over {self.max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise Rejected(400, "client went away before sending its body")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        raise Rejected(413, f"body over {self.max_body} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body"):
                        return b"".join(chunks)
        except TimeoutError:
            raise Rejected(408, f"body not received within {self.body_timeout_s:g} s") from None

    def _handle(
        self, scope: Scope, headers: dict[str, list[str]], body: bytes, held: HeldAnswer
    ) -> Reply:
        """Verify, check and dispatch one buffered request (on a worker thread)."""
        try:
            verify_signature(self.secret, headers, body, now=self.clock())
            content_type = next(iter(headers.get("content-type") or ()), None)
            check_shape(parse_body(body, content_type), response_url_base=self.response_url_base)
        except Rejected as exc:
            return self._refuse(exc, scope, len(body))
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            response = self.app.dispatch(
                BoltRequest(
                    body=body.decode("utf-8"),
                    query=query,
                    headers=dict(headers),
                    context={FRONT_CHECKED: True, HELD_ANSWER: held},
                )
            )
        except Exception:
            error_id = uuid.uuid4().hex[:10]
            log.exception("error %s while dispatching a verified request", error_id)
            return _json(500, {"ok": False, "error_id": error_id})
        out = {k: ", ".join(v) for k, v in response.headers.items() if k != "content-length"}
        return response.status, out, response.body.encode("utf-8")

    def _refuse(self, exc: Rejected, scope: Scope, size: int) -> Reply:
        error_id = uuid.uuid4().hex[:10]
        client = scope.get("client") or ("?", 0)
        log.warning(
            "rejected request %s: %s %s (%s; %d bytes from %s, worker %s)",
            error_id,
            exc.status,
            scope.get("path", "")[:80],
            exc.reason,
            size,
            client[0],
            os.getpid(),
        )
        if exc.status == 401:
            return _json(401, {"error": "invalid request"})
        return _json(exc.status, {"ok": False, "error": exc.reason, "error_id": error_id})


def _headers(scope: Scope) -> dict[str, list[str]]:
    """Return the request headers as lower-case names to every value sent."""
    out: dict[str, list[str]] = {}
    for name, value in scope.get("headers", ()):
        out.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return out
