"""Checks of customers: places and models they use, and who owns them (shares, cycles)."""

from __future__ import annotations

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.problems import Problem
from bot.domain.rules.reference_checks import check_refs
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import ACCESS_KINDS, RuleTable


def customer_problems(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return the problems of every customer's headquarters and uses."""
    out = []
    for c in table.customers.values():
        out += [
            Problem("customers", c.id, "hq", m, ref)
            for _, m, ref in check_refs([c.hq], table, places, groups=False)
        ]
        for i, u in enumerate(c.uses):
            if u.model not in table.models:
                out.append(
                    Problem(
                        "customers",
                        c.id,
                        f"uses[{i}].model",
                        f"unknown model '{u.model}'"
                        f"{did_you_mean(u.model, table.models)}; use a model id",
                        ("models", u.model),
                    )
                )
            out += [
                Problem("customers", c.id, f"uses[{i}].country", m, ref)
                for _, m, ref in check_refs([u.country], table, places, groups=False)
            ]
            if u.access not in ACCESS_KINDS:
                out.append(
                    Problem(
                        "customers",
                        c.id,
                        f"uses[{i}].access",
                        f"unknown access '{u.access}'; use api, weights or hosted",
                    )
                )
    return out


def ownership_problems(table: RuleTable) -> list[Problem]:
    """Return unknown owners, shares outside 0-100 or over 100 in all, and ownership cycles."""
    out = []
    for c in table.customers.values():
        total = 0.0
        for i, o in enumerate(c.owners):
            if o.owner not in table.customers:
                out.append(
                    Problem(
                        "customers",
                        c.id,
                        f"owners[{i}].owner",
                        f"unknown customer '{o.owner}'{did_you_mean(o.owner, table.customers)}; "
                        "owners must be customers too, so add it under customers:",
                        ("customers", o.owner),
                    )
                )
            if not 0 < o.share <= 100:
                out.append(
                    Problem(
                        "customers",
                        c.id,
                        f"owners[{i}].share",
                        f"share {o.share:g} is outside 0-100; give the percentage "
                        "held, more than 0 and at most 100",
                    )
                )
            total += o.share
        if total > 100 + 1e-9:
            out.append(
                Problem(
                    "customers",
                    c.id,
                    "owners",
                    f"the owners' shares of '{c.id}' add up to {total:g}%, over 100%; "
                    "fix the shares so they total at most 100",
                )
            )
    out += _ownership_cycles(table)
    return out


def _ownership_cycles(table: RuleTable) -> list[Problem]:
    """Find ownership cycles by depth-first search; report the owners entry that closes each."""
    out = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(table.customers):
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack.pop()
            owners = table.customers[node].owners
            if i == 0:
                state[node] = 1
                path.append(node)
            if i < len(owners):
                stack.append((node, i + 1))
                nxt = owners[i].owner
                if nxt not in table.customers:
                    continue
                if state.get(nxt) == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    words = ", which is owned by ".join(f"'{c}'" for c in cycle)
                    out.append(
                        Problem(
                            "customers",
                            node,
                            f"owners[{i}].owner",
                            f"ownership cycle: {words}; a company cannot own itself, "
                            "directly or through others, so remove one of these "
                            "owners entries",
                            ("customers", nxt),
                        )
                    )
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return out
