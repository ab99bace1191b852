"""`clearance serve`: HTTP mode on gunicorn and uvicorn, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, TypeVar

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.domain.errors import BotError
from bot.front import Guard, Page, Reply, SlackFront
from bot.http_worker import worker_class
from bot.services.asking import initialize
from bot.services.change_counter import SharedGeneration
from bot.services.metrics import metrics_app, scrape_refusal
from bot.services.readiness import readiness
from bot.settings import Settings
from storage.db import create_db_engine, session_scope
from storage.health import check_writable, quick_check
from storage.rules import current_revision

log = logging.getLogger("clearance.serve")
EVENTS_PATH = "/slack/events"
BOOT_ATTEMPTS = 5  # 1 + 2 + 4 + 8 s of back-off in all
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
ASGIApp = SlackFront
T = TypeVar("T")


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


def build_front(settings: Settings, *, shared: SharedGeneration | None = None) -> SlackFront:
    """Build one HTTP worker: its app (see `build_worker`) behind the verifying ASGI front."""
    engine = create_db_engine(settings.database_url)
    app, _wsgi = build_worker(settings, engine=engine, shared=shared)
    assert settings.slack_signing_secret is not None  # `require_slack` saw to it
    return SlackFront(
        app,
        health=lambda: health_reply(engine, "http"),
        secret=settings.slack_signing_secret.get_secret_value(),
        response_url_base=settings.response_url_base,
        max_body=settings.max_body_bytes,
        body_timeout_s=settings.http_body_timeout_s,
        threads=settings.web_threads,
        pages=front_pages(app, engine),
        guards={"/metrics": metrics_guard(settings)},
    )


def refuse_damaged(engine: Engine) -> None:
    """Refuse to serve from a SQLite file that `PRAGMA quick_check` finds damaged."""
    from sqlalchemy.exc import DatabaseError

    try:
        problem = quick_check(engine)
    except DatabaseError as exc:  # too damaged for the check itself to run
        problem = str(exc.orig)
    if problem is not None:
        raise BotError(
            f"The SQLite database is damaged ({problem}). Restore it from a backup, or "
            "recover what is readable with `sqlite3 FILE .recover`; Clearance will not serve "
            "answers from it."
        )


def serve(settings: Settings, *, http: bool, host: str, port: int | None) -> None:
    """Run the bot until interrupted."""
    socket_mode = settings.socket_mode() and not http
    settings.require_slack(socket_mode=socket_mode)
    engine = create_db_engine(settings.database_url)
    refuse_damaged(engine)
    # Once, before any worker starts: replicas racing to migrate or seed one new database fail.
    revision = initialize(engine, seed_sources=settings.seed_sources)
    if not socket_mode:
        engine.dispose()  # no connection is inherited by the workers forked from here
        shared = SharedGeneration()  # made before the fork: every worker sees the same one
        run_http(lambda: build_front(settings, shared=shared), host, port or 3000, settings)
        return
    app, wsgi = build_worker(settings, engine=engine, mode="socket")
    log.info("Clearance serving in socket mode at rule-table revision %s", revision)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    if port is not None:  # health endpoint beside the socket, for orchestrators
        threading.Thread(
            target=_waitress, args=(wsgi, host, port, settings), daemon=True, name="healthz"
        ).start()
    from bot.shutdown import run_until_stopped

    run_until_stopped(handler)


def build_worker(
    settings: Settings,
    *,
    engine: Engine | None = None,
    mode: str = "http",
    shared: SharedGeneration | None = None,
) -> tuple[App, WSGIApp]:
    """Build one serving process: the app, its scheduler and its loaded rule table."""
    engine = engine or create_db_engine(settings.database_url)
    app, deps = create_app(settings, engine, shared=shared)
    # The rule table first: if loading it fails, `boot` retries with nothing started twice.
    revision = deps.cache.get().revision
    # The screening index too, so the first question's ack does not wait for it to be built.
    from bot.services.screening_cache import screening_cache

    deps.cache.screening = screening_cache(engine, ttl_s=deps.cache.ttl_s, settings=settings)
    deps.cache.screening.background = True
    deps.cache.screening.get()
    if settings.scheduler:
        from bot.installs import workspace_clients
        from bot.scheduler import create_scheduler
        from bot.services.jobs import Jobs
        from handlers.render import digests

        # One knowledge cache for listeners and jobs: a large customer list is held once. Every
        # worker runs the jobs; they claim their work, so each alert still goes out once.
        jobs = Jobs(
            engine,
            settings,
            client=app.client,
            lease_s=settings.delivery_lease_s,
            cache=deps.cache,
            renderer=digests,
            clients=workspace_clients(settings, app),
        )
        create_scheduler(settings, jobs).start()
        log.info("scheduler started as worker %s", jobs.worker)
    wsgi = create_wsgi(
        app, engine, max_body=settings.max_body_bytes, mode=mode, guard=metrics_guard(settings)
    )
    # Keep what start-up built (app, clients, the current knowledge) out of the collector's
    # full passes, which walked the whole rule table and customer list and made the latency
    # tail. Frozen objects are still freed by reference counting when a new revision replaces
    # the knowledge; collecting first means no garbage is frozen with them.
    gc.collect()
    gc.freeze()
    log.info("worker %s ready at rule-table revision %s", os.getpid(), revision)
    return app, wsgi


def run_http(load: Callable[[], ASGIApp], host: str, port: int, settings: Settings) -> None:
    """Serve HTTP with gunicorn: `settings.workers()` processes, each an asyncio event loop.

    Each process runs `load()` after it starts (no app state crosses a fork). One CPython
    process answers on one core at a time; the processes share the port, so every core answers.
    The loop reads whole requests under header and body deadlines, so slow or idle clients hold
    only a socket; `web_threads` threads per process run the verified ones.
    """
    from gunicorn.app.base import BaseApplication

    address = f"[{host}]" if ":" in host else host  # an IPv6 address such as ::
    options = {
        "bind": f"{address}:{port}",
        "workers": settings.workers(),
        "threads": settings.web_threads,
        "worker_class": worker_class(
            header_timeout_s=settings.http_header_timeout_s,
            max_connections=settings.http_max_connections,
        ),
        "keepalive": 30,
        # A worker must boot (load the whole customer list, retry a lost database) inside this.
        "timeout": 180,
        "graceful_timeout": 20,
        "proc_name": "clearance",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 24
                # Its default path is per user: servers side by side would share one socket.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> ASGIApp:
            return boot(load)

    log.info(
        "Clearance serving HTTP on %s:%s with %s worker(s) x %s threads",
        host,
        port,
        options["workers"],
        options["threads"],
    )
    Server().run()


def boot(
    load: Callable[[], T],
    *,
    attempts: int = BOOT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Build a worker's app, retrying with back-off before giving up.

    gunicorn stops the whole server when a worker fails to boot, healthy workers included; a
    worker replaced after a crash must not take the server down over a database or Slack API
    that is briefly unreachable.
    """
    for attempt in range(1, attempts + 1):
        try:
            return load()
        except Exception:
            if attempt == attempts:
                raise
            delay = 2.0 ** (attempt - 1)
            log.exception(
                "worker %s could not start (attempt %d of %d); retrying in %.0f s",
                os.getpid(),
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")


def _waitress(wsgi: WSGIApp, host: str, port: int, settings: Settings) -> None:
    from waitress import serve as waitress_serve

    waitress_serve(
        wsgi,
        host=host,
        port=port,
        threads=4,
        ident="clearance",
        max_request_body_size=settings.max_body_bytes,
        channel_timeout=30,
        clear_untrusted_proxy_headers=True,
    )
