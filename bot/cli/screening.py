"""`clearance screen …`: screen names and customers against the restricted-party lists, and
confirm or dismiss a hit."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.cli_input import print_json
from bot.cli.context import author, now, ready_engine
from bot.domain.errors import BotError

MAX_LINE = 1000  # a batch line longer than this is not a name


def _state(args: argparse.Namespace, engine: Any) -> Any:
    from bot.services.screening_cache import screening_cache

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
    from bot.services.screening_answers import screen_json

    engine = ready_engine(args)
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
    from bot.services.rescreening import rescreen_customers
    from storage.screening_hits import open_hits

    engine = ready_engine(args)
    state = _state(args, engine)
    if not state.lists:
        raise BotError(
            "No restricted-party list is loaded: import one with `clearance lists import`."
        )
    rescreen_customers(
        engine, state, KnowledgeCache(engine, settings=args.settings).get(), now=now()
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
    from bot.services.rescreening import rescreen_customers

    engine = ready_engine(args)
    state = _state(args, engine)
    if not state.lists:
        print("Not screened: no restricted-party list is loaded.")
        return
    result = rescreen_customers(
        engine, state, KnowledgeCache(engine, settings=args.settings).get(), now=now()
    )
    open_hits = sum(len(o.hits) for o in result.outcomes.values())
    print(
        f"Screened {len(result.outcomes)} customers and their owners: {open_hits} hit(s), "
        f"{len(result.new)} new. See `clearance screen customers`."
    )


def _decide(args: argparse.Namespace, decision: str, rest: list[str]) -> int:
    from bot.services.asking import KnowledgeCache
    from bot.services.subject_screening import decision_key
    from storage.db import session_scope
    from storage.list_entries import find_entry
    from storage.screening_decisions import record_decision

    if len(rest) != 2:
        raise BotError(f"Use: clearance screen {decision} CUSTOMER ENTRY --why TEXT")
    if not args.why or not args.why.strip():
        raise BotError(f"Say why: clearance screen {decision} CUSTOMER ENTRY --why TEXT")
    engine = ready_engine(args)
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
        now=now(),
    )
    name = customer.name if customer is not None else who
    done = "confirmed" if decision == "confirm" else "dismissed"
    print(f"{done}: {name} ~ {list_id} entry {entry.entry_id} '{entry.name}' ({row.reason}).")
    return 0


def register(sub: Any) -> None:
    """Add `screen` to the main parser."""
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
