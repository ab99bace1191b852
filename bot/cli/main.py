"""The `clearance` command line: the main parser, one command group per module, and exit codes.

Exit codes: 0 success, 1 a bad file or a failed command (nothing applied), 2 a question that
cannot be answered as asked (the JSON error names candidates) or bad usage, 3 the database could
not be reached, read or written, 4 `audit verify` found the audit log changed, 141 the reader of
the output went away.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

# Each command imports what it needs when it runs: `clearance ask` is a new process every time,
# and start-up is most of its cost; `--help` imports neither pydantic nor SQLAlchemy.
from bot.cli import (
    asking,
    audit,
    changes,
    customers,
    init,
    lists,
    revisions,
    rules,
    screening,
    serve,
    sources,
    subscriptions,
)
from bot.cli.cli_input import unslack
from bot.cli.context import load_settings
from bot.domain.errors import BotError, InvalidFile

# In the order `clearance --help` lists them.
GROUPS = (
    init,
    asking,
    rules,
    customers,
    revisions,
    serve,
    sources,
    subscriptions,
    changes,
    lists,
    screening,
    audit,
)

EPILOG = """examples:
  clearance ask "can Acme GmbH in Germany use Claude Sonnet 4.5?"
  clearance ask --json --as-of 2025-08-01 "can Nimbus in Singapore use claude-sonnet-4-5"
  clearance rules validate my-rules.yaml
  clearance rules import my-rules.yaml            # upsert by id: one new revision
  clearance rules import --replace my-rules.yaml  # the file becomes the whole rule table
  clearance customers import customers.yaml
"""


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every command."""
    parser = argparse.ArgumentParser(
        prog="clearance",
        description="Answer 'can customer X in country Y use model Z?' from "
        "a cited, audited rule table.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--db", help="database URL (default: $CLEARANCE_DATABASE_URL or sqlite:///clearance.db)"
    )
    parser.add_argument("--author", help="who is making changes (default: cli:$USER)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        args.settings = load_settings(args)
        code: int = args.func(args)
        # Inside the try: a short answer to a pipe sits in the buffer until here.
        sys.stdout.flush()
        return code
    except InvalidFile as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(f"{len(exc.errors)} error(s); nothing was changed.", file=sys.stderr)
        return 1
    except BotError as exc:
        print(unslack(exc.message), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            return _broken_pipe()
        if _is_database_error(exc):
            return _database_failed(exc, args)
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        return _database_failed(exc, args)


def _is_database_error(exc: BaseException) -> bool:
    """Return whether an error came from the database or its driver."""
    module = type(exc).__module__
    return module.startswith(("sqlalchemy", "sqlite3", "psycopg", "_sqlite3"))


def _database_failed(exc: BaseException, args: argparse.Namespace) -> int:
    from bot.cli.db_errors import EXIT_DATABASE, describe

    url = args.db or os.environ.get("CLEARANCE_DATABASE_URL") or "sqlite:///clearance.db"
    print(f"error: {describe(exc, url)}", file=sys.stderr)
    return EXIT_DATABASE


def _broken_pipe() -> int:
    """Stop quietly when the reader went away (`clearance rules list | head`), as Unix tools do."""
    # What was done is done (an answer is audited before it is printed). Python flushes
    # stdout again at exit, so point it at /dev/null first (the Python docs' recipe).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped that way
