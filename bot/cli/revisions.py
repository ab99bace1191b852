"""`clearance revisions …`: the rule table's history, one revision per change."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.cli_input import NO_ROWS, positive_limit, print_json
from bot.cli.context import ready_engine
from bot.domain.errors import BotError


def cmd_revisions_list(args: argparse.Namespace) -> int:
    """List recent revisions."""
    from storage.db import session_scope
    from storage.rules import list_revisions

    engine = ready_engine(args)
    with session_scope(engine) as session:
        revs = list_revisions(session=session, limit=args.limit)
    if args.json:
        print_json([r.model_dump(mode="json") for r in revs])
        return 0
    for r in revs:
        print(f"{r.number:5}  {r.created_at:%Y-%m-%d %H:%M}  {r.author:20} {r.summary}")
    if not revs:
        print(NO_ROWS)
    return 0


def cmd_revisions_show(args: argparse.Namespace) -> int:
    """Show what one revision changed."""
    from storage.db import session_scope
    from storage.rules import get_revision

    engine = ready_engine(args)
    with session_scope(engine) as session:
        rev = get_revision(session=session, number=args.number)
    if rev is None:
        raise BotError(f"No revision {args.number}. See `clearance revisions list`.")
    if args.json:
        print_json(rev.model_dump(mode="json"))
        return 0
    print(f"Revision {rev.number} by {rev.author} at {rev.created_at:%Y-%m-%d %H:%M:%S} UTC")
    print(f"  {rev.summary}")
    if rev.source:
        print(f"  source: {rev.source}")
    for c in rev.changes:
        print(f"  {c['op']:8} {c['kind']:10} {c['id']}")
    return 0


def register(sub: Any) -> None:
    """Add `revisions list|show` to the main parser."""
    revs = sub.add_parser("revisions", help="the rule table's history")
    vsub = revs.add_subparsers(dest="revisions_command", required=True, metavar="ACTION")
    p = vsub.add_parser("list", help="list recent revisions")
    p.add_argument("--limit", type=positive_limit, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_revisions_list)
    p = vsub.add_parser("show", help="show what one revision changed")
    p.add_argument("number", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_revisions_show)
