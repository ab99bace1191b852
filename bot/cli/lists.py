"""`clearance lists …`: restricted-party lists: import a file, and inspect their versions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.cli_input import print_json
from bot.cli.context import now, ready_engine
from bot.domain.errors import BotError
from bot.domain.screening.versions import DEFAULT_MAX_REMOVED_SHARE
from bot.domain.tracking.kinds import LIST_KIND_NAMES


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
    from bot.services.list_imports import import_list

    engine = ready_engine(args)
    body = _read(args.file, "list")
    assert body is not None
    result = import_list(
        engine,
        kind=args.kind,
        body=body,
        list_id=args.list,
        alt=_read(args.alt, "alt.csv"),
        add=_read(args.add, "add.csv"),
        now=now(),
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
    from storage.list_versions import list_summaries

    rows = list_summaries(ready_engine(args))
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
    from storage.list_versions import history

    versions = history(ready_engine(args), args.id)
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
    from storage.list_versions import history

    versions = history(ready_engine(args), args.id)
    if args.json:
        print_json([_version_json(v) for v in versions])
        return 0
    for v in versions:
        print(
            f"version {v.id}  {v.created_at.isoformat()}  {v.origin:6}  {v.entries} entries  +{v.added} -{v.removed} ~{v.changed}"
        )
    return 0


def register(sub: Any) -> None:
    """Add `lists import|list|show|history` to the main parser."""
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
