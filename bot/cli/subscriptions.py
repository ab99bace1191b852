"""`clearance subscriptions …` and `clearance digest run`: which channels get which sources'
changes, and posting the digests and alerts that are due."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.cli_input import NO_ROWS, channel_id, iso, listed
from bot.cli.context import now, open_jobs


def cmd_subscriptions_add(args: argparse.Namespace) -> int:
    """Subscribe a channel to sources or tags on a schedule."""
    from bot.domain.tracking.digest_schedule import parse_schedule
    from storage.db import session_scope
    from storage.policies import resolve_sources, subscribe

    channel_id(args.channel)
    jobs = open_jobs(args)
    refs = [r for r in (args.sources or "").split(",") if r] + [
        t for t in (args.tags or "").split(",") if t
    ]
    schedule = parse_schedule(args.schedule).describe() if args.schedule else None
    with session_scope(jobs.engine) as session:
        ids, tags = resolve_sources(session=session, refs=refs)
        sub = subscribe(
            session=session,
            channel=args.channel,
            source_ids=ids,
            tags=tags,
            schedule=schedule,
            user="cli",
            now=now(),
        )
        session.commit()
        print(
            f"{sub.channel}: sources {listed(sub.source_ids, 'all')}, tags {listed(sub.tags)}, "
            f"{sub.schedule}"
        )
    return 0


def cmd_subscriptions_list(args: argparse.Namespace) -> int:
    """List subscriptions."""
    from storage.db import session_scope
    from storage.policies import list_subscriptions

    jobs = open_jobs(args)
    with session_scope(jobs.engine) as session:
        subs = list_subscriptions(session=session)
    rows = [
        {
            "id": s.id,
            "channel": s.channel,
            "sources": s.source_ids,
            "tags": s.tags,
            "schedule": s.schedule,
            "paused": s.paused,
            "paused_reason": s.paused_reason,
            "last_digest_at": iso(s.last_digest_at),
        }
        for s in subs
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    for sub in subs:
        state = f"PAUSED ({sub.paused_reason})" if sub.paused else "active"
        print(
            f"{sub.channel:12} {sub.schedule:32} sources {listed(sub.source_ids, 'all')} "
            f"tags {listed(sub.tags)} {state}"
        )
    if not rows:
        print(NO_ROWS)
    return 0


def cmd_subscriptions_remove(args: argparse.Namespace) -> int:
    """Remove a channel's subscription."""
    from storage.db import session_scope
    from storage.policies import unsubscribe

    jobs = open_jobs(args)
    with session_scope(jobs.engine) as session:
        unsubscribe(session=session, channel=args.channel, source_ids=[], tags=[])
        session.commit()
    print(f"Unsubscribed {args.channel}.")
    return 0


def cmd_digest_run(args: argparse.Namespace) -> int:
    """Record impact, queue due digests and alerts, and post them."""
    jobs = open_jobs(args, slack=True)
    result = jobs.run_cycle(now=now(), force=args.force, channel=args.channel)
    print(json.dumps(result))
    return 0


def register(sub: Any) -> None:
    """Add `subscriptions add|list|remove` and `digest run` to the main parser."""
    subs = sub.add_parser("subscriptions", help="channel subscriptions")
    bsub = subs.add_subparsers(dest="subscriptions_command", required=True, metavar="ACTION")
    p = bsub.add_parser("add", help="subscribe a channel")
    p.add_argument("--channel", required=True, help="Slack channel id, e.g. C0123456")
    p.add_argument("--sources", help="comma-separated source ids or names (default: all)")
    p.add_argument("--tags", help="comma-separated source tags")
    p.add_argument(
        "--schedule",
        help='e.g. "daily 09:00 Europe/Berlin" or '
        '"weekly MON 09:00 America/New_York" (default daily 09:00 UTC)',
    )
    p.set_defaults(func=cmd_subscriptions_add)
    p = bsub.add_parser("list", help="list subscriptions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_subscriptions_list)
    p = bsub.add_parser("remove", help="unsubscribe a channel")
    p.add_argument("--channel", required=True)
    p.set_defaults(func=cmd_subscriptions_remove)

    dig = sub.add_parser("digest", help="post due digests and alerts")
    dsub = dig.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    p = dsub.add_parser("run", help="post the digests that are due")
    p.add_argument("--channel")
    p.add_argument("--force", action="store_true", help="post whatever is pending now")
    p.set_defaults(func=cmd_digest_run)
