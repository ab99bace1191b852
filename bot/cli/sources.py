"""`clearance sources …`: the tracked policy sources: add, list, poll now, remove."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from bot.cli.changes import change_json
from bot.cli.cli_input import NO_ROWS, iso
from bot.cli.context import now, open_jobs
from bot.domain.tracking.kinds import KIND_NAMES, KINDS, is_polled


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
        "last_success_at": iso(s.last_success_at),
        "last_error": s.last_error,
        "failures": s.failures,
        "next_poll_at": iso(s.next_poll_at),
    }


def cmd_sources_add(args: argparse.Namespace) -> int:
    """Add a policy source."""
    from storage.db import session_scope
    from storage.policies import add_source, parse_interval
    from storage.rules import load_table

    jobs = open_jobs(args)
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
            now=now(),
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

    jobs = open_jobs(args)
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
    jobs = open_jobs(args)
    ids = [int(i) for i in args.ids] if args.ids else None
    if ids is None:
        from storage.db import session_scope
        from storage.policies import polled_sources

        with session_scope(jobs.engine) as session:
            ids = [s.id for s in polled_sources(session=session) if s.id is not None]
    started = now()
    changes = jobs.poll(now=started, ids=ids, force=True)
    failed = failed_sources(jobs.engine, ids, since=started)
    if args.json:
        print(json.dumps([change_json(c) for c in changes]))
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
    from storage.policies import find_source
    from storage.tables.tracking import PolicyChange, PolicySnapshot

    jobs = open_jobs(args)
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


SELECTOR_HELP = "; ".join(f"{k.selector.what} ({k.name})" for k in KINDS if k.selector)


def register(sub: Any) -> None:
    """Add `sources add|list|poll|remove` to the main parser."""
    src = sub.add_parser("sources", help="tracked policy sources")
    ssub = src.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    p = ssub.add_parser("add", help="add a source (its first poll is the baseline)")
    p.add_argument("--name", required=True)
    p.add_argument(
        "--kind",
        required=True,
        choices=KIND_NAMES,
        help="a page or feed kind, or a restricted-party list kind (each poll stores a version)",
    )
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
