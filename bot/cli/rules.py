"""`clearance rules …`: import, export, validate and inspect the rule table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.cli_input import print_json, revision_number
from bot.cli.context import author, current_table, ready_engine
from bot.domain.errors import BotError


def cmd_rules_validate(args: argparse.Namespace) -> int:
    """Check a file against the current table without changing anything."""
    from bot.domain.names.places import build_place_catalog
    from bot.domain.rules.files import read_file
    from bot.domain.rules.merging import check_merged, merge
    from storage.db import session_scope
    from storage.rules import load_table

    engine = ready_engine(args)
    parsed = read_file(Path(args.file))
    with session_scope(engine) as session:
        merged = merge(load_table(session=session), parsed, replace=args.replace)
    check_merged(merged, parsed, build_place_catalog())
    counts = ", ".join(f"{len(v)} {k}" for k, v in parsed.sections.items() if v)
    print(f"{args.file}: OK ({counts or 'empty'})")
    print_advisories(merged)
    return 0


def print_advisories(table: Any) -> None:
    """Print the table's advisories as warnings on stderr (they never fail a command)."""
    from bot.domain.rules.advisories import table_advisories

    for warning in table_advisories(table):
        print(f"warning: {warning}", file=sys.stderr)


def import_revision(args: argparse.Namespace, *, allowed: tuple[str, ...] | None = None) -> int:
    """Import `args.file` (only the `allowed` sections) as one new revision and say what changed."""
    from bot.domain.rules.table import KINDS
    from bot.services.asking import utcnow
    from bot.services.rule_changes import import_file
    from storage.db import session_scope
    from storage.rules import load_table

    engine = ready_engine(args)
    with session_scope(engine) as session:
        rev = import_file(
            session=session,
            path=Path(args.file),
            replace=getattr(args, "replace", False),
            author=author(args),
            now=utcnow(),
            allowed=allowed or KINDS,
        )
        session.commit()
        table = load_table(session=session, revision=rev.number)
    print(f"Revision {rev.number}: {rev.summary}")
    print_advisories(table)
    return 0


def cmd_rules_import(args: argparse.Namespace) -> int:
    """Import a rule-table file as one new revision."""
    return import_revision(args)


def cmd_rules_export(args: argparse.Namespace) -> int:
    """Write the whole rule table as a version-1 YAML file (or to stdout)."""
    import yaml

    from storage.db import session_scope
    from storage.rules import load_table

    engine = ready_engine(args)
    with session_scope(engine) as session:
        table = load_table(session=session, revision=args.revision)
    if args.file and Path(args.file).suffix.lower() == ".csv":
        from bot.domain.rules.csv_import import CSV_FIELDS
        from bot.domain.rules.csv_rules import rules_to_csv

        text = rules_to_csv(table, CSV_FIELDS)
    else:
        text = f"# Clearance rule table, revision {table.revision}\n" + yaml.safe_dump(
            table.to_dict(), sort_keys=False, allow_unicode=True, width=100
        )
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8")
        what = "the rules of revision" if args.file.lower().endswith(".csv") else "revision"
        print(f"Wrote {what} {table.revision} to {args.file}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    """List the rules in force at the newest revision."""
    table = current_table(args)
    rules = [table.rules[k] for k in sorted(table.rules)]
    if args.json:
        print_json({"revision": table.revision, "rules": [r.to_dict() for r in rules]})
        return 0
    for r in rules:
        print(f"{r.id:40} {r.effect:17} {_rule_dates(r):27} {_rule_title(r)}")
    print(f"{len(rules)} rules at revision {table.revision}")
    return 0


def _rule_dates(rule: Any) -> str:
    """Say when a rule is in force in words: "always", "from D", "until D", "D to D"."""
    start, end = rule.effective_from, rule.effective_to
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    return f"until {end}" if end else "always"


def _rule_title(rule: Any) -> str:
    """Return the title, flagged once when the rule rests on unverified facts."""
    if not rule.unverified or "unverified" in rule.title.lower():
        return str(rule.title)
    return f"{rule.title} (unverified)"


def cmd_rules_show(args: argparse.Namespace) -> int:
    """Show one rule (or group, model, license) in file form."""
    import yaml

    table = current_table(args)
    for kind in ("rules", "groups", "models", "licenses", "vendors"):
        entity = table.section(kind).get(args.id)
        if entity is not None:
            sys.stdout.write(
                yaml.safe_dump(
                    {kind: [entity.to_dict()]}, sort_keys=False, allow_unicode=True, width=100
                )
            )
            return 0
    raise BotError(
        f"No rule, group, model or license with id '{args.id}'. See `clearance rules list`."
    )


def register(sub: Any) -> None:
    """Add `rules import|export|validate|list|show` to the main parser."""
    rules = sub.add_parser("rules", help="import, export, validate and inspect the rule table")
    rsub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    p = rsub.add_parser("import", help="import a YAML or CSV file as one new revision")
    p.add_argument("file")
    p.add_argument(
        "--replace",
        action="store_true",
        help="make the file the whole rule table (places stay built in)",
    )
    p.set_defaults(func=cmd_rules_import)
    p = rsub.add_parser(
        "export", help="write the rule table as YAML (or, to a .csv file, its rules as CSV)"
    )
    p.add_argument("file", nargs="?")
    p.add_argument(
        "--revision", type=revision_number, help="export an earlier revision (1 or more)"
    )
    p.set_defaults(func=cmd_rules_export)
    p = rsub.add_parser("validate", help="check a file without changing anything")
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="check it as a whole table")
    p.set_defaults(func=cmd_rules_validate)
    p = rsub.add_parser("list", help="list the rules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules_list)
    p = rsub.add_parser("show", help="show one rule, group, model or license")
    p.add_argument("id")
    p.set_defaults(func=cmd_rules_show)
