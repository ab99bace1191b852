"""The pages beside Slack's events: health, readiness and metrics, and in HTTP mode the installs.

Socket Mode serves them from a WSGI app of their own (`create_wsgi`); HTTP mode hands them to
the verifying front (`front_pages`, `health_reply`, `metrics_guard`).
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.engine import Engine

from bot.front import Guard, Page, Reply
from bot.services.metrics import metrics_app, scrape_refusal
from bot.services.readiness import readiness
from bot.settings import Settings
from storage.db import session_scope
from storage.health import check_writable
from storage.rules import current_revision

log = logging.getLogger("clearance.serve")
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def health_reply(engine: Engine, mode: str) -> tuple[int, dict[str, str], bytes]:
    """Answer GET /healthz: 200 with the revision, or 503 when the database is unavailable."""
    try:
        with session_scope(engine) as session:
            revision = current_revision(session=session)
        check_writable(engine)  # answers are audited: a database that takes no writes is down
    except Exception:
        log.exception("health check: database unavailable")
        return 503, {"content-type": "application/json"}, b'{"ok": false}'
    data = {"ok": True, "mode": mode, "revision": revision, "worker": os.getpid()}
    return 200, {"content-type": "application/json"}, json.dumps(data).encode()


def metrics_guard(settings: Settings) -> Guard:
    """Return the check GET /metrics passes first: the bearer token, or a local client."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    def guard(peer: str | None, headers: dict[str, list[str]]) -> Reply | None:
        refused = scrape_refusal(token, peer, {k: ", ".join(v) for k, v in headers.items()})
        if refused is None:
            return None
        status, reason = refused
        out = {"content-type": "application/json"}
        if status == 401:
            out["www-authenticate"] = 'Bearer realm="metrics"'
        return status, out, json.dumps({"ok": False, "error": reason}).encode()

    return guard


def create_wsgi(
    app: App, engine: Engine, *, max_body: int, mode: str, guard: Guard | None = None
) -> WSGIApp:
    """Return the WSGI app of Socket Mode's health server: /healthz, /readyz and /metrics.

    Slack requests never come this way in Socket Mode, and without a signing secret nothing
    here could verify them.
    """
    metrics = metrics_app(engine)

    def reply(start: StartResponse, status: str, data: dict[str, Any]) -> Iterable[bytes]:
        body = json.dumps(data).encode()
        start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def wsgi(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, _headers, body = health_reply(engine, mode)
            reason = "200 OK" if status == 200 else "503 Service Unavailable"
            return reply(start, reason, json.loads(body))
        if path == "/metrics" and method in ("GET", "HEAD"):
            headers = {
                k[5:].lower().replace("_", "-"): [str(v)]
                for k, v in environ.items()
                if k.startswith("HTTP_")
            }
            refused = guard(environ.get("REMOTE_ADDR"), headers) if guard else None
            if refused is not None:
                status, out, body = refused
                start(f"{status} {HTTPStatus(status).phrase}", list(out.items()))
                return [body]
            return metrics(environ, start)
        if path == "/readyz" and method in ("GET", "HEAD"):
            ready, state = readiness(engine)
            return reply(start, "200 OK" if ready else "503 Service Unavailable", state)
        return reply(start, "404 Not Found", {"ok": False, "error": "not_found"})

    return wsgi


def front_pages(app: App, engine: Engine) -> dict[str, Page]:
    """Return the GET pages of HTTP mode beside Slack's events: readiness, metrics, installs."""
    metrics = metrics_app(engine)

    def ready(_query: str, _headers: dict[str, list[str]]) -> Reply:
        ok, state = readiness(engine)
        return 200 if ok else 503, {"content-type": "application/json"}, json.dumps(state).encode()

    def scrape(query: str, headers: dict[str, list[str]]) -> Reply:
        return _call_wsgi(metrics, "/metrics", query, headers)

    pages: dict[str, Page] = {"/readyz": ready, "/metrics": scrape}
    flow = app.oauth_flow
    if flow is not None:  # multi-workspace installs: Bolt's OAuth flow answers these two

        def oauth(handle: Callable[[BoltRequest], BoltResponse]) -> Page:
            def page(query: str, headers: dict[str, list[str]]) -> Reply:
                response = handle(BoltRequest(body="", query=query, headers=dict(headers)))
                out = {k: ", ".join(v) for k, v in response.headers.items()}
                out.pop("content-length", None)
                return response.status, out, response.body.encode("utf-8")

            return page

        pages[flow.install_path] = oauth(flow.handle_installation)
        pages[flow.redirect_uri_path] = oauth(flow.handle_callback)
    return pages


def _call_wsgi(wsgi: WSGIApp, path: str, query: str, headers: dict[str, list[str]]) -> Reply:
    """Run a small WSGI app (prometheus-client's) for one GET and return its reply."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(),
        **{"HTTP_" + k.upper().replace("-", "_"): ", ".join(v) for k, v in headers.items()},
    }
    got: dict[str, Any] = {}

    def start(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        got["status"], got["headers"] = int(status.split()[0]), dict(response_headers)

    body = b"".join(wsgi(environ, start))
    got["headers"].pop("Content-Length", None)
    return got["status"], got["headers"], body
