"""`clearance customers …`: import and inspect the registered customers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.cli_input import print_json
from bot.cli.context import current_table
from bot.cli.rules import import_revision
from bot.cli.screening import screen_after_import
from bot.domain.errors import BotError


def cmd_customers_import(args: argparse.Namespace) -> int:
    """Import customers (upsert by id) as one new revision, then screen them."""
    code = import_revision(args, allowed=("customers",))
    if code == 0:
        screen_after_import(args)
    return code


def cmd_customers_list(args: argparse.Namespace) -> int:
    """List registered customers."""
    table = current_table(args)
    customers = [table.customers[k] for k in sorted(table.customers)]
    if args.json:
        print_json({"revision": table.revision, "customers": [c.to_dict() for c in customers]})
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

    table = current_table(args)
    customer = table.customers.get(args.name) or CustomerIndex(table.customers).find(args.name)
    if customer is None:
        raise BotError(
            f"No registered customer called '{args.name}'. See `clearance customers list`."
        )
    sys.stdout.write(
        yaml.safe_dump({"customers": [customer.to_dict()]}, sort_keys=False, allow_unicode=True)
    )
    return 0


def register(sub: Any) -> None:
    """Add `customers import|list|show` to the main parser."""
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
