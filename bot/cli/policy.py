"""`clearance sources | subscriptions | digest | changes`: every scheduled job, on demand."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from bot.cli.cli_input import NO_ROWS, channel_id, listed, since_date
from bot.cli.context import ready_engine
from bot.domain.errors import BotError
from bot.domain.tracking.kinds import KIND_NAMES, KINDS, is_polled


def _jobs(args: argparse.Namespace, *, slack: bool = False) -> Any:
    from bot.app import create_client
    from bot.services.jobs import Jobs
    from handlers.render import digests

    settings = args.settings
    client = None
    if slack:
        if settings.slack_bot_token is None:
            raise BotError(
                "Set SLACK_BOT_TOKEN (and CLEARANCE_SLACK_API_URL if needed) to post digests."
            )
        client = create_client(settings)
    return Jobs(ready_engine(args), settings, client=client, renderer=digests)


def _now() -> datetime:
    from bot.services.asking import utcnow

    return utcnow()


def _source_json(s: Any) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "kind": s.kind,
        "url": s.url,
        "selector": s.selector,
        "every_s": s.interval_s,
        "tags": s.tags,
        "severity": s.severity,
        "country_list": s.country_list_group,
        "last_success_at": _iso(s.last_success_at),
        "last_error": s.last_error,
        "failures": s.failures,
        "next_poll_at": _iso(s.next_poll_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _change_json(c: Any) -> dict[str, Any]:
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


def cmd_sources_add(args: argparse.Namespace) -> int:
    """Add a policy source."""
    from storage.db import session_scope
    from storage.policies import add_source, parse_interval
    from storage.rules import load_table

    jobs = _jobs(args)
    if is_polled(args.kind):
        from bot.services.fetch_guard import check_url

        # The same addresses every fetch refuses: a source on this machine or its network.
        check_url(args.url, jobs.settings.fetch_allowed_networks())
    with session_scope(jobs.engine) as session:
        source = add_source(
            session=session,
            name=args.name,
            kind=args.kind,
            url=args.url,
            now=_now(),
            selector=args.selector,
            interval_s=parse_interval(args.every),
            tags=[t for t in (args.tags or "").split(",") if t],
            severity=args.severity,
            country_list_group=args.country_list,
            ignore=args.ignore or [],
            known_groups=set(load_table(session=session).groups),
        )
        session.commit()
        data = _source_json(source)
    if args.json:
        print(json.dumps(data))
    else:
        print(
            f"Source {data['id']}: {data['name']} ({data['kind']}) every {args.every}; "
            "its first poll is the baseline."
        )
    return 0


def cmd_sources_list(args: argparse.Namespace) -> int:
    """List sources with their health."""
    from storage.db import session_scope
    from storage.policies import list_sources

    jobs = _jobs(args)
    with session_scope(jobs.engine) as session:
        rows = [_source_json(s) for s in list_sources(session=session)]
    if args.json:
        print(json.dumps(rows))
        return 0
    for s in rows:
        health = (
            f"failing x{s['failures']}: {s['last_error']}"
            if s["failures"]
            else f"ok {s['last_success_at'] or '(not polled yet)'}"
        )
        print(f"{s['id']:4} {s['name'][:34]:34} {s['kind']:16} {health}")
    if not rows:
        print(NO_ROWS)
    return 0


def failed_sources(engine: Any, ids: list[int], *, since: datetime) -> list[tuple[str, str]]:
    """Return (name, error) of the given sources whose poll at or after `since` failed."""
    from storage.db import session_scope
    from storage.policies import list_sources

    with session_scope(engine) as session:
        return [
            (s.name, s.last_error or "unknown error")
            for s in list_sources(session=session)
            if s.id in ids
            and s.failures
            and s.last_polled_at is not None
            and s.last_polled_at >= since
        ]


def cmd_sources_poll(args: argparse.Namespace) -> int:
    """Poll sources now (all, or the given ids) and print the changes found."""
    jobs = _jobs(args)
    ids = [int(i) for i in args.ids] if args.ids else None
    if ids is None:
        from storage.db import session_scope
        from storage.policies import polled_sources

        with session_scope(jobs.engine) as session:
            ids = [s.id for s in polled_sources(session=session) if s.id is not None]
    started = _now()
    changes = jobs.poll(now=started, ids=ids, force=True)
    failed = failed_sources(jobs.engine, ids, since=started)
    if args.json:
        print(json.dumps([_change_json(c) for c in changes]))
    else:
        for c in changes:
            print(f"[{c.severity}] change {c.id}: {c.summary}")
        print(f"{len(changes)} change(s) from {len(ids)} source(s); {len(failed)} failed.")
    for name, error in failed:
        print(f"source {name} failed: {error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_sources_remove(args: argparse.Namespace) -> int:
    """Remove a source (its recorded changes stay)."""
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import PolicyChange, PolicySnapshot
    from storage.policies import find_source

    jobs = _jobs(args)
    with session_scope(jobs.engine) as session:
        source = find_source(session=session, ref=args.id)
        for snap in session.exec(
            select(PolicySnapshot).where(PolicySnapshot.source_id == source.id)
        ):
            session.delete(snap)
        for change in session.exec(select(PolicyChange).where(PolicyChange.source_id == source.id)):
            change.source_id = None
            session.add(change)
        session.delete(source)
        session.commit()
    print(f"Removed source {args.id}.")
    return 0


def cmd_subscriptions_add(args: argparse.Namespace) -> int:
    """Subscribe a channel to sources or tags on a schedule."""
    from bot.domain.tracking.digest_schedule import parse_schedule
    from storage.db import session_scope
    from storage.policies import resolve_sources, subscribe

    channel_id(args.channel)
    jobs = _jobs(args)
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
            now=_now(),
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

    jobs = _jobs(args)
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
            "last_digest_at": _iso(s.last_digest_at),
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

    jobs = _jobs(args)
    with session_scope(jobs.engine) as session:
        unsubscribe(session=session, channel=args.channel, source_ids=[], tags=[])
        session.commit()
    print(f"Unsubscribed {args.channel}.")
    return 0


def cmd_digest_run(args: argparse.Namespace) -> int:
    """Record impact, queue due digests and alerts, and post them."""
    jobs = _jobs(args, slack=True)
    result = jobs.run_cycle(now=_now(), force=args.force, channel=args.channel)
    print(json.dumps(result))
    return 0


def cmd_changes_show(args: argparse.Namespace) -> int:
    """Show one change: summary, severity and reasons, places, items, and the whole diff."""
    from bot.domain.errors import NotFound
    from storage.db import session_scope
    from storage.models import PolicyChange

    jobs = _jobs(args)
    with session_scope(jobs.engine) as session:
        change = session.get(PolicyChange, args.id)
    if change is None:
        raise NotFound(f"No change #{args.id}. See `clearance changes list`.")
    details = change.details or {}
    full = str(details.get("full_diff") or change.diff or "")
    if args.json:
        print(json.dumps({**_change_json(change), "full_diff": full}))
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
    jobs = _jobs(args)
    with session_scope(jobs.engine) as session:
        rows = [
            _change_json(c) for c in list_changes(session=session, since=since, limit=args.limit)
        ]
    if args.json:
        print(json.dumps(rows))
        return 0
    for c in rows:
        print(f"{c['detected_at'][:16]} [{c['severity']}] #{c['id']} {c['summary']}")
    if not rows:
        print(NO_ROWS)
    return 0


SELECTOR_HELP = "; ".join(f"{k.selector.what} ({k.name})" for k in KINDS if k.selector)


def register(sub: Any) -> None:
    """Add `sources`, `subscriptions`, `digest` and `changes` to the main parser."""
    src = sub.add_parser("sources", help="tracked policy sources")
    ssub = src.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    p = ssub.add_parser("add", help="add a source (its first poll is the baseline)")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", required=True, choices=KIND_NAMES)
    p.add_argument("--url", required=True)
    p.add_argument("--selector", help=SELECTOR_HELP)
    p.add_argument("--every", default="6h", help="poll interval, e.g. 30m, 6h, 1d")
    p.add_argument("--tags", help="comma-separated tags")
    p.add_argument("--severity", default="normal", choices=["normal", "high"])
    p.add_argument(
        "--country-list", metavar="GROUP", help="the page is a country list linked to this group"
    )
    p.add_argument(
        "--ignore",
        action="append",
        metavar="REGEX",
        help="ignore lines matching this pattern (repeatable)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources_add)
    p = ssub.add_parser("list", help="list sources and their health")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources_list)
    p = ssub.add_parser("poll", help="poll now and print the changes found")
    p.add_argument("ids", nargs="*")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources_poll)
    p = ssub.add_parser("remove", help="remove a source")
    p.add_argument("id")
    p.set_defaults(func=cmd_sources_remove)

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
