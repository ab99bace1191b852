"""`clearance ask`: answer one question, audited like an answer in Slack."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from bot.cli.cli_input import print_json
from bot.cli.context import author, ready_engine
from bot.domain.errors import QuestionError


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question."""
    from bot.cli.plain_text import format_answer
    from bot.services.asking import KnowledgeCache, ask
    from storage.snapshots import SnapshotStore

    engine = ready_engine(args)
    text = " ".join(args.question)
    # A one-shot answer fetches only the customers it needs (fast with 100,000 of them), and
    # loads the rules compiled by an earlier `ask` at the same revision.
    cache = KnowledgeCache(
        engine,
        lazy_customers=True,
        snapshots=SnapshotStore.for_engine(engine, args.settings.snapshot_dir()),
        settings=args.settings,
    )
    try:
        as_of = _as_of_option(args.as_of)
        answer = ask(
            engine,
            cache,
            text,
            actor=author(args),
            as_of=as_of,
            access=args.access,
            hq=args.hq,
        )
    except QuestionError as exc:
        if args.json:
            print_json(exc.to_dict())
        else:
            print(f"Can't answer: {exc.message}", file=sys.stderr)
            for c in exc.candidates:
                print(f"  - {c.label}  [{c.value}]", file=sys.stderr)
        return 2
    if args.json:
        print_json(answer.to_dict())
    else:
        print(format_answer(answer))
    return 0


def _as_of_option(value: str | None) -> date | None:
    """Read --as-of; a bad date is a question error, answered like one (JSON with --json)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QuestionError(
            "bad_date",
            f"--as-of '{value}' is not a date. Write it as YYYY-MM-DD, e.g. --as-of 2026-01-31.",
        ) from None


def register(sub: Any) -> None:
    """Add `ask` to the main parser."""
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+", help='e.g. "can Acme in Brazil use GPT-4o?"')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--as-of", help="decide as of this date (YYYY-MM-DD); default today, UTC")
    p.add_argument(
        "--access",
        choices=["api", "weights", "hosted"],
        help="how the model is accessed (default api)",
    )
    p.add_argument(
        "--hq",
        help="where the customer is headquartered (a country name or code); the place in the "
        "question is then only where the model is used",
    )
    p.set_defaults(func=cmd_ask)
