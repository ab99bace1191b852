"""Two registered customers may not share a name or alias: a question naming it would be ambiguous.

Names are compared as the customer lookup compares them (`customer_key`: case, accents and
punctuation folded), so "ACME, GmbH." clashes with "Acme GmbH".
"""

from __future__ import annotations

from bot.domain.names.keys import customer_key
from bot.domain.rules.problems import Problem
from bot.domain.rules.table import RuleTable


def name_clash_problems(table: RuleTable) -> list[Problem]:
    """Return a problem for each name or alias that another customer already uses."""
    owners: dict[str, str] = {}
    for cid in sorted(table.customers):
        owners.setdefault(customer_key(cid), cid)
    out: list[Problem] = []
    for cid in sorted(table.customers):
        customer = table.customers[cid]
        names = [("name", customer.name)]
        names += [(f"aliases[{i}]", alias) for i, alias in enumerate(customer.aliases)]
        for where, name in names:
            key = customer_key(name)
            if not key:
                continue
            other = owners.setdefault(key, cid)
            if other != cid:
                out.append(
                    Problem(
                        "customers",
                        cid,
                        where,
                        f"'{_cut(name)}' is already a name, alias or id of customer '{other}', so "
                        "a question naming it could mean either; give each customer its own names",
                        ("customers", other),
                    )
                )
    return out


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
