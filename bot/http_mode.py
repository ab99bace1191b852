"""HTTP mode: gunicorn processes, each an asyncio loop behind the verifying Slack front."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

from bot.answerer import Answerer
from bot.front import SlackFront
from bot.http_worker import worker_class
from bot.pages import front_pages, health_reply, metrics_guard
from bot.services.change_counter import SharedGeneration
from bot.settings import Settings
from bot.worker import build_worker
from storage.db import create_db_engine

log = logging.getLogger("clearance.serve")
BOOT_ATTEMPTS = 5  # 1 + 2 + 4 + 8 s of back-off in all
ASGIApp = SlackFront
T = TypeVar("T")


def build_front(settings: Settings, *, shared: SharedGeneration | None = None) -> SlackFront:
    """Build one HTTP worker: its app (see `build_worker`) behind the verifying ASGI front."""
    engine = create_db_engine(settings.database_url)
    answerer, ready = None, None
    if settings.answer_process:
        answerer = Answerer(settings, shared=shared)
        try:
            ready = answerer.start_beside()  # it loads while the worker does
        except Exception:
            log.exception("could not start the answer process; questions are answered here")
            answerer = None
    try:
        app, _wsgi = build_worker(settings, engine=engine, shared=shared, also_ready=ready)
    except BaseException:
        if answerer is not None:
            answerer.close()  # `boot` tries again with a new one
        raise
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
        answerer=answerer,
    )


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
