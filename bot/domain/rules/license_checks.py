"""Checks of licenses: the customer, the license_required rules and the scope they name."""

from __future__ import annotations

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.problems import Problem, never_in_force
from bot.domain.rules.reference_checks import check_refs, selector_problems
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import License, RuleTable


def _rule_name_problems(lic: License, table: RuleTable) -> list[Problem]:
    """Report rules a license names that are unknown or not license_required."""
    out = []
    for i, rid in enumerate(lic.rules):
        rule = table.rules.get(rid)
        if rule is None:
            out.append(
                Problem(
                    "licenses",
                    lic.id,
                    f"rules[{i}]",
                    f"unknown rule '{rid}'{did_you_mean(rid, table.rules)}; "
                    "name a license_required rule",
                    ("rules", rid),
                )
            )
        elif rule.effect != "license_required":
            out.append(
                Problem(
                    "licenses",
                    lic.id,
                    f"rules[{i}]",
                    f"rule '{rid}' is '{rule.effect}', but a license can only "
                    "lift license_required rules; name a license_required rule "
                    "or make this rule license_required",
                    ("rules", rid),
                )
            )
    return out


def license_problems(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return the problems of every license."""
    out = []
    for lic in table.licenses.values():
        if lic.customer not in table.customers:
            out.append(
                Problem(
                    "licenses",
                    lic.id,
                    "customer",
                    f"unknown customer '{lic.customer}'"
                    f"{did_you_mean(lic.customer, table.customers)}; "
                    "add it under customers: or fix the id",
                    ("customers", lic.customer),
                )
            )
        out += _rule_name_problems(lic, table)
        if lic.models is not None:
            out += [
                Problem("licenses", lic.id, f, m, ref)
                for f, m, ref in selector_problems(lic.models, table, "license can never apply")
            ]
        if lic.places is not None:
            out += [
                Problem("licenses", lic.id, f"places[{i}]", m, ref)
                for i, m, ref in check_refs(lic.places, table, places)
            ]
        if lic.valid_from and lic.valid_to and lic.valid_to < lic.valid_from:
            out.append(
                Problem(
                    "licenses",
                    lic.id,
                    "valid_to",
                    never_in_force(
                        lic.valid_from, lic.valid_to, "valid_from", "license is never valid"
                    ),
                )
            )
    return out
