"""`clearance lists …` and `clearance screen …`: restricted-party lists and screening."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.cli_input import print_json
from bot.cli.context import author, ready_engine
from bot.domain.errors import BotError
from bot.domain.screening.versions import DEFAULT_MAX_REMOVED_SHARE
from bot.domain.tracking.kinds import LIST_KIND_NAMES

MAX_LINE = 1000  # a batch line longer than this is not a name


def _now() -> Any:
    from bot.services.asking import utcnow

    return utcnow()


def _engine(args: argparse.Namespace) -> Any:
    return ready_engine(args)


def _read(path: str | None, what: str) -> bytes | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise BotError(f"No such {what} file: {path}")
    return p.read_bytes()


def _version_json(v: Any) -> dict[str, Any]:
    return {
        "version_id": v.id,
        "created_at": v.created_at.isoformat(),
        "origin": v.origin,
        "published": v.published,
        "entries": v.entries,
        "added": v.added,
        "removed": v.removed,
        "changed": v.changed,
    }


def cmd_lists_import(args: argparse.Namespace) -> int:
    """Import a list file (same guards as a poll)."""
    from bot.services.screening import import_list

    engine = _engine(args)
    body = _read(args.file, "list")
    assert body is not None
    result = import_list(
        engine,
        kind=args.kind,
        body=body,
        list_id=args.list,
        alt=_read(args.alt, "alt.csv"),
        add=_read(args.add, "add.csv"),
        now=_now(),
        max_removed_share=args.max_removed,
    )
    if args.json:
        print_json(
            {
                "list": result.list_id,
                "version": _version_json(result.version) if result.version else None,
            }
        )
    elif result.version is None:
        print(f"{result.list_id}: unchanged; no new version.")
    else:
        v = result.version
        print(
            f"{result.list_id}: version {v.id} with {v.entries} entries (+{v.added} -{v.removed} ~{v.changed})."
        )
    return 0


def cmd_lists_list(args: argparse.Namespace) -> int:
    """List the lists and their newest versions."""
    from storage.screening import list_summaries

    rows = list_summaries(_engine(args))
    data = [
        {
            "id": lst.id,
            "kind": lst.kind,
            "name": lst.name,
            "version": _version_json(v) if v else None,
        }
        for lst, v in rows
    ]
    if args.json:
        print_json(data)
        return 0
    if not data:
        print("No lists loaded. Import one: clearance lists import --kind ofac_sdn sdn.csv")
    for lst, v in rows:
        tail = (
            f"version {v.id} of {v.created_at.date()}, {v.entries} entries" if v else "no version"
        )
        print(f"{lst.id:12} {lst.kind:14} {lst.name}: {tail}")
    return 0


def cmd_lists_show(args: argparse.Namespace) -> int:
    """Show one list: its newest version and the changes it brought."""
    from storage.screening import history

    versions = history(_engine(args), args.id)
    newest = versions[0] if versions else None
    if args.json:
        print_json(
            {
                "id": args.id,
                "version": _version_json(newest) if newest else None,
                "changes": newest.changes if newest else [],
            }
        )
        return 0
    if newest is None:
        print(f"{args.id}: no version yet.")
        return 0
    print(
        f"{args.id}: version {newest.id} of {newest.created_at.isoformat()} ({newest.origin}), {newest.entries} entries"
    )
    for c in newest.changes[:50]:
        cite = f"; {c['citation']}" if c.get("citation") else ""
        print(
            f"  {c['change']:8} {c['entry_id']}  {c['name']}  [{', '.join(c.get('programs') or [])}]{cite}"
        )
    return 0


def cmd_lists_history(args: argparse.Namespace) -> int:
    """A list's versions, newest first."""
    from storage.screening import history

    versions = history(_engine(args), args.id)
    if args.json:
        print_json([_version_json(v) for v in versions])
        return 0
    for v in versions:
        print(
            f"version {v.id}  {v.created_at.isoformat()}  {v.origin:6}  {v.entries} entries  +{v.added} -{v.removed} ~{v.changed}"
        )
    return 0


def _state(args: argparse.Namespace, engine: Any) -> Any:
    from bot.services.screening import screening_cache

    return screening_cache(engine, settings=args.settings).get()


def _print_matches(result: dict[str, Any]) -> None:
    if not result["lists"]:
        print(f"{result['query']}: not screened (no restricted-party list is loaded)")
        return
    if not result["matches"]:
        print(
            f"{result['query']}: no hits on "
            + ", ".join(f"{x['name']} (version of {x['version']})" for x in result["lists"])
        )
        return
    print(f"{result['query']}:")
    for m in result["matches"]:
        print(
            f"  {m['strength']:8} {m['score']:.2f}  {m['list_code']} {m['entry_id']}  {m['name']}"
            f"  (matched '{m['matched_name']}'; {', '.join(m['programs']) or 'no program'})"
        )
        if m["reasons"]:
            print(f"           lowered: {'; '.join(m['reasons'])}")


def cmd_screen(args: argparse.Namespace) -> int:
    """Screen a name (or one name a line from stdin with `-`), or re-screen customers."""
    names = args.name
    if names and names[0] in ("confirm", "dismiss"):
        return _decide(args, names[0], names[1:])
    if names == ["customers"]:
        return _screen_customers(args)
    from bot.services.screening import screen_json

    engine = _engine(args)
    state = _state(args, engine)
    hq = args.hq.upper() if args.hq else None
    if names == ["-"]:
        for line in sys.stdin:
            name = line.strip()[:MAX_LINE]
            result = screen_json(state, name, hq=hq, kind=args.type)
            if args.json:
                print_json(result)
            else:
                _print_matches(result)
        return 0
    if not names:
        raise BotError("Give a name to screen: clearance screen 'Acme GmbH' (or - to read stdin).")
    result = screen_json(state, " ".join(names), hq=hq, kind=args.type)
    if args.json:
        print_json(result)
    else:
        _print_matches(result)
    return 0


def _screen_customers(args: argparse.Namespace) -> int:
    from bot.services.asking import KnowledgeCache
    from bot.services.screening import rescreen_customers
    from storage.screening import open_hits

    engine = _engine(args)
    state = _state(args, engine)
    if not state.lists:
        raise BotError(
            "No restricted-party list is loaded: import one with `clearance lists import`."
        )
    rescreen_customers(
        engine, state, KnowledgeCache(engine, settings=args.settings).get(), now=_now()
    )
    hits = open_hits(engine)
    data = [
        {
            "customer": h.customer_id,
            "party": h.party_id,
            "list": h.list_id,
            "entry": h.entry_key,
            "name": h.entry_name,
            "matched_name": h.matched_name,
            "strength": h.strength,
            "score": h.score,
            "first_seen": h.first_seen.isoformat(),
        }
        for h in hits
    ]
    if args.json:
        print_json(data)
        return 0
    if not data:
        print("No open hits on registered customers or their owners.")
    for d in data:
        owner = "" if d["party"] == d["customer"] else f" (owner {d['party']})"
        print(
            f"{d['customer']}{owner}: {d['strength']} {d['score']:.2f} on {d['list']} {d['entry']} '{d['name']}'"
        )
    return 0


def screen_after_import(args: argparse.Namespace) -> None:
    """Screen registered customers and their owners after an import (when a list is loaded)."""
    from bot.services.asking import KnowledgeCache
    from bot.services.screening import rescreen_customers

    engine = _engine(args)
    state = _state(args, engine)
    if not state.lists:
        print("Not screened: no restricted-party list is loaded.")
        return
    result = rescreen_customers(
        engine, state, KnowledgeCache(engine, settings=args.settings).get(), now=_now()
    )
    open_hits = sum(len(o.hits) for o in result.outcomes.values())
    print(
        f"Screened {len(result.outcomes)} customers and their owners: {open_hits} hit(s), "
        f"{len(result.new)} new. See `clearance screen customers`."
    )


def _decide(args: argparse.Namespace, decision: str, rest: list[str]) -> int:
    from bot.services.asking import KnowledgeCache
    from bot.services.screening import decision_key
    from storage.db import session_scope
    from storage.screening import find_entry, record_decision

    if len(rest) != 2:
        raise BotError(f"Use: clearance screen {decision} CUSTOMER ENTRY --why TEXT")
    if not args.why or not args.why.strip():
        raise BotError(f"Say why: clearance screen {decision} CUSTOMER ENTRY --why TEXT")
    engine = _engine(args)
    who, entry_ref = rest
    kb = KnowledgeCache(engine, settings=args.settings).get()
    customer = kb.customers.find(who)
    with session_scope(engine) as session:
        list_id, entry = find_entry(session, args.list, entry_ref)
    row = record_decision(
        engine,
        customer_id=decision_key(customer, who),
        list_id=list_id,
        entry=entry,
        decision=decision,
        actor=author(args),
        reason=args.why,
        now=_now(),
    )
    name = customer.name if customer is not None else who
    done = "confirmed" if decision == "confirm" else "dismissed"
    print(f"{done}: {name} ~ {list_id} entry {entry.entry_id} '{entry.name}' ({row.reason}).")
    return 0


def register(sub: Any) -> None:
    """Add `lists` and `screen` to the main parser."""
    lists = sub.add_parser("lists", help="restricted-party lists: import and inspect versions")
    lsub = lists.add_subparsers(dest="lists_command", required=True)
    p = lsub.add_parser("import", help="import a list file (same guards as a poll)")
    p.add_argument("--kind", required=True, choices=LIST_KIND_NAMES)
    p.add_argument("--alt", help="OFAC alt.csv (with --kind ofac_sdn and sdn.csv)")
    p.add_argument("--add", help="OFAC add.csv (with --kind ofac_sdn and sdn.csv)")
    p.add_argument("--list", help="list id (default: the kind)")
    p.add_argument(
        "--max-removed",
        type=float,
        default=DEFAULT_MAX_REMOVED_SHARE,
        help="refuse a file that removes more than this share of entries (default 0.1)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("file")
    p.set_defaults(func=cmd_lists_import)
    p = lsub.add_parser("list", help="the lists and their newest versions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lists_list)
    p = lsub.add_parser("show", help="one list's newest version and its changes")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lists_show)
    p = lsub.add_parser("history", help="one list's versions")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lists_history)

    p = sub.add_parser(
        "screen",
        help="screen a name (- reads one a line), re-screen customers, confirm or dismiss a hit",
        description="clearance screen [--json] [--hq CC] [--type org|person] NAME | - | customers\n"
        "clearance screen confirm|dismiss CUSTOMER ENTRY --why TEXT [--list ID]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--hq", help="the party's headquarters (ISO code): a mismatch lowers a score")
    p.add_argument("--type", choices=("org", "person"), default="org")
    p.add_argument("--why", help="the reason for confirm or dismiss (audited)")
    p.add_argument("--list", help="the list of the entry, when its id is on several")
    p.add_argument("name", nargs="*")
    p.set_defaults(func=cmd_screen)
