"""`clearance serve`: HTTP mode on gunicorn and uvicorn, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.domain.errors import BotError
from bot.http_mode import build_front, run_http
from bot.services.asking import initialize
from bot.services.change_counter import SharedGeneration
from bot.settings import Settings
from bot.socket_mode import run_socket
from storage.db import create_db_engine
from storage.health import quick_check


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
    run_socket(settings, engine, revision, host, port)
