"""Semantic checks of a whole rule table: references, ownership, and rules that can never match.

Returns problems as (kind, id, field, message); the file loader turns them into FILE:LINE errors.
Fields name list items by index (`places.in[2]`, `owners[0].share`) so the loader can point at the
exact line, and every message says what to do about the problem.
"""

from __future__ import annotations

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.customer_checks import customer_problems, ownership_problems
from bot.domain.rules.group_checks import group_problems
from bot.domain.rules.license_checks import license_problems
from bot.domain.rules.model_checks import model_problems
from bot.domain.rules.problems import Problem
from bot.domain.rules.reference_checks import check_refs
from bot.domain.rules.rule_checks import rule_problems
from bot.domain.rules.table import RuleTable


def validate_table(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return every semantic problem in the table (empty when it is sound)."""
    out: list[Problem] = []
    for v in table.vendors.values():
        if v.hq is not None:
            out += [
                Problem("vendors", v.id, "hq", m, ref)
                for _, m, ref in check_refs([v.hq], table, places, groups=False)
            ]
    out += group_problems(table, places)
    out += model_problems(table)
    out += customer_problems(table, places)
    out += ownership_problems(table)
    for r in table.rules.values():
        out += rule_problems(r.id, table, places)
    out += license_problems(table, places)
    return out
