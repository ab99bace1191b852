"""`clearance init`: create the database and load the default rule pack (or another, or none)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.context import author, open_engine
from bot.domain.errors import BotError


def cmd_init(args: argparse.Namespace) -> int:
    """Create the database and load the default rule pack (or --pack FILE, or none)."""
    from bot.cli.init_check import check_pack, remove_new_sqlite_file, sqlite_file_is_new

    # A pack is checked before anything is created: a failed init leaves nothing behind.
    if args.pack is not None:
        check_pack(Path(args.pack), max_bytes=args.settings.max_file_bytes)
    url = args.settings.database_url
    new_file = sqlite_file_is_new(url)
    try:
        return _init(args)
    except BaseException:
        if new_file:
            remove_new_sqlite_file(url)
        raise


def _init(args: argparse.Namespace) -> int:
    from bot.services.asking import initialize

    engine = open_engine(args)
    chosen = args.pack is not None or args.no_pack
    settings = args.settings
    # A database that has a revision keeps its table: a pack is loaded into a new one only.
    rev = initialize(engine, pack=None, seed_sources=False)
    if rev and chosen:
        raise BotError(
            f"The database already holds revision {rev}, so --pack and --no-pack "
            "change nothing. Load a file with `clearance rules import FILE` (add "
            "--replace to make it the whole rule table)."
        )
    if not rev:
        from storage.rules import DEFAULT_PACK

        pack = None if args.no_pack else Path(args.pack) if args.pack else DEFAULT_PACK
        rev = initialize(
            engine,
            pack=pack,
            author=author(args),
            empty=args.no_pack,
            seed_sources=settings.seed_sources,
        )
    elif settings.seed_sources:
        from bot.services.asking import add_default_sources, utcnow

        add_default_sources(engine, now=utcnow())
    print(f"Database ready at revision {rev}.")
    return 0


def register(sub: Any) -> None:
    """Add `init` to the main parser."""
    p = sub.add_parser("init", help="create the database and load the default rule pack")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--pack", help="load this rule-table file instead of the default pack")
    which.add_argument(
        "--no-pack",
        action="store_true",
        help="start with an empty rule table (recorded as revision 1, so later "
        "commands do not load the default pack)",
    )
    p.set_defaults(func=cmd_init)
