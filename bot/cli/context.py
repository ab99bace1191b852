"""What the commands share: the settings, the database and the jobs, each built once per process;
and the clock."""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.errors import BotError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.services.jobs import Jobs
    from bot.settings import Settings

# pydantic, SQLAlchemy and the services are imported inside the functions: `clearance --help`
# and a usage error must not pay for them.


def load_settings(args: argparse.Namespace) -> Settings:
    """Build the settings from the environment and --db; `main` does it once per process."""
    from bot.settings import Settings

    settings = Settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    return settings


def open_engine(args: argparse.Namespace) -> Engine:
    """Return an engine on the database the settings name, with connect and statement timeouts."""
    from storage.db import create_db_engine

    settings = args.settings
    try:
        return create_db_engine(
            settings.database_url,
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
        )
    except ValueError as exc:  # a URL that parses but cannot be used (a port that is no number)
        from sqlalchemy.exc import ArgumentError

        raise ArgumentError(str(exc)) from None


def ready_engine(args: argparse.Namespace) -> Engine:
    """Return an engine on a database with the schema at head and a rule table."""
    from bot.services.asking import initialize

    engine = open_engine(args)
    initialize(engine, seed_sources=args.settings.seed_sources)
    return engine


def current_table(args: argparse.Namespace) -> Any:
    """Return the rule table at the newest revision."""
    from storage.db import session_scope
    from storage.rules import load_table

    engine = ready_engine(args)
    with session_scope(engine) as session:
        return load_table(session=session)


def open_jobs(args: argparse.Namespace, *, slack: bool = False) -> Jobs:
    """Return the scheduled jobs on the database; with `slack`, able to post (a token is needed)."""
    from bot.app import create_client
    from bot.installs import installed_clients
    from bot.services.jobs import Jobs
    from handlers.render import digests

    settings = args.settings
    engine = ready_engine(args)
    client, clients = None, None
    if slack:
        if settings.slack_bot_token is None and not settings.multi_workspace():
            raise BotError(
                "Set SLACK_BOT_TOKEN (or, installed in many workspaces, SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET), and CLEARANCE_SLACK_API_URL if needed, to post digests."
            )
        client = create_client(settings)
        clients = installed_clients(settings, engine, client)
    return Jobs(engine, settings, client=client, renderer=digests, clients=clients)


def now() -> datetime:
    """Return the current time in UTC, as the services record it."""
    from bot.services.asking import utcnow

    return utcnow()


def author(args: argparse.Namespace) -> str:
    """Return who a change is recorded as: `--author`, else the operating-system user."""
    return str(args.author or f"cli:{getpass.getuser()}")
