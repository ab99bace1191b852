"""One serving process, in either mode: the app, its scheduler and its loaded rule table."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable

from slack_bolt import App
from sqlalchemy.engine import Engine

from bot.app import create_app, load_knowledge
from bot.pages import WSGIApp, create_wsgi, metrics_guard
from bot.services.change_counter import SharedGeneration
from bot.settings import Settings
from storage.db import create_db_engine

log = logging.getLogger("clearance.serve")


def build_worker(
    settings: Settings,
    *,
    engine: Engine | None = None,
    mode: str = "http",
    shared: SharedGeneration | None = None,
    also_ready: Callable[[], None] | None = None,
) -> tuple[App, WSGIApp]:
    """Build one serving process: the app, its scheduler and its loaded rule table.

    `also_ready` waits for whatever else the process needs (HTTP mode's answer process) before
    it says it is ready.
    """
    engine = engine or create_db_engine(settings.database_url)
    app, deps = create_app(settings, engine, shared=shared)
    # The rule table first: if loading it fails, `boot` retries with nothing started twice.
    revision = load_knowledge(deps)
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
    if also_ready is not None:
        also_ready()
    log.info("worker %s ready at rule-table revision %s", os.getpid(), revision)
    return app, wsgi
