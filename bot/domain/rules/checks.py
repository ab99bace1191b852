"""Semantic checks of a whole rule table: references, ownership, and rules that can never match.

Returns problems as (kind, id, field, message); the file loader turns them into FILE:LINE errors.
Fields name list items by index (`places.in[2]`, `owners[0].share`) so the loader can point at the
exact line, and every message says what to do about the problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain.names.keys import model_key
from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.conditions import ListedSpec, ModelSelector, PlaceSpec
from bot.domain.rules.entities import ModelInfo
from bot.domain.rules.listed import LIST_CODES
from bot.domain.rules.place_sets import expand_places, group_holes
from bot.domain.rules.table import ACCESS_KINDS, RuleTable


@dataclass(frozen=True)
class Problem:
    """One semantic problem in a rule table."""

    kind: str
    id: str
    field: str
    message: str
    # The other entity the problem is about (a missing group, the rule a license names): the
    # loader uses it to locate problems of entities not in the file and to skip follow-on noise.
    ref: tuple[str, str] | None = None


_PLACE_HELP = "use an ISO 3166-1 alpha-2 code such as DE, an ISO 3166-2 code such as UA-43"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _place_hint(ref: str, places: PlaceCatalog) -> str:
    """Suggest the code for a place written as a name ("Germany", "UK")."""
    match = places.resolve(ref)
    if match.code is not None:
        return f" (did you mean {match.code}?)"
    if match.candidates:
        return f" (did you mean one of {', '.join(match.candidates)}?)"
    return ""


def _check_refs(
    refs: Iterable[str], table: RuleTable, places: PlaceCatalog, *, groups: bool = True
) -> list[tuple[int, str, tuple[str, str] | None]]:
    """Return (index, message, missing entity) for every reference that does not resolve."""
    bad: list[tuple[int, str, tuple[str, str] | None]] = []
    for i, ref in enumerate(refs):
        # Customer codes are upper-cased on load, so "GROUP:" is a group reference there too.
        if not groups and ref.lower().startswith("group:"):
            bad.append((i, f"'{ref}' is a group, but this must be one place; {_PLACE_HELP}", None))
        elif ref.startswith("group:"):
            gid = ref[len("group:") :]
            if gid not in table.groups:
                bad.append(
                    (
                        i,
                        f"unknown group '{gid}'{_did_you_mean(gid, table.groups)}; "
                        "define it under groups: or fix the id",
                        ("groups", gid),
                    )
                )
        elif ref.upper() not in places and places.ensure_subdivision(ref) is None:
            suffix = ", or group:ID" if groups else ""
            bad.append(
                (i, f"unknown place '{ref}'{_place_hint(ref, places)}; {_PLACE_HELP}{suffix}", None)
            )
    return bad


def _covered(include: frozenset[str], exclude: frozenset[str], places: PlaceCatalog) -> bool:
    """Return whether `exclude` removes every place of `include`."""
    return all(code in exclude or places.parent_of(code) in exclude for code in include)


def _never(spec: PlaceSpec, table: RuleTable, places: PlaceCatalog) -> bool:
    if spec.in_ is None:
        return False
    include = expand_places(spec.in_, table)
    if group_holes(spec.not_in, table):
        return False  # the excluded groups leave places out, which the rule can still match
    return not include or _covered(include, expand_places(spec.not_in, table), places)


def _model_ids(table: RuleTable) -> dict[str, str]:
    """Map every name, alias and API id of a model (lower case) to the model id."""
    return {name.lower(): m.id for m in table.models.values() for name in m.identifiers()}


def _selector_problems(
    sel: ModelSelector, table: RuleTable, what: str
) -> list[tuple[str, str, tuple[str, str] | None]]:
    out: list[tuple[str, str, tuple[str, str] | None]] = []
    # Built only when a selector names families or tags, or an unknown id: a large table checks
    # tens of thousands of rules against the same models.
    families = {m.family for m in table.models.values()} if sel.families else set()
    tags = {t for m in table.models.values() for t in m.tags} if sel.tags else set()
    for i, mid in enumerate(sel.ids):
        if mid in table.models:
            continue
        known = _model_ids(table).get(mid.lower())
        hint = (
            f" ('{mid}' is a name of model '{known}'; use the id)"
            if known
            else _did_you_mean(mid, table.models)
        )
        out.append(
            (
                f"models.ids[{i}]",
                f"unknown model '{mid}'{hint}; use a model id from models:",
                ("models", mid),
            )
        )
    out += [
        (
            f"models.families[{i}]",
            f"unknown family '{f}'{_did_you_mean(f, families)}; use the family: of a model",
            None,
        )
        for i, f in enumerate(sel.families)
        if f not in families
    ]
    vendors = table.vendor_ids()
    out += [
        (
            f"models.vendors[{i}]",
            f"unknown vendor '{v}'{_did_you_mean(v, vendors)}; use a vendor id from vendors:",
            ("vendors", v),
        )
        for i, v in enumerate(sel.vendors)
        if v not in vendors
    ]
    out += [
        (f"models.tags[{i}]", f"no model has the tag '{t}'{_did_you_mean(t, tags)}", None)
        for i, t in enumerate(sel.tags)
        if t not in tags
    ]
    if not out and not any(sel.matches(m) for m in table.models.values()):
        out.append(
            (
                "models",
                f"matches no model, so the {what}; check ids, families, vendors, "
                "tags and open_weights together (all of them must hold)",
                None,
            )
        )
    return out


def _group_versions(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Report bad members, backwards dates and overlaps in groups' dated versions."""
    out: list[Problem] = []
    for g in table.groups.values():
        spans: list[tuple[int, tuple[date, date]]] = []
        for v, version in enumerate(g.versions):
            where = f"versions[{v}]"
            out += [
                Problem("groups", g.id, f"{where}.members[{i}]", m, ref)
                for i, m, ref in _check_refs(version.members, table, places)
            ]
            if version.start and version.end and version.end < version.start:
                out.append(
                    Problem(
                        "groups",
                        g.id,
                        f"{where}.to",
                        _never_in_force(version.start, version.end, "from", "version never holds"),
                    )
                )
                continue
            lo, hi = version.start or date.min, version.end or date.max
            for other, (olo, ohi) in spans:
                if lo <= ohi and olo <= hi:
                    out.append(
                        Problem(
                            "groups",
                            g.id,
                            where,
                            f"overlaps versions[{other}]: on any date at most one version may "
                            "hold; end one before the next begins",
                        )
                    )
            spans.append((v, (lo, hi)))
    return out


def _group_cycles(table: RuleTable) -> list[Problem]:
    """Report each member that leads a group back to itself."""
    out = []
    for gid, group in table.groups.items():
        for i, member in enumerate(group.members):
            if not member.startswith("group:"):
                continue
            # Breadth-first from the member, remembering how each group was reached.
            start = member[len("group:") :]
            came_from: dict[str, str | None] = {start: None}
            queue = [start]
            while queue and gid not in came_from:
                cur = queue.pop(0)
                for m in table.groups[cur].members if cur in table.groups else ():
                    ref = m[len("group:") :]
                    if m.startswith("group:") and ref not in came_from:
                        came_from[ref] = cur
                        queue.append(ref)
            if gid in came_from:
                chain: list[str] = []
                node: str | None = gid
                while node is not None:
                    chain.append(node)
                    node = came_from[node]
                path = " -> ".join([gid, *reversed(chain)])
                out.append(
                    Problem(
                        "groups",
                        gid,
                        f"members[{i}]",
                        f"group '{gid}' contains itself ({path}); remove this member "
                        "or the member that leads back",
                        ("groups", start),
                    )
                )
    return out


def _ownership_problems(table: RuleTable) -> list[Problem]:
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
                        f"unknown customer '{o.owner}'{_did_you_mean(o.owner, table.customers)}; "
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


def _never_in_force(start: object, end: object, start_name: str, what: str) -> str:
    return (
        f"{end} is before {start_name} {start}, so the {what}; swap the dates or fix the wrong one"
    )


def _customer_problems(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    out = []
    for c in table.customers.values():
        out += [
            Problem("customers", c.id, "hq", m, ref)
            for _, m, ref in _check_refs([c.hq], table, places, groups=False)
        ]
        for i, u in enumerate(c.uses):
            if u.model not in table.models:
                out.append(
                    Problem(
                        "customers",
                        c.id,
                        f"uses[{i}].model",
                        f"unknown model '{u.model}'"
                        f"{_did_you_mean(u.model, table.models)}; use a model id",
                        ("models", u.model),
                    )
                )
            out += [
                Problem("customers", c.id, f"uses[{i}].country", m, ref)
                for _, m, ref in _check_refs([u.country], table, places, groups=False)
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


def _license_problems(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    out = []
    for lic in table.licenses.values():
        if lic.customer not in table.customers:
            out.append(
                Problem(
                    "licenses",
                    lic.id,
                    "customer",
                    f"unknown customer '{lic.customer}'"
                    f"{_did_you_mean(lic.customer, table.customers)}; "
                    "add it under customers: or fix the id",
                    ("customers", lic.customer),
                )
            )
        for i, rid in enumerate(lic.rules):
            rule = table.rules.get(rid)
            if rule is None:
                out.append(
                    Problem(
                        "licenses",
                        lic.id,
                        f"rules[{i}]",
                        f"unknown rule '{rid}'{_did_you_mean(rid, table.rules)}; "
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
        if lic.models is not None:
            out += [
                Problem("licenses", lic.id, f, m, ref)
                for f, m, ref in _selector_problems(lic.models, table, "license can never apply")
            ]
        if lic.places is not None:
            out += [
                Problem("licenses", lic.id, f"places[{i}]", m, ref)
                for i, m, ref in _check_refs(lic.places, table, places)
            ]
        if lic.valid_from and lic.valid_to and lic.valid_to < lic.valid_from:
            out.append(
                Problem(
                    "licenses",
                    lic.id,
                    "valid_to",
                    _never_in_force(
                        lic.valid_from, lic.valid_to, "valid_from", "license is never valid"
                    ),
                )
            )
    return out


def validate_table(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return every semantic problem in the table (empty when it is sound)."""
    out: list[Problem] = []
    for v in table.vendors.values():
        if v.hq is not None:
            out += [
                Problem("vendors", v.id, "hq", m, ref)
                for _, m, ref in _check_refs([v.hq], table, places, groups=False)
            ]
    for g in table.groups.values():
        out += [
            Problem("groups", g.id, f"members[{i}]", m, ref)
            for i, m, ref in _check_refs(g.members, table, places)
        ]
        out += [
            Problem("groups", g.id, f"except[{i}]", m, ref)
            for i, m, ref in _check_refs(g.except_, table, places, groups=False)
        ]
        if g.effective_from and g.effective_to and g.effective_to < g.effective_from:
            out.append(
                Problem(
                    "groups",
                    g.id,
                    "effective_to",
                    _never_in_force(
                        g.effective_from,
                        g.effective_to,
                        "effective_from",
                        "group is never in force",
                    ),
                )
            )
    out += _group_versions(table, places)
    out += _group_cycles(table)
    for m in table.models.values():
        # Vendors are optional; once a table declares them, every model must name one of them.
        if table.vendors and m.vendor not in table.vendors:
            out.append(
                Problem(
                    "models",
                    m.id,
                    "vendor",
                    f"unknown vendor '{m.vendor}'"
                    f"{_did_you_mean(m.vendor, table.vendors)}; "
                    "add it under vendors: or use a declared vendor id",
                    ("vendors", m.vendor),
                )
            )
    out += _model_name_clashes(table)
    out += _customer_problems(table, places)
    out += _ownership_problems(table)
    for r in table.rules.values():
        out += _rule_problems(r.id, table, places)
    out += _license_problems(table, places)
    return out


def _model_names(m: ModelInfo) -> list[tuple[str, str]]:
    return [
        ("id", m.id),
        ("name", m.name),
        *((f"aliases[{i}]", a) for i, a in enumerate(m.aliases)),
        *((f"api_ids[{i}]", a) for i, a in enumerate(m.api_ids)),
        *((f"cloud_ids[{i}]", a) for i, a in enumerate(m.cloud_ids)),
    ]


def _model_name_clashes(table: RuleTable) -> list[Problem]:
    """Report a name, alias or API id that also names another model.

    Questions resolve models by these names (case, spaces and punctuation ignored), so a shared
    one would turn a question about either model into an ambiguous one. When one model's id is
    the name, the others are blamed; otherwise every model that uses it is, once.
    """
    claims: dict[str, list[tuple[str, str, str]]] = {}
    for m in table.models.values():
        for field, text in _model_names(m):
            if key := model_key(text):
                claims.setdefault(key, []).append((m.id, field, text))
    out = []
    for found in claims.values():
        models = {mid for mid, _, _ in found}
        if len(models) < 2:
            continue
        by_id = {mid for mid, field, _ in found if field == "id"}
        owner = next(iter(by_id)) if len(by_id) == 1 else None
        blamed: dict[str, tuple[str, str]] = {}
        for mid, field, text in found:
            if mid != owner:
                blamed.setdefault(mid, (field, text))
        for mid, (field, text) in blamed.items():
            others = sorted(models - {mid})
            out.append(
                Problem(
                    "models",
                    mid,
                    field,
                    (
                        f"'{text}' also names model {', '.join(repr(o) for o in others)}: a name, alias "
                        "or API id may name one model only, or questions about it are ambiguous; remove "
                        "it from one of them"
                    ),
                    ("models", others[0]),
                )
            )
    return out


def _listed_problems(effect: str, listed: ListedSpec) -> list[tuple[str, str]]:
    """Return (field, message) for a `listed` condition: known list codes, never an allow."""
    out = []
    for i, code in enumerate(listed.lists):
        if code not in LIST_CODES:
            hint = (
                f" (did you mean '{code.upper()}'?)"
                if code.upper() in LIST_CODES
                else _did_you_mean(code, LIST_CODES)
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


def _rule_problems(rid: str, table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    r = table.rules[rid]
    out: list[Problem] = []

    def add(field: str, message: str, ref: tuple[str, str] | None = None) -> None:
        out.append(Problem("rules", rid, field, message, ref))

    def refs(field: str, values: Iterable[str]) -> bool:
        """Report unresolved references; return whether there were none."""
        bad = _check_refs(values, table, places)
        for i, m, ref in bad:
            add(f"{field}[{i}]", m, ref)
        return not bad

    never = "so the rule can never match"
    if r.models is not None:
        for f, m, ref in _selector_problems(r.models, table, "rule can never match"):
            add(f, m, ref)
    if r.places is not None:
        ok = refs("places.in", r.places.in_ or ())
        ok = refs("places.not_in", r.places.not_in) and ok
        if ok and _never(r.places, table, places):
            add("places", f"not_in removes every place in 'in' (or 'in' is empty), {never}")
    if r.customer is not None:
        c = r.customer
        ok = refs("customer.hq_in", c.hq_in or ())
        ok = refs("customer.hq_not_in", c.hq_not_in) and ok
        if ok and _never(PlaceSpec(c.hq_in, c.hq_not_in), table, places):
            add("customer", f"hq_not_in removes every place in hq_in (or hq_in is empty), {never}")
        if c.controlled_from is not None:
            cf = c.controlled_from
            ok = refs("customer.controlled_from.in", cf.places.in_ or ())
            ok = refs("customer.controlled_from.not_in", cf.places.not_in) and ok
            if ok and _never(cf.places, table, places):
                add(
                    "customer.controlled_from",
                    f"not_in removes every place in 'in' (or 'in' is empty), {never}",
                )
            key = "at_least" if cf.inclusive else "more_than"
            if not 0 <= cf.threshold <= 100:
                add(
                    f"customer.controlled_from.{key}",
                    f"threshold {cf.threshold:g} is outside 0-100; give a percentage",
                )
            elif not cf.inclusive and cf.threshold >= 100:
                add(
                    "customer.controlled_from.more_than",
                    f"no one can hold more than 100%, {never}; use at_least: 100",
                )
    if r.listed is not None:
        out += [Problem("rules", rid, f, m) for f, m in _listed_problems(r.effect, r.listed)]
    if r.access is not None:
        if not r.access:
            add("access", f"an empty list, {never}; omit access to match any access")
        for i, a in enumerate(r.access):
            if a not in ACCESS_KINDS:
                add(
                    f"access[{i}]",
                    f"unknown access '{a}'{_did_you_mean(a, ACCESS_KINDS)}; "
                    "use api, weights or hosted",
                )
    if r.effective_from and r.effective_to and r.effective_to < r.effective_from:
        add(
            "effective_to",
            _never_in_force(
                r.effective_from, r.effective_to, "effective_from", "rule is never in force"
            ),
        )
    return out
