"""Rule evaluation: which rules match a subject on a date, and the verdict they give.

The contract (issue #2, section 4):
- only rules in force on the as-of date take part;
- a rule matches when every condition it states holds; within a field any listed value matches;
- a country in `in`/`not_in` covers its subdivisions, a subdivision covers only itself;
- the verdict is the strictest matching effect (deny > license_required > review > allow); a
  `license_required` rule counts as allow when a valid license covers it; nothing matching is
  `review`;
- a rule that cannot be decided for an unregistered customer (tags, ownership unknown) and would be
  stricter turns `allowed` into `conditional`.

`Engine` compiles a `RuleTable` once (group expansion, an index by model and place) so that a
decision only looks at the rules that can apply to its model and place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from bot.places import PlaceCatalog
from bot.ruletable import (
    ControlSpec,
    Customer,
    Effect,
    License,
    ModelSelector,
    PlaceSpec,
    Rule,
    RuleTable,
)

EFFECT_RANK: dict[str, int] = {"allow": 0, "review": 1, "license_required": 2, "deny": 3}
VERDICT_OF: dict[str, str] = {
    "allow": "allowed", "review": "review", "license_required": "license_required",
    "deny": "denied",
}
VERDICT_RANK: dict[str, int] = {
    "allowed": 0, "conditional": 1, "review": 2, "license_required": 3, "denied": 4,
}
NO_RULE = "no rule covers this"
_ANY = "*"
_EPSILON = 1e-9


@dataclass(frozen=True)
class PlaceSet:
    """An expanded place condition: codes included (None = everywhere) minus codes excluded."""

    include: frozenset[str] | None
    exclude: frozenset[str] = frozenset()

    def contains(self, code: str, parent: str | None) -> bool:
        """Return whether the place (or the country it belongs to) is in the set."""
        if code in self.exclude or (parent is not None and parent in self.exclude):
            return False
        if self.include is None:
            return True
        return code in self.include or (parent is not None and parent in self.include)


@dataclass(frozen=True)
class Control:
    """An expanded `controlled_from` condition."""

    places: PlaceSet
    threshold: float
    inclusive: bool
    spec: ControlSpec

    def passes(self, share: float) -> bool:
        """Return whether an aggregate share crosses the threshold."""
        if self.inclusive:
            return share >= self.threshold - _EPSILON
        return share > self.threshold + _EPSILON


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its group references expanded, ready to test."""

    rule: Rule
    rank: int
    places: PlaceSet | None
    hq: PlaceSet | None
    tags: frozenset[str] | None
    control: Control | None
    access: frozenset[str] | None


@dataclass(frozen=True)
class Subject:
    """Who uses which model where, as resolved from a question."""

    customer: Customer | None  # None: not registered
    hq: str  # registered: the customer's; unregistered: assumed to be the asked country
    country: str
    model: str
    access: str = "api"
    name: str | None = None  # the name as asked, for condition texts


@dataclass(frozen=True)
class Match:
    """A rule that applied, with the effect it had and why."""

    rule: Rule
    effect: Effect
    license: License | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Pending:
    """A stricter rule that applies only if an unknown fact about the customer holds."""

    rule: Rule
    condition: str


@dataclass(frozen=True)
class Evaluation:
    """The verdict, the rules that decided it, and what else matched or might."""

    verdict: str
    deciding: tuple[Match, ...]
    overridden: tuple[Match, ...] = ()
    pending: tuple[Pending, ...] = ()
    reason: str | None = None


def expand_places(refs: Iterable[str], table: RuleTable, catalog: PlaceCatalog) -> frozenset[str]:
    """Expand codes and `group:ID` references into place codes (groups may nest)."""
    out: set[str] = set()
    seen: set[str] = set()
    stack = list(refs)
    while stack:
        ref = stack.pop()
        if ref.startswith("group:"):
            gid = ref[len("group:"):]
            if gid in seen:
                continue
            seen.add(gid)
            group = table.groups.get(gid)
            if group is not None:
                stack.extend(group.members)
        else:
            out.add(ref.upper())
    return frozenset(out)


_Expanded = dict[tuple[str, ...], frozenset[str]]


def _expand(refs: tuple[str, ...], table: RuleTable, catalog: PlaceCatalog,
            cache: _Expanded | None) -> frozenset[str]:
    if cache is None:
        return expand_places(refs, table, catalog)
    hit = cache.get(refs)
    if hit is None:
        hit = cache[refs] = expand_places(refs, table, catalog)
    return hit


def _place_set(spec: PlaceSpec | None, table: RuleTable, catalog: PlaceCatalog,
               cache: _Expanded | None = None) -> PlaceSet | None:
    if spec is None:
        return None
    include = None if spec.in_ is None else _expand(spec.in_, table, catalog, cache)
    return PlaceSet(include, _expand(spec.not_in, table, catalog, cache))


def compile_rule(rule: Rule, table: RuleTable, catalog: PlaceCatalog,
                 cache: _Expanded | None = None) -> CompiledRule:
    """Expand a rule's references against the table (`cache` shares expansions across rules)."""
    hq = tags = control = None
    if rule.customer is not None:
        c = rule.customer
        if c.hq_in is not None or c.hq_not_in:
            hq = _place_set(PlaceSpec(c.hq_in, c.hq_not_in), table, catalog, cache)
        tags = frozenset(c.tags) if c.tags else None
        if c.controlled_from is not None:
            cf = c.controlled_from
            pset = _place_set(cf.places, table, catalog, cache)
            assert pset is not None
            control = Control(pset, cf.threshold, cf.inclusive, cf)
    return CompiledRule(
        rule, EFFECT_RANK[rule.effect], _place_set(rule.places, table, catalog, cache), hq, tags,
        control, frozenset(rule.access) if rule.access is not None else None,
    )


@dataclass
class Engine:
    """A compiled rule table that answers for subjects."""

    table: RuleTable
    catalog: PlaceCatalog
    _index: dict[str, dict[str, list[CompiledRule]]] = field(default_factory=dict, repr=False)
    _licenses: dict[tuple[str, str], list[License]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[PlaceSet, float, bool, str], bool] = field(default_factory=dict, repr=False)
    subdivisions_named: dict[str, set[str]] = field(default_factory=dict)
    _models_of: dict[ModelSelector | None, list[str]] = field(default_factory=dict, repr=False)
    _key_cache: dict[frozenset[str], list[str]] = field(default_factory=dict, repr=False)
    _sub_cache: dict[frozenset[str], list[tuple[str, str]]] = field(default_factory=dict,
                                                                     repr=False)

    def __post_init__(self) -> None:
        expanded: _Expanded = {}
        for rule in self.table.rules.values():
            self.add(compile_rule(rule, self.table, self.catalog, expanded))
        for lic in self.table.licenses.values():
            for rid in lic.rules:
                self._licenses.setdefault((lic.customer, rid), []).append(lic)

    def add(self, compiled: CompiledRule) -> None:
        """Index a compiled rule under every model it covers and every place it names."""
        # Rules share selectors and groups, so the work per distinct one is done once.
        selector = compiled.rule.models
        models = self._models_of.get(selector)
        if models is None:
            models = [m.id for m in self.table.models.values()
                      if selector is None or selector.matches(m)]
            self._models_of[selector] = models
        places = compiled.places
        keys = [_ANY] if places is None or places.include is None \
            else self._keys_of(places.include)
        for model in models:
            by_place = self._index.setdefault(model, {})
            for key in keys:
                by_place.setdefault(key, []).append(compiled)
        if places is not None:
            for codes in (places.include or frozenset(), places.exclude):
                for parent, code in self._subdivisions_of(codes):
                    self.subdivisions_named.setdefault(parent, set()).add(code)

    def _keys_of(self, include: frozenset[str]) -> list[str]:
        """Return the index keys of a place set (cached per set)."""
        keys = self._key_cache.get(include)
        if keys is None:
            # A subdivision whose country is listed too is reached through the country; indexing
            # both would return the rule twice for that subdivision.
            keys = sorted(c for c in include if self.catalog.parent_of(c) not in include)
            self._key_cache[include] = keys
        return keys

    def _subdivisions_of(self, codes: frozenset[str]) -> list[tuple[str, str]]:
        """Return (country, subdivision) for the subdivisions in a place set (cached per set)."""
        subs = self._sub_cache.get(codes)
        if subs is None:
            subs = [(p, c) for c in codes if (p := self.catalog.parent_of(c)) is not None]
            self._sub_cache[codes] = subs
        return subs

    def candidates(self, model: str, country: str) -> list[CompiledRule]:
        """Return the rules that may apply to this model in this place."""
        by_place = self._index.get(model)
        if not by_place:
            return []
        out = list(by_place.get(_ANY, ()))
        out.extend(by_place.get(country, ()))
        parent = self.catalog.parent_of(country)
        if parent is not None:
            out.extend(by_place.get(parent, ()))
        return out

    def controlled(self, customer_id: str, control: Control) -> bool:
        """Return whether the customer is controlled from the set, directly or via owners."""
        # Keyed by value, not id(): callers may compile short-lived Control objects.
        key = (control.places, control.threshold, control.inclusive, customer_id)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        customer = self.table.customers[customer_id]
        result = control.places.contains(customer.hq, self.catalog.parent_of(customer.hq))
        if not result:
            share = sum(o.share for o in customer.owners
                        if o.owner in self.table.customers and self.controlled(o.owner, control))
            result = control.passes(share)
        self._memo[key] = result
        return result

    def control_path(self, customer_id: str, control: Control) -> str:
        """Explain why a customer is controlled from the set, for the answer's reasons."""
        customer = self.table.customers[customer_id]
        if control.places.contains(customer.hq, self.catalog.parent_of(customer.hq)):
            return f"{customer.name} is headquartered in {customer.hq}"
        parts = []
        total = 0.0
        for o in customer.owners:
            owner = self.table.customers.get(o.owner)
            if owner is not None and self.controlled(o.owner, control):
                total += o.share
                parts.append(f"{owner.name} ({owner.hq}) holds {o.share:g}%")
        return (f"{customer.name} is {total:g}% owned from there: " + "; ".join(parts))

    def _license_for(self, rule: Rule, subject: Subject, as_of: date) -> License | None:
        if subject.customer is None:
            return None
        model = self.table.models[subject.model]
        parent = self.catalog.parent_of(subject.country)
        for lic in self._licenses.get((subject.customer.id, rule.id), ()):
            if not lic.valid_on(as_of):
                continue
            if lic.models is not None and not lic.models.matches(model):
                continue
            if lic.places is not None:
                allowed = expand_places(lic.places, self.table, self.catalog)
                if subject.country not in allowed and (parent is None or parent not in allowed):
                    continue
            return lic
        return None

    def _test(self, cr: CompiledRule, s: Subject, parent: str | None,
              hq_parent: str | None) -> tuple[bool, str | None, str | None]:
        """Return (holds, unknown condition, detail); unknown means undecidable, not false."""
        if cr.access is not None and s.access not in cr.access:
            return False, None, None
        if cr.places is not None and not cr.places.contains(s.country, parent):
            return False, None, None
        if cr.hq is not None and not cr.hq.contains(s.hq, hq_parent):
            return False, None, None
        if cr.tags is None and cr.control is None:
            return True, None, None
        who = s.customer.name if s.customer else (s.name or "the customer")
        unknown: list[str] = []
        detail = None
        if cr.tags is not None:
            if s.customer is None:
                unknown.append(f"{who} is not tagged {' or '.join(sorted(cr.tags))}")
            elif not cr.tags.intersection(s.customer.tags):
                return False, None, None
        if cr.control is not None:
            ctl = cr.control
            if ctl.places.contains(s.hq, hq_parent):
                detail = f"{who} is headquartered in {s.hq}"
            elif s.customer is None:
                unknown.append(f"{who} is not {ctl.spec.describe()} owned from "
                               f"{self.describe_places(ctl.spec.places)}")
            elif self.controlled(s.customer.id, ctl):
                detail = self.control_path(s.customer.id, ctl)
            else:
                return False, None, None
        if unknown:
            return True, "; ".join(unknown), None
        return True, None, detail

    def describe_places(self, spec: PlaceSpec) -> str:
        """Name a place condition for people, using group names ("outside Supported regions")."""
        def names(refs: tuple[str, ...]) -> str:
            out = []
            for ref in refs:
                group = self.table.groups.get(ref[len("group:"):]) if ref.startswith("group:") \
                    else None
                out.append(group.name if group else self.catalog.label(ref))
            return ", ".join(out)
        if spec.in_ is None:
            return f"outside {names(spec.not_in)}"
        if not spec.not_in:
            return names(spec.in_)
        return f"{names(spec.in_)} except {names(spec.not_in)}"

    def evaluate(self, subject: Subject, as_of: date) -> Evaluation:
        """Return the verdict for the subject on the as-of date."""
        matches: list[Match] = []
        pending: list[Pending] = []
        parent = self.catalog.parent_of(subject.country)
        hq_parent = self.catalog.parent_of(subject.hq)
        for cr in self.candidates(subject.model, subject.country):
            rule = cr.rule
            if (rule.effective_from is not None and as_of < rule.effective_from) or (
                    rule.effective_to is not None and as_of > rule.effective_to):
                continue
            holds, unknown, detail = self._test(cr, subject, parent, hq_parent)
            if not holds:
                continue
            if unknown is not None:
                pending.append(Pending(rule, unknown))
                continue
            effect: Effect = rule.effect
            lic = None
            if effect == "license_required":
                lic = self._license_for(rule, subject, as_of)
                if lic is not None:
                    effect = "allow"
            matches.append(Match(rule, effect, lic, detail))
        return decide_verdict(matches, pending)


def decide_verdict(matches: list[Match], pending: list[Pending]) -> Evaluation:
    """Combine matched and pending rules into a verdict (strictest wins; ties sorted by id)."""
    matches.sort(key=lambda m: (-EFFECT_RANK[m.effect], m.rule.id))
    if not matches:
        stricter = tuple(sorted(pending, key=lambda p: p.rule.id))
        return Evaluation("review", (), (), stricter, NO_RULE)
    top = EFFECT_RANK[matches[0].effect]
    deciding = tuple(m for m in matches if EFFECT_RANK[m.effect] == top)
    overridden = tuple(m for m in matches if EFFECT_RANK[m.effect] != top)
    stricter = tuple(sorted((p for p in pending if EFFECT_RANK[p.rule.effect] > top),
                            key=lambda p: p.rule.id))
    verdict = VERDICT_OF[matches[0].effect]
    if verdict == "allowed" and stricter:
        verdict = "conditional"
    return Evaluation(verdict, deciding, overridden, stricter)
