"""`clearance serve`: HTTP mode on waitress, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.domain.errors import BotError
from bot.services.asking import initialize
from bot.services.change_counter import SharedGeneration
from bot.settings import Settings
from storage.db import create_db_engine, session_scope
from storage.health import check_writable, quick_check
from storage.rules import current_revision

log = logging.getLogger("clearance.serve")
EVENTS_PATH = "/slack/events"
BOOT_ATTEMPTS = 5  # 1 + 2 + 4 + 8 s of back-off in all
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def create_wsgi(app: App, engine: Engine, *, max_body: int, mode: str) -> WSGIApp:
    """Return the WSGI app: Slack requests on /slack/events and GET /healthz."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def reply(start: StartResponse, status: str, data: dict[str, Any]) -> Iterable[bytes]:
        body = json.dumps(data).encode()
        start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def wsgi(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            try:
                with session_scope(engine) as session:
                    revision = current_revision(session=session)
                check_writable(
                    engine
                )  # answers are audited: a database that takes no writes is down
            except Exception:
                log.exception("health check: database unavailable")
                return reply(start, "503 Service Unavailable", {"ok": False})
            return reply(
                start,
                "200 OK",
                {"ok": True, "mode": mode, "revision": revision, "worker": os.getpid()},
            )
        if path != EVENTS_PATH:
            return reply(start, "404 Not Found", {"ok": False, "error": "not_found"})
        if method != "POST":
            return reply(start, "405 Method Not Allowed", {"ok": False})
        if int(environ.get("CONTENT_LENGTH") or 0) > max_body:
            return reply(start, "413 Payload Too Large", {"ok": False})
        result: Iterable[bytes] = slack(environ, start)
        return result

    return wsgi


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
        run_http(lambda: build_worker(settings, shared=shared)[1], host, port or 3000, settings)
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
    handler.start()  # type: ignore[no-untyped-call]


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
    if settings.scheduler:
        from bot.scheduler import create_scheduler
        from bot.services.jobs import Jobs

        # One knowledge cache for listeners and jobs: a large customer list is held once. Every
        # worker runs the jobs; they claim their work, so each alert still goes out once.
        jobs = Jobs(
            engine, settings, client=app.client, lease_s=settings.delivery_lease_s, cache=deps.cache
        )
        create_scheduler(settings, jobs).start()
        log.info("scheduler started as worker %s", jobs.worker)
    wsgi = create_wsgi(app, engine, max_body=settings.max_body_bytes, mode=mode)
    # Keep what start-up built (app, clients, the current knowledge) out of the collector's
    # full passes, which walked the whole rule table and customer list and made the latency
    # tail. Frozen objects are still freed by reference counting when a new revision replaces
    # the knowledge; collecting first means no garbage is frozen with them.
    gc.collect()
    gc.freeze()
    log.info("worker %s ready at rule-table revision %s", os.getpid(), revision)
    return app, wsgi


def run_http(load: Callable[[], WSGIApp], host: str, port: int, settings: Settings) -> None:
    """Serve HTTP with gunicorn: `settings.workers()` processes of `web_threads` threads each.

    Each process runs `load()` after it starts (no app state crosses a fork). One CPython
    process answers on one core at a time; the processes share the port, so every core answers.
    """
    from gunicorn.app.base import BaseApplication

    address = f"[{host}]" if ":" in host else host  # an IPv6 address such as ::
    options = {
        "bind": f"{address}:{port}",
        "workers": settings.workers(),
        "threads": settings.web_threads,
        "worker_class": "gthread",
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

        def load(self) -> WSGIApp:
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
    load: Callable[[], WSGIApp],
    *,
    attempts: int = BOOT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> WSGIApp:
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
