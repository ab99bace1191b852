"""`clearance changes …`: the policy changes the source polls detected."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.cli_input import NO_ROWS, since_date
from bot.cli.context import open_jobs


def change_json(c: Any) -> dict[str, Any]:
    """Return a change as `--json` prints it."""
    return {
        "id": c.id,
        "source_id": c.source_id,
        "detected_at": c.detected_at.isoformat(),
        "summary": c.summary,
        "severity": c.severity,
        "link": c.link,
        "diff": c.diff,
        "details": c.details,
        "revision": c.revision,
    }


def cmd_changes_show(args: argparse.Namespace) -> int:
    """Show one change: summary, severity and reasons, places, items, and the whole diff."""
    from bot.domain.errors import NotFound
    from storage.db import session_scope
    from storage.tables.tracking import PolicyChange

    jobs = open_jobs(args)
    with session_scope(jobs.engine) as session:
        change = session.get(PolicyChange, args.id)
    if change is None:
        raise NotFound(f"No change #{args.id}. See `clearance changes list`.")
    details = change.details or {}
    full = str(details.get("full_diff") or change.diff or "")
    if args.json:
        print(json.dumps({**change_json(change), "full_diff": full}))
        return 0
    print(f"Change #{change.id} [{change.severity}] {change.detected_at:%Y-%m-%d %H:%M} UTC")
    print(change.summary)
    if change.link:
        print(f"Link: {change.link}")
    for reason in details.get("reasons") or ():
        print(f"Reason: {reason}")
    for key in ("added", "removed", "excluded", "readmitted", "unresolved"):
        if details.get(key):
            print(f"{key.capitalize()}: {', '.join(map(str, details[key]))}")
    for item in details.get("items") or ():
        print(f"- {item.get('id', '')} {item.get('title', '')} {item.get('link', '')}".rstrip())
    for flip in details.get("flip_texts") or ():
        print(f"Flip: {flip}")
    if full:
        print("\n" + full)
    return 0


def cmd_changes_list(args: argparse.Namespace) -> int:
    """List detected changes."""
    from storage.db import session_scope
    from storage.policies import list_changes

    since = since_date(args.since)
    jobs = open_jobs(args)
    with session_scope(jobs.engine) as session:
        rows = [
            change_json(c) for c in list_changes(session=session, since=since, limit=args.limit)
        ]
    if args.json:
        print(json.dumps(rows))
        return 0
    for c in rows:
        print(f"{c['detected_at'][:16]} [{c['severity']}] #{c['id']} {c['summary']}")
    if not rows:
        print(NO_ROWS)
    return 0


def register(sub: Any) -> None:
    """Add `changes list|show` to the main parser."""
    ch = sub.add_parser("changes", help="detected policy changes")
    csub = ch.add_subparsers(dest="changes_command", required=True, metavar="ACTION")
    p = csub.add_parser("list", help="list changes")
    p.add_argument("--since", help="YYYY-MM-DD (as `/clearance changes since` in Slack)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_changes_list)
    p = csub.add_parser("show", help="show one change with its whole diff")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_changes_show)
