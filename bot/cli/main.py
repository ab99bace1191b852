"""The `clearance` command line: ask questions and manage the rule table.

Exit codes: 0 success, 1 a bad file or a failed command (nothing applied), 2 a question that
cannot be answered as asked (the JSON error names candidates) or bad usage, 3 the database could
not be reached, read or written, 4 `audit verify` found the audit log changed, 141 the reader of
the output went away.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

# Each command imports what it needs when it runs: `clearance ask` is a new process every time,
# and start-up is most of its cost; `--help` imports neither pydantic nor SQLAlchemy.
from bot.cli.context import author, load_settings, open_engine, ready_engine
from bot.cli.policy import add_parsers
from bot.domain.errors import BotError, InvalidFile, QuestionError

EPILOG = """examples:
  clearance ask "can Acme GmbH in Germany use Claude Sonnet 4.5?"
  clearance ask --json --as-of 2025-08-01 "can Nimbus in Singapore use claude-sonnet-4-5"
  clearance rules validate my-rules.yaml
  clearance rules import my-rules.yaml            # upsert by id: one new revision
  clearance rules import --replace my-rules.yaml  # the file becomes the whole rule table
  clearance customers import customers.yaml
"""


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=None, ensure_ascii=False, default=str))


def cmd_init(args: argparse.Namespace) -> int:
    """Create the database and load the default rule pack (or --pack FILE, or none)."""
    from bot.cli.init_check import check_pack, remove_new_sqlite_file, sqlite_file_is_new

    # A pack is checked before anything is created: a failed init leaves nothing behind.
    if args.pack is not None:
        check_pack(Path(args.pack), max_bytes=args.settings.max_file_bytes)
    url = args.settings.database_url
    new_file = sqlite_file_is_new(url)
    try:
        return _init(args)
    except BaseException:
        if new_file:
            remove_new_sqlite_file(url)
        raise


def _init(args: argparse.Namespace) -> int:
    from bot.services.asking import initialize

    engine = open_engine(args)
    chosen = args.pack is not None or args.no_pack
    settings = args.settings
    # A database that has a revision keeps its table: a pack is loaded into a new one only.
    rev = initialize(engine, pack=None, seed_sources=False)
    if rev and chosen:
        raise BotError(
            f"The database already holds revision {rev}, so --pack and --no-pack "
            "change nothing. Load a file with `clearance rules import FILE` (add "
            "--replace to make it the whole rule table)."
        )
    if not rev:
        from storage.rules import DEFAULT_PACK

        pack = None if args.no_pack else Path(args.pack) if args.pack else DEFAULT_PACK
        rev = initialize(
            engine,
            pack=pack,
            author=author(args),
            empty=args.no_pack,
            seed_sources=settings.seed_sources,
        )
    elif settings.seed_sources:
        from bot.services.asking import add_default_sources, utcnow

        add_default_sources(engine, now=utcnow())
    print(f"Database ready at revision {rev}.")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question."""
    from bot.cli.plain_text import format_answer
    from bot.services.asking import KnowledgeCache, ask
    from storage.snapshots import SnapshotStore

    engine = ready_engine(args)
    text = " ".join(args.question)
    # A one-shot answer fetches only the customers it needs (fast with 100,000 of them), and
    # loads the rules compiled by an earlier `ask` at the same revision.
    cache = KnowledgeCache(
        engine,
        lazy_customers=True,
        snapshots=SnapshotStore.for_engine(engine, args.settings.snapshot_dir()),
        settings=args.settings,
    )
    try:
        as_of = _as_of_option(args.as_of)
        answer = ask(
            engine,
            cache,
            text,
            actor=author(args),
            as_of=as_of,
            access=args.access,
            hq=args.hq,
        )
    except QuestionError as exc:
        if args.json:
            _print_json(exc.to_dict())
        else:
            print(f"Can't answer: {exc.message}", file=sys.stderr)
            for c in exc.candidates:
                print(f"  - {c.label}  [{c.value}]", file=sys.stderr)
        return 2
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(format_answer(answer))
    return 0


def _as_of_option(value: str | None) -> date | None:
    """Read --as-of; a bad date is a question error, answered like one (JSON with --json)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QuestionError(
            "bad_date",
            f"--as-of '{value}' is not a date. Write it as YYYY-MM-DD, e.g. --as-of 2026-01-31.",
        ) from None


def cmd_rules_validate(args: argparse.Namespace) -> int:
    """Check a file against the current table without changing anything."""
    from bot.domain.rules.files import read_file
    from bot.domain.rules.merging import check_merged, merge
    from storage.db import session_scope
    from storage.rules import load_table

    engine = ready_engine(args)
    parsed = read_file(Path(args.file))
    from bot.domain.names.places import build_place_catalog

    with session_scope(engine) as session:
        merged = merge(load_table(session=session), parsed, replace=args.replace)
    check_merged(merged, parsed, build_place_catalog())
    counts = ", ".join(f"{len(v)} {k}" for k, v in parsed.sections.items() if v)
    print(f"{args.file}: OK ({counts or 'empty'})")
    _print_advisories(merged)
    return 0


def _print_advisories(table: Any) -> None:
    """Print the table's advisories as warnings on stderr (they never fail a command)."""
    from bot.domain.rules.advisories import table_advisories

    for warning in table_advisories(table):
        print(f"warning: {warning}", file=sys.stderr)


def _import(args: argparse.Namespace, *, allowed: tuple[str, ...] | None = None) -> int:
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
    _print_advisories(table)
    return 0


def cmd_rules_import(args: argparse.Namespace) -> int:
    """Import a rule-table file as one new revision."""
    return _import(args)


def cmd_customers_import(args: argparse.Namespace) -> int:
    """Import customers (upsert by id) as one new revision, then screen them."""
    code = _import(args, allowed=("customers",))
    if code == 0:
        from bot.cli.screening import screen_after_import

        screen_after_import(args)
    return code


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


def _table(args: argparse.Namespace) -> Any:
    from storage.db import session_scope
    from storage.rules import load_table

    engine = ready_engine(args)
    with session_scope(engine) as session:
        return load_table(session=session)


def cmd_rules_list(args: argparse.Namespace) -> int:
    """List the rules in force at the newest revision."""
    table = _table(args)
    rules = [table.rules[k] for k in sorted(table.rules)]
    if args.json:
        _print_json({"revision": table.revision, "rules": [r.to_dict() for r in rules]})
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

    table = _table(args)
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


def cmd_customers_list(args: argparse.Namespace) -> int:
    """List registered customers."""
    table = _table(args)
    customers = [table.customers[k] for k in sorted(table.customers)]
    if args.json:
        _print_json({"revision": table.revision, "customers": [c.to_dict() for c in customers]})
        return 0
    for c in customers:
        owners = ", ".join(f"{o.owner} {o.share:g}%" for o in c.owners)
        print(f"{c.id:24} {c.hq:6} {c.name}" + (f"  (owners: {owners})" if owners else ""))
    print(f"{len(customers)} customers at revision {table.revision}")
    return 0


def cmd_customers_show(args: argparse.Namespace) -> int:
    """Show one customer by id, name or alias."""
    import yaml

    from bot.domain.asking.customer_names import CustomerIndex

    table = _table(args)
    customer = table.customers.get(args.name) or CustomerIndex(table.customers).find(args.name)
    if customer is None:
        raise BotError(
            f"No registered customer called '{args.name}'. See `clearance customers list`."
        )
    sys.stdout.write(
        yaml.safe_dump({"customers": [customer.to_dict()]}, sort_keys=False, allow_unicode=True)
    )
    return 0


def cmd_revisions_list(args: argparse.Namespace) -> int:
    """List recent revisions."""
    from storage.db import session_scope
    from storage.rules import list_revisions

    engine = ready_engine(args)
    with session_scope(engine) as session:
        revs = list_revisions(session=session, limit=args.limit)
    if args.json:
        _print_json([r.model_dump(mode="json") for r in revs])
        return 0
    for r in revs:
        print(f"{r.number:5}  {r.created_at:%Y-%m-%d %H:%M}  {r.author:20} {r.summary}")
    if not revs:
        print("no rows")
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
        _print_json(rev.model_dump(mode="json"))
        return 0
    print(f"Revision {rev.number} by {rev.author} at {rev.created_at:%Y-%m-%d %H:%M:%S} UTC")
    print(f"  {rev.summary}")
    if rev.source:
        print(f"  source: {rev.source}")
    for c in rev.changes:
        print(f"  {c['op']:8} {c['kind']:10} {c['id']}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Show recent decisions from the audit log (or, with `verify`, check its hash chains)."""
    from storage.db import session_scope
    from storage.decisions import list_decisions
    from storage.reviews import override_verdict, review_json, reviews_of

    engine = ready_engine(args)
    if args.what == "verify":
        from bot.cli.audit import cmd_audit_verify

        return cmd_audit_verify(args, engine)
    with session_scope(engine) as session:
        rows = list_decisions(
            session=session, actor=args.actor, customer=args.customer, limit=args.limit
        )
        reviews = reviews_of(session=session, decision_ids=[r.id for r in rows])
    if args.json:
        # Reviews are linked beside each decision; the decision itself is printed as written.
        _print_json(
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
        print("no rows")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the Slack bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)."""
    from bot.services.logs import configure_logging
    from bot.services.metrics_dir import use_multiprocess_dir

    use_multiprocess_dir()  # before prometheus-client is imported, so every worker shares it
    from bot.server import serve

    settings = args.settings
    configure_logging(
        settings.log_format,
        [
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.slack_client_secret,
            settings.metrics_token,
        ],
    )
    if args.workers is not None:
        settings = settings.model_copy(update={"web_workers": args.workers})
    serve(settings, http=args.http, host=args.host, port=args.port)
    return 0


def revision_number(text: str) -> int:
    """Parse a revision number: 1 or more (argparse turns the error into a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be 1 or more, not {value}; see `clearance revisions list`"
        )
    return value


def positive_limit(text: str) -> int:
    """Parse a row limit from 1 to 10,000."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not '{text}'") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be from 1 to 10000, not {value}")
    return value


def worker_count(text: str) -> int:
    """Parse a whole number from 1 to 64 (argparse turns the ValueError into a usage error)."""
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 1 to 64, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every command."""
    parser = argparse.ArgumentParser(
        prog="clearance",
        description="Answer 'can customer X in country Y use model Z?' from "
        "a cited, audited rule table.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--db", help="database URL (default: $CLEARANCE_DATABASE_URL or sqlite:///clearance.db)"
    )
    parser.add_argument("--author", help="who is making changes (default: cli:$USER)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create the database and load the default rule pack")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--pack", help="load this rule-table file instead of the default pack")
    which.add_argument(
        "--no-pack",
        action="store_true",
        help="start with an empty rule table (recorded as revision 1, so later "
        "commands do not load the default pack)",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+", help='e.g. "can Acme in Brazil use GPT-4o?"')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--as-of", help="decide as of this date (YYYY-MM-DD); default today, UTC")
    p.add_argument(
        "--access",
        choices=["api", "weights", "hosted"],
        help="how the model is accessed (default api)",
    )
    p.add_argument(
        "--hq",
        help="where the customer is headquartered (a country name or code); the place in the "
        "question is then only where the model is used",
    )
    p.set_defaults(func=cmd_ask)

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

    cust = sub.add_parser("customers", help="import and inspect customers")
    csub = cust.add_subparsers(dest="customers_command", required=True, metavar="ACTION")
    p = csub.add_parser("import", help="import customers (upsert by id) as one new revision")
    p.add_argument("file")
    p.set_defaults(func=cmd_customers_import)
    p = csub.add_parser("list", help="list customers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_customers_list)
    p = csub.add_parser("show", help="show one customer")
    p.add_argument("name")
    p.set_defaults(func=cmd_customers_show)

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

    p = sub.add_parser(
        "serve", help="run the Slack bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)"
    )
    p.add_argument("--http", action="store_true", help="force HTTP mode")
    p.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default 0.0.0.0)")
    p.add_argument(
        "--port", type=int, help="HTTP port (default 3000; in Socket Mode, serve /healthz on it)"
    )
    p.add_argument(
        "--workers",
        type=worker_count,
        metavar="N",
        help="HTTP worker processes (default CLEARANCE_WEB_WORKERS, else one per CPU "
        "up to 4; one on SQLite with FULL audit commits, the default)",
    )
    p.set_defaults(func=cmd_serve)

    add_parsers(sub)

    from bot.cli.screening import add_parsers as add_screening_parsers

    add_screening_parsers(sub)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        args.settings = load_settings(args)
        code: int = args.func(args)
        # Inside the try: a short answer to a pipe sits in the buffer until here.
        sys.stdout.flush()
        return code
    except InvalidFile as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(f"{len(exc.errors)} error(s); nothing was changed.", file=sys.stderr)
        return 1
    except BotError as exc:
        from bot.cli.cli_input import unslack

        print(unslack(exc.message), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            return _broken_pipe()
        if _is_database_error(exc):
            return _database_failed(exc, args)
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        return _database_failed(exc, args)


def _is_database_error(exc: BaseException) -> bool:
    """Return whether an error came from the database or its driver."""
    module = type(exc).__module__
    return module.startswith(("sqlalchemy", "sqlite3", "psycopg", "_sqlite3"))


def _database_failed(exc: BaseException, args: argparse.Namespace) -> int:
    from bot.cli.db_errors import EXIT_DATABASE, describe

    url = args.db or os.environ.get("CLEARANCE_DATABASE_URL") or "sqlite:///clearance.db"
    print(f"error: {describe(exc, url)}", file=sys.stderr)
    return EXIT_DATABASE


def _broken_pipe() -> int:
    """Stop quietly when the reader went away (`clearance rules list | head`), as Unix tools do."""
    # What was done is done (an answer is audited before it is printed). Python flushes
    # stdout again at exit, so point it at /dev/null first (the Python docs' recipe).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped that way
