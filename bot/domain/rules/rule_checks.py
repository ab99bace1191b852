"""Checks of rules: references, conditions that can never hold, list codes, access and dates."""

from __future__ import annotations

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.conditions import ControlSpec, CustomerSpec, ListedSpec, PlaceSpec
from bot.domain.rules.listed import LIST_CODES
from bot.domain.rules.problems import Problem, never_in_force
from bot.domain.rules.reference_checks import check_refs, never_matches, selector_problems
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import ACCESS_KINDS, RuleTable

# (field, message, the other entity it is about)
Finding = tuple[str, str, tuple[str, str] | None]
_NEVER = "so the rule can never match"


def _listed_problems(effect: str, listed: ListedSpec) -> list[tuple[str, str]]:
    """Return (field, message) for a `listed` condition: known list codes, never an allow."""
    out = []
    for i, code in enumerate(listed.lists):
        if code not in LIST_CODES:
            hint = (
                f" (did you mean '{code.upper()}'?)"
                if code.upper() in LIST_CODES
                else did_you_mean(code, LIST_CODES)
            )
            out.append(
                (f"listed.lists[{i}]", f"unknown list '{code}'{hint}; use {', '.join(LIST_CODES)}")
            )
    if effect == "allow":
        # Being on a list never makes a party more welcome; such a rule could only clear one.
        out.append(
            (
                "effect",
                "a rule on list membership cannot allow; use deny, license_required or review",
            )
        )
    return out


def _place_findings(
    fields: tuple[str, str, str],
    spec: PlaceSpec,
    table: RuleTable,
    places: PlaceCatalog,
    message: str,
) -> list[Finding]:
    """Report unresolved places of an in/not_in pair, else a pair that leaves no place."""
    whole, include, exclude = fields
    bad = check_refs(spec.in_ or (), table, places)
    out: list[Finding] = [(f"{include}[{i}]", m, ref) for i, m, ref in bad]
    bad_out = check_refs(spec.not_in, table, places)
    out += [(f"{exclude}[{i}]", m, ref) for i, m, ref in bad_out]
    if not bad and not bad_out and never_matches(spec, table, places):
        out.append((whole, message, None))
    return out


def _control_findings(cf: ControlSpec, table: RuleTable, places: PlaceCatalog) -> list[Finding]:
    """Report a `controlled_from` condition's places and a threshold no share can cross."""
    out = _place_findings(
        (
            "customer.controlled_from",
            "customer.controlled_from.in",
            "customer.controlled_from.not_in",
        ),
        cf.places,
        table,
        places,
        f"not_in removes every place in 'in' (or 'in' is empty), {_NEVER}",
    )
    key = "at_least" if cf.inclusive else "more_than"
    if not 0 <= cf.threshold <= 100:
        out.append(
            (
                f"customer.controlled_from.{key}",
                f"threshold {cf.threshold:g} is outside 0-100; give a percentage",
                None,
            )
        )
    elif not cf.inclusive and cf.threshold >= 100:
        out.append(
            (
                "customer.controlled_from.more_than",
                f"no one can hold more than 100%, {_NEVER}; use at_least: 100",
                None,
            )
        )
    return out


def _customer_findings(c: CustomerSpec, table: RuleTable, places: PlaceCatalog) -> list[Finding]:
    """Report the problems of a rule's conditions on the customer."""
    out = _place_findings(
        ("customer", "customer.hq_in", "customer.hq_not_in"),
        PlaceSpec(c.hq_in, c.hq_not_in),
        table,
        places,
        f"hq_not_in removes every place in hq_in (or hq_in is empty), {_NEVER}",
    )
    if c.controlled_from is not None:
        out += _control_findings(c.controlled_from, table, places)
    return out


def _access_findings(access: tuple[str, ...]) -> list[Finding]:
    """Report an empty access list and unknown access kinds."""
    out: list[Finding] = []
    if not access:
        out.append(("access", f"an empty list, {_NEVER}; omit access to match any access", None))
    for i, a in enumerate(access):
        if a not in ACCESS_KINDS:
            out.append(
                (
                    f"access[{i}]",
                    f"unknown access '{a}'{did_you_mean(a, ACCESS_KINDS)}; "
                    "use api, weights or hosted",
                    None,
                )
            )
    return out


def rule_problems(rid: str, table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return the problems of one rule."""
    r = table.rules[rid]
    found: list[Finding] = []
    if r.models is not None:
        found += selector_problems(r.models, table, "rule can never match")
    if r.places is not None:
        found += _place_findings(
            ("places", "places.in", "places.not_in"),
            r.places,
            table,
            places,
            f"not_in removes every place in 'in' (or 'in' is empty), {_NEVER}",
        )
    if r.customer is not None:
        found += _customer_findings(r.customer, table, places)
    if r.listed is not None:
        found += [(f, m, None) for f, m in _listed_problems(r.effect, r.listed)]
    if r.access is not None:
        found += _access_findings(r.access)
    if r.effective_from and r.effective_to and r.effective_to < r.effective_from:
        found.append(
            (
                "effective_to",
                never_in_force(
                    r.effective_from, r.effective_to, "effective_from", "rule is never in force"
                ),
                None,
            )
        )
    return [Problem("rules", rid, f, m, ref) for f, m, ref in found]
