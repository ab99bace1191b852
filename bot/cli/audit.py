"""`clearance audit`: recent decisions from the audit log; `audit verify` walks its hash chains
and names the first broken link."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.cli_input import NO_ROWS, positive_limit, print_json
from bot.cli.context import ready_engine

EXIT_TAMPERED = 4  # the audit log does not verify


def cmd_audit(args: argparse.Namespace) -> int:
    """Show recent decisions from the audit log (or, with `verify`, check its hash chains)."""
    from storage.db import session_scope
    from storage.decisions import list_decisions
    from storage.reviews import override_verdict, review_json, reviews_of

    engine = ready_engine(args)
    if args.what == "verify":
        return cmd_audit_verify(args, engine)
    with session_scope(engine) as session:
        rows = list_decisions(
            session=session, actor=args.actor, customer=args.customer, limit=args.limit
        )
        reviews = reviews_of(session=session, decision_ids=[r.id for r in rows])
    if args.json:
        # Reviews are linked beside each decision; the decision itself is printed as written.
        print_json(
            [
                {
                    **r.model_dump(mode="json"),
                    "reviews": [review_json(v) for v in reviews.get(r.id, [])],
                }
                for r in rows
            ]
        )
        return 0
    for r in rows:
        who = r.customer_name or "(unnamed)"
        overrides = [o for v in reviews.get(r.id, []) if (o := override_verdict(v))]
        marker = f" [overridden -> {overrides[-1]}]" if overrides else ""
        print(
            f"{r.created_at:%Y-%m-%d %H:%M} {r.actor:16} {r.verdict:16} {who} / {r.country} / "
            f"{r.model} (rev {r.revision}, {r.id}){marker}"
        )
    if not rows:
        print(NO_ROWS)
    return 0


def cmd_audit_verify(args: argparse.Namespace, engine: Any) -> int:
    """Verify every audit chain; exit 4 and name the first broken link if one does not hold."""
    from storage.audit_chain import verify_chains

    with engine.connect() as conn:
        reports = verify_chains(conn)
    broken = [r for r in reports if r.broken is not None]
    if getattr(args, "json", False):
        out = {
            "ok": not broken,
            "chains": [
                {
                    "table": r.table,
                    "rows": r.rows,
                    "broken": None if r.broken is None else str(r.broken),
                }
                for r in reports
            ],
        }
        print(json.dumps(out))
        return EXIT_TAMPERED if broken else 0
    for r in reports:
        if r.broken is None:
            print(f"{r.table}: {r.rows} rows, chain intact")
        else:
            print(f"{r.table}: BROKEN at {r.broken}", file=sys.stderr)
    if broken:
        print(
            "The audit log was changed outside Clearance. Restore the database from a backup "
            "taken before the first broken row, and find out who had write access.",
            file=sys.stderr,
        )
        return EXIT_TAMPERED
    return 0


def register(sub: Any) -> None:
    """Add `audit` and `audit verify` to the main parser."""
    p = sub.add_parser(
        "audit", help="recent decisions from the audit log; `audit verify` checks its hash chains"
    )
    p.add_argument(
        "what", nargs="?", choices=["verify"], help="verify: check the audit hash chains"
    )
    p.add_argument("--actor")
    p.add_argument("--customer")
    p.add_argument("--limit", type=positive_limit, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)
