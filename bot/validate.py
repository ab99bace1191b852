"""Semantic checks of a whole rule table: references, ownership, and rules that can never match.

Returns problems as (kind, id, field, message); the file loader turns them into FILE:LINE errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.engine import expand_places
from bot.places import PlaceCatalog
from bot.ruletable import ACCESS_KINDS, ModelSelector, PlaceSpec, RuleTable


@dataclass(frozen=True)
class Problem:
    """One semantic problem in a rule table."""

    kind: str
    id: str
    field: str
    message: str


def _check_refs(refs: Iterable[str], table: RuleTable, places: PlaceCatalog) -> list[str]:
    bad = []
    for ref in refs:
        if ref.startswith("group:"):
            if ref[len("group:"):] not in table.groups:
                bad.append(f"unknown group '{ref[len('group:'):]}'")
        elif ref.upper() not in places and places.ensure_subdivision(ref) is None:
            bad.append(f"unknown place '{ref}' (use an ISO 3166-1 alpha-2 code such as DE, "
                       "an ISO 3166-2 code such as UA-43, or group:ID)")
    return bad


def _covered(include: frozenset[str], exclude: frozenset[str], places: PlaceCatalog) -> bool:
    """Return whether `exclude` removes every place of `include`."""
    return all(code in exclude or places.parent_of(code) in exclude for code in include)


def _never(spec: PlaceSpec, table: RuleTable, places: PlaceCatalog) -> bool:
    if spec.in_ is None:
        return False
    include = expand_places(spec.in_, table, places)
    return not include or _covered(include, expand_places(spec.not_in, table, places), places)


def _selector_problems(sel: ModelSelector, table: RuleTable) -> list[tuple[str, str]]:
    out = []
    families = {m.family for m in table.models.values()}
    tags = {t for m in table.models.values() for t in m.tags}
    out += [("models.ids", f"unknown model '{i}'") for i in sel.ids if i not in table.models]
    out += [("models.families", f"unknown family '{f}'") for f in sel.families
            if f not in families]
    out += [("models.vendors", f"unknown vendor '{v}'") for v in sel.vendors
            if v not in table.vendor_ids()]
    out += [("models.tags", f"no model has the tag '{t}'") for t in sel.tags if t not in tags]
    if not out and not any(sel.matches(m) for m in table.models.values()):
        out.append(("models", "matches no model, so the rule can never match"))
    return out


def _group_cycles(table: RuleTable) -> list[Problem]:
    out = []
    for gid in table.groups:
        stack, seen = [gid], set()
        while stack:
            cur = stack.pop()
            for m in table.groups[cur].members if cur in table.groups else ():
                if m.startswith("group:"):
                    ref = m[len("group:"):]
                    if ref == gid:
                        out.append(Problem("groups", gid, "members",
                                           f"group '{gid}' contains itself through '{cur}'"))
                        stack = []
                        break
                    if ref not in seen:
                        seen.add(ref)
                        stack.append(ref)
    return out


def _ownership_problems(table: RuleTable) -> list[Problem]:
    out = []
    for c in table.customers.values():
        total = 0.0
        for o in c.owners:
            if o.owner not in table.customers:
                out.append(Problem("customers", c.id, "owners.owner",
                                   f"unknown customer '{o.owner}'"))
            if not 0 < o.share <= 100:
                out.append(Problem("customers", c.id, "owners.share",
                                   f"share {o.share:g} is outside 0-100"))
            total += o.share
        if total > 100 + 1e-9:
            out.append(Problem("customers", c.id, "owners",
                               f"shares in {c.id} add up to {total:g}%, over 100%"))
    # Cycle detection: depth-first search with colours.
    state: dict[str, int] = {}
    for start in sorted(table.customers):
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack.pop()
            owners = [o.owner for o in table.customers[node].owners
                      if o.owner in table.customers]
            if i == 0:
                state[node] = 1
                path.append(node)
            if i < len(owners):
                stack.append((node, i + 1))
                nxt = owners[i]
                if state.get(nxt) == 1:
                    cycle = [*path[path.index(nxt):], nxt]
                    out.append(Problem("customers", nxt, "owners",
                                       "ownership cycle: " + " -> ".join(cycle)))
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return out


def validate_table(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return every semantic problem in the table (empty when it is sound)."""
    out: list[Problem] = []
    for g in table.groups.values():
        out += [Problem("groups", g.id, "members", m) for m in _check_refs(g.members, table, places)]
    out += _group_cycles(table)
    for m in table.models.values():
        if table.vendors and m.vendor not in table.vendors:
            out.append(Problem("models", m.id, "vendor", f"unknown vendor '{m.vendor}'"))
    for c in table.customers.values():
        out += [Problem("customers", c.id, "hq", m) for m in _check_refs([c.hq], table, places)]
        for u in c.uses:
            if u.model not in table.models:
                out.append(Problem("customers", c.id, "uses.model", f"unknown model '{u.model}'"))
            out += [Problem("customers", c.id, "uses.country", m)
                    for m in _check_refs([u.country], table, places)]
            if u.access not in ACCESS_KINDS:
                out.append(Problem("customers", c.id, "uses.access",
                                   f"unknown access '{u.access}' (use api, weights or hosted)"))
    out += _ownership_problems(table)
    for r in table.rules.values():
        out += _rule_problems(r.id, table, places)
    for lic in table.licenses.values():
        if lic.customer not in table.customers:
            out.append(Problem("licenses", lic.id, "customer",
                               f"unknown customer '{lic.customer}'"))
        for rid in lic.rules:
            rule = table.rules.get(rid)
            if rule is None:
                out.append(Problem("licenses", lic.id, "rules", f"unknown rule '{rid}'"))
            elif rule.effect != "license_required":
                out.append(Problem("licenses", lic.id, "rules",
                                   f"rule '{rid}' is '{rule.effect}', not 'license_required'"))
        if lic.models is not None:
            out += [Problem("licenses", lic.id, f, m) for f, m in _selector_problems(lic.models, table)]
        if lic.places is not None:
            out += [Problem("licenses", lic.id, "places", m)
                    for m in _check_refs(lic.places, table, places)]
        if lic.valid_from and lic.valid_to and lic.valid_to < lic.valid_from:
            out.append(Problem("licenses", lic.id, "valid_to",
                               f"{lic.valid_to} is before valid_from {lic.valid_from}"))
    return out


def _rule_problems(rid: str, table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    r = table.rules[rid]
    out: list[Problem] = []

    def add(field: str, message: str) -> None:
        out.append(Problem("rules", rid, field, message))

    if r.models is not None:
        for f, m in _selector_problems(r.models, table):
            add(f, m)
    if r.places is not None:
        for f, refs in (("places.in", r.places.in_ or ()), ("places.not_in", r.places.not_in)):
            for m in _check_refs(refs, table, places):
                add(f, m)
        if not out and _never(r.places, table, places):
            add("places", "not_in removes every place in 'in', so the rule can never match")
    if r.customer is not None:
        c = r.customer
        for f, refs in (("customer.hq_in", c.hq_in or ()), ("customer.hq_not_in", c.hq_not_in)):
            for m in _check_refs(refs, table, places):
                add(f, m)
        if not out and _never(PlaceSpec(c.hq_in, c.hq_not_in), table, places):
            add("customer", "hq_not_in removes every place in hq_in, so the rule can never match")
        if c.controlled_from is not None:
            cf = c.controlled_from
            for f, refs in (("customer.controlled_from.in", cf.places.in_ or ()),
                            ("customer.controlled_from.not_in", cf.places.not_in)):
                for m in _check_refs(refs, table, places):
                    add(f, m)
            if not 0 <= cf.threshold <= 100:
                add("customer.controlled_from", f"threshold {cf.threshold:g} is outside 0-100")
    if r.access is not None:
        if not r.access:
            add("access", "an empty list, so the rule can never match (omit it for any access)")
        for a in r.access:
            if a not in ACCESS_KINDS:
                add("access", f"unknown access '{a}' (use api, weights or hosted)")
    if r.effective_from and r.effective_to and r.effective_to < r.effective_from:
        add("effective_to", f"{r.effective_to} is before effective_from {r.effective_from}")
    return out
