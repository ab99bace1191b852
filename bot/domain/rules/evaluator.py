"""Rule evaluation: which rules match a subject on a date, and the verdict they give.

The contract (issue #2, section 4):
- only rules in force on the as-of date take part;
- a rule matches when every condition it states holds; within a field any listed value matches;
- a country in `in`/`not_in` covers its subdivisions, a subdivision covers only itself;
- the verdict is the strictest matching effect (deny > license_required > review > allow); a
  `license_required` rule counts as allow when a valid license covers it; nothing matching is
  `review`;
- a rule that cannot be decided for an unregistered customer (tags, ownership unknown) and would be
  stricter turns `allowed` into `conditional`; so does one that tests a headquarters the question
  did not state (`Subject.hq` None);
- a `listed` rule holds when the subject's screening facts (`Subject.listing`) put the customer,
  or owners holding 50% or more of it, on a named list; unscreened, none holds;
- the weights of a model the catalog marks closed are denied (a rule built from the catalog);
- a rule reads each group as it was on the as-of date (`versions`), and before a group's
  `known_from` the rules that read it give at most `review` (see `dated_groups`).

`Engine` compiles a `RuleTable` once (group expansion, then one bit-set `ModelIndex` per model,
see `bot.domain.rules.index`) so that a decision only visits the rules that match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import NamedTuple

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.catalog_rules import catalog_rules
from bot.domain.rules.conditions import ControlSpec, ModelSelector, PlaceSpec
from bot.domain.rules.dated_groups import Window, groups_read, rule_windows, unknown_note
from bot.domain.rules.entities import Customer
from bot.domain.rules.index import ModelIndex
from bot.domain.rules.listed import ListFacts
from bot.domain.rules.table import Effect, License, Rule, RuleTable

EFFECT_RANK: dict[str, int] = {"allow": 0, "review": 1, "license_required": 2, "deny": 3}
VERDICT_OF: dict[str, str] = {
    "allow": "allowed",
    "review": "review",
    "license_required": "license_required",
    "deny": "denied",
}
# How strict each verdict is: a stricter rule or an unknown fact may only move a verdict up.
VERDICT_RANK: dict[str, int] = {
    "allowed": 0,
    "conditional": 1,
    "review": 2,
    "license_required": 3,
    "denied": 4,
}
NO_RULE = "no rule covers this"
_EPSILON = 1e-9


@dataclass(frozen=True)
class PlaceSet:
    """An expanded place condition: codes included (None = everywhere) minus codes excluded."""

    include: frozenset[str] | None
    exclude: frozenset[str] = frozenset()
    # Subdivisions of an excluded country that the excluding group leaves out (`except`).
    holes: frozenset[str] = frozenset()

    def contains(self, code: str, parent: str | None) -> bool:
        """Return whether the place (or the country it belongs to) is in the set."""
        if code in self.exclude or (
            parent is not None and parent in self.exclude and code not in self.holes
        ):
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
    # A rule compiled for one window of dated groups (`dated_groups`), or built from the
    # catalog: its own dates and the match it gives when it holds.
    windowed: bool = False
    start: date | None = None
    end: date | None = None
    match: Match | None = None


@dataclass(frozen=True)
class Subject:
    """Who uses which model where, as resolved from a question."""

    customer: Customer | None  # None: not registered
    # Registered: the customer's. Unregistered: the place the question put the customer in, the
    # headquarters it stated, or None when it did not say (then every rule on it is unknown).
    hq: str | None
    country: str
    model: str
    access: str = "api"
    name: str | None = None  # the name as asked, for condition texts
    # What restricted-party screening found; None when nothing was screened (then no `listed`
    # rule holds, and the caller makes the answer conditional on it).
    listing: ListFacts | None = None


class Match(NamedTuple):
    """A rule that applied, with the effect it had and why."""

    # Named tuples, not frozen dataclasses: as immutable, and built in a third of the time (an
    # answer at 10,000 rules lists up to ~100 matches and pending rules).

    rule: Rule
    effect: Effect
    license: License | None = None
    detail: str | None = None


class Pending(NamedTuple):
    """A stricter rule that applies only if an unknown fact about the customer holds."""

    rule: Rule
    condition: str
    # "hq" when the only unknown fact is where the customer is headquartered; `places` then
    # names the places the rule tests, so answers can list every such rule in one condition.
    fact: str = ""
    places: str = ""


class Evaluation:
    """The verdict, the rules that decided it, and what else matched or might.

    `overridden` (the less strict rules that matched too) can be handed over as a function that
    lists them on first use: answers show them, but impact analysis over many customers only
    compares verdicts and deciding rules, and most of an evaluation's matches are overridden ones.
    """

    __slots__ = ("_list_overridden", "_overridden", "deciding", "pending", "reason", "verdict")

    def __init__(
        self,
        verdict: str,
        deciding: tuple[Match, ...],
        overridden: tuple[Match, ...] = (),
        pending: tuple[Pending, ...] = (),
        reason: str | None = None,
        *,
        list_overridden: Callable[[], tuple[Match, ...]] | None = None,
    ) -> None:
        self.verdict = verdict
        self.deciding = deciding
        self.pending = pending
        self.reason = reason
        self._overridden = overridden
        self._list_overridden = list_overridden

    @property
    def overridden(self) -> tuple[Match, ...]:
        """The matching rules less strict than the deciding ones, strictest first."""
        list_them = self._list_overridden
        if list_them is not None:
            # Two threads may both list them; the result is the same, so no lock is needed.
            self._overridden = list_them()
            self._list_overridden = None
        return self._overridden

    def _key(self) -> tuple[object, ...]:
        return (self.verdict, self.deciding, self.overridden, self.pending, self.reason)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Evaluation) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable cache inside; compare, don't hash

    def __repr__(self) -> str:
        return (
            f"Evaluation(verdict={self.verdict!r}, deciding={self.deciding!r}, "
            f"overridden={self.overridden!r}, pending={self.pending!r}, "
            f"reason={self.reason!r})"
        )


def expand_places(refs: Iterable[str], table: RuleTable, on: date | None = None) -> frozenset[str]:
    """Expand codes and `group:ID` references into place codes (groups may nest).

    With `on`, a group with dated versions gives the members of the version in force that day.
    """
    out: set[str] = set()
    seen: set[str] = set()
    stack = list(refs)
    while stack:
        ref = stack.pop()
        if ref.startswith("group:"):
            gid = ref[len("group:") :]
            if gid in seen:
                continue
            seen.add(gid)
            group = table.groups.get(gid)
            if group is not None:
                stack.extend(group.members if on is None else group.members_on(on))
        else:
            out.add(ref.upper())
    return frozenset(out)


_Expanded = dict[tuple[str, ...], frozenset[str]]


def _expand(refs: tuple[str, ...], table: RuleTable, cache: _Expanded | None) -> frozenset[str]:
    if cache is None:
        return expand_places(refs, table)
    hit = cache.get(refs)
    if hit is None:
        hit = cache[refs] = expand_places(refs, table)
    return hit


def group_holes(refs: Iterable[str], table: RuleTable, on: date | None = None) -> frozenset[str]:
    """Return the places the referenced groups leave out with `except` that nothing else in
    `refs` brings back: no reference names the place, and every reference that reaches its
    country leaves it out too. With `on`, dated groups are read as they stood that day."""
    return frozenset(_combine([_cover(r, frozenset(), table, on) for r in refs])[1])


# Module-level, not nested: a nested recursive function refers to itself through its closure,
# a reference cycle left for the cycle collector each time it is made (once per rule).
def _combine(parts: list[tuple[set[str], set[str]]]) -> tuple[set[str], set[str]]:
    codes = set().union(*(c for c, _ in parts)) if parts else set()
    holes = set()
    for h in set().union(*(hs for _, hs in parts)) if parts else set():
        country = h.split("-")[0]
        if h not in codes and all(h in hs for c, hs in parts if country in c):
            holes.add(h)
    return codes, holes


def _cover(
    ref: str, seen: frozenset[str], table: RuleTable, on: date | None
) -> tuple[set[str], set[str]]:
    if not ref.startswith("group:"):
        return {ref.upper()}, set()
    gid = ref[len("group:") :]
    group = table.groups.get(gid)
    if group is None or gid in seen:
        return set(), set()
    members = group.members if on is None else group.members_on(on)
    codes, holes = _combine([_cover(m, seen | {gid}, table, on) for m in members])
    own = {x.upper() for x in group.except_}
    return codes - own, holes | own


def _place_set(
    spec: PlaceSpec | None, table: RuleTable, cache: _Expanded | None = None
) -> PlaceSet | None:
    if spec is None:
        return None
    include = None if spec.in_ is None else _expand(spec.in_, table, cache)
    exclude = _expand(spec.not_in, table, cache)
    if not any(g.except_ for g in table.groups.values()):
        return PlaceSet(include, exclude)
    # A place a group in `in` leaves out is outside the rule; one a group in `not_in` leaves
    # out is not excluded by it.
    left_in = group_holes(spec.in_ or (), table)
    left_out = group_holes(spec.not_in, table)
    return PlaceSet(include, (exclude - left_out) | left_in, left_out - left_in)


def _reads_unknown(refs: tuple[str, ...], table: RuleTable, unknown: frozenset[str]) -> bool:
    return bool(unknown.intersection(groups_read(list(refs), table)))


def _window_place_set(spec: PlaceSpec | None, table: RuleTable, window: Window) -> PlaceSet | None:
    """Expand a place condition as the groups stood in the window.

    A list not known in the window could hold any place: an `in` that reads one holds
    everywhere, and a `not_in` that reads one excludes nothing of its own.
    """
    if spec is None:
        return None
    unknown = window.unknown
    include = None
    if spec.in_ is not None and not _reads_unknown(spec.in_, table, unknown):
        include = expand_places(spec.in_, table, window.on)
    kept = tuple(r for r in spec.not_in if not _reads_unknown((r,), table, unknown))
    exclude = expand_places(kept, table, window.on)
    if not any(g.except_ for g in table.groups.values()):
        return PlaceSet(include, exclude)
    # As in `_place_set`: what a group leaves out with `except` holds in every window.
    left_in = group_holes(spec.in_ or (), table, window.on) if include is not None else frozenset()
    left_out = group_holes(kept, table, window.on)
    return PlaceSet(include, (exclude - left_out) | left_in, left_out - left_in)


def compile_windows(
    rule: Rule, table: RuleTable, cache: _Expanded | None = None
) -> list[CompiledRule]:
    """Compile a rule, once per window of the dated groups it reads (once if it reads none)."""
    windows = rule_windows(rule, table)
    if windows is None:
        return [compile_rule(rule, table, cache)]
    out = []
    for w in windows:
        derived = rule
        note = None
        if w.unknown:
            # The list the rule rests on is not known on these dates: at most review.
            derived = replace(rule, effect="review") if rule.effect != "review" else rule
            note = unknown_note(w.unknown, table)
        cr = compile_rule(derived, table, None, window=w)
        out.append(
            replace(
                cr,
                windowed=True,
                start=w.start,
                end=w.end,
                match=Match(derived, derived.effect, None, note),
            )
        )
    return out


def compile_rule(
    rule: Rule,
    table: RuleTable,
    cache: _Expanded | None = None,
    *,
    window: Window | None = None,
) -> CompiledRule:
    """Expand a rule's references against the table (`cache` shares expansions across rules).

    With `window`, dated groups are read as they stood in it (see `compile_windows`).
    """

    def places(spec: PlaceSpec | None) -> PlaceSet | None:
        if window is not None:
            return _window_place_set(spec, table, window)
        return _place_set(spec, table, cache)

    hq = tags = control = None
    if rule.customer is not None:
        c = rule.customer
        if c.hq_in is not None or c.hq_not_in:
            hq = places(PlaceSpec(c.hq_in, c.hq_not_in))
        tags = frozenset(c.tags) if c.tags else None
        if c.controlled_from is not None:
            cf = c.controlled_from
            pset = places(cf.places)
            assert pset is not None
            control = Control(pset, cf.threshold, cf.inclusive, cf)
    return CompiledRule(
        rule,
        EFFECT_RANK[rule.effect],
        places(rule.places),
        hq,
        tags,
        control,
        frozenset(rule.access) if rule.access is not None else None,
    )


@dataclass
class Engine:
    """A compiled rule table that answers for subjects."""

    table: RuleTable
    catalog: PlaceCatalog
    _rules_of: dict[str, list[CompiledRule]] = field(default_factory=dict, repr=False)
    _plain: dict[str, Match] = field(default_factory=dict, repr=False)  # rule id -> plain match
    _by_model: dict[str, ModelIndex] = field(default_factory=dict, repr=False)  # built on use
    _licenses: dict[tuple[str, str], list[License]] = field(default_factory=dict, repr=False)
    # Customer id -> the rules its licenses name: most customers hold none, and a licensee's
    # licenses name few of the license_required rules that match, so only those are looked up.
    _licensed: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _license_places: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[PlaceSet, float, bool], dict[str, bool]] = field(
        default_factory=dict, repr=False
    )
    _unknown_texts: dict[str, tuple[str | None, str | None]] = field(
        default_factory=dict, repr=False
    )
    subdivisions_named: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expanded: _Expanded = {}
        if any(g.is_dated() for g in self.table.groups.values()):
            compiled = [
                cr
                for rule in self.table.rules.values()
                for cr in compile_windows(rule, self.table, expanded)
            ]
        else:  # no dated group: every rule compiles once, as it always did
            compiled = [
                compile_rule(rule, self.table, expanded) for rule in self.table.rules.values()
            ]
        for rule in catalog_rules(self.table):
            cr = compile_rule(rule, self.table, expanded)
            compiled.append(replace(cr, match=Match(rule, rule.effect)))
        # Strictest first, then by id: the order the answer lists rules in, and the bit order.
        compiled.sort(key=_rule_order)
        per_model: dict[str, list[CompiledRule]] = {}
        models_of: dict[ModelSelector | None, list[str]] = {}
        subs_of: dict[frozenset[str], list[tuple[str, str]]] = {}
        for cr in compiled:
            # Rules share selectors and groups, so the work per distinct one is done once.
            selector = cr.rule.models
            models = models_of.get(selector)
            if models is None:
                models = models_of[selector] = [
                    m.id
                    for m in self.table.models.values()
                    if selector is None or selector.matches(m)
                ]
            for model in models:
                per_model.setdefault(model, []).append(cr)
            if cr.places is not None:
                for codes in (cr.places.include or frozenset(), cr.places.exclude):
                    subs = subs_of.get(codes)
                    if subs is None:
                        subs = subs_of[codes] = [
                            (p, c) for c in codes if (p := self.catalog.parent_of(c)) is not None
                        ]
                    for parent, code in subs:
                        self.subdivisions_named.setdefault(parent, set()).add(code)
        self._rules_of = per_model
        # One plain Match per rule, shared by every answer that lists the rule unchanged.
        self._plain = {
            cr.rule.id: Match(cr.rule, cr.rule.effect) for cr in compiled if cr.match is None
        }
        for lic in self.table.licenses.values():
            self._licensed[lic.customer] = self._licensed.get(lic.customer, frozenset()).union(
                lic.rules
            )
            for rid in lic.rules:
                self._licenses.setdefault((lic.customer, rid), []).append(lic)
            if lic.places is not None:
                self._license_places[lic.id] = _expand(lic.places, self.table, expanded)

    def __getstate__(self) -> dict[str, object]:
        """Return the state to pickle: the compiled rules, without what is built on use."""
        # A knowledge snapshot is loaded by every `clearance ask`, which asks about one model:
        # the other models' indexes would be a large part of the file, and building the one
        # asked about is cheap (figures: bench/README.md).
        state = dict(self.__dict__)
        state.update(_by_model={}, _memo={}, _unknown_texts={})
        return state

    def index_of(self, model: str) -> ModelIndex | None:
        """Return the index of the rules that cover the model (built on first use)."""
        index = self._by_model.get(model)
        if index is None:
            rules = self._rules_of.get(model)
            if rules is None:
                return None
            # Two threads may both build it; the indexes are equal, so no lock is needed.
            index = self._by_model[model] = ModelIndex(
                rules, [cr.match or self._plain[cr.rule.id] for cr in rules]
            )
        return index

    def controlled(self, customer_id: str, control: Control) -> bool:
        """Return whether the customer is controlled from the set, directly or via owners."""
        # One memo per condition, keyed by value, not id(): callers may compile short-lived
        # Control objects. Inside it customers by id, so the walk up the owners hashes strings.
        key = (control.places, control.threshold, control.inclusive)
        memo = self._memo.get(key)
        if memo is None:
            memo = self._memo[key] = {}
        return self._controlled(customer_id, control, memo)

    def _controlled(self, customer_id: str, control: Control, memo: dict[str, bool]) -> bool:
        hit = memo.get(customer_id)
        if hit is not None:
            return hit
        customers = self.table.customers
        customer = customers[customer_id]
        result = control.places.contains(customer.hq, self.catalog.parent_of(customer.hq))
        if not result:
            share = sum(
                o.share
                for o in customer.owners
                if o.owner in customers and self._controlled(o.owner, control, memo)
            )
            result = control.passes(share)
        memo[customer_id] = result
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
        return f"{customer.name} is {total:g}% owned from there: " + "; ".join(parts)

    def _license_for(self, rule: Rule, subject: Subject, as_of: date) -> License | None:
        if subject.customer is None:
            return None
        held = self._licenses.get((subject.customer.id, rule.id))
        if not held:
            return None
        model = self.table.models[subject.model]
        parent = self.catalog.parent_of(subject.country)
        for lic in held:
            if not lic.valid_on(as_of):
                continue
            if lic.models is not None and not lic.models.matches(model):
                continue
            if lic.places is not None:
                allowed = self._license_places_on(lic, as_of)
                if allowed is None:
                    continue  # a list it names is not known on that date: it covers nothing sure
                if subject.country not in allowed and (parent is None or parent not in allowed):
                    continue
            return lic
        return None

    def _license_places_on(self, lic: License, on: date) -> frozenset[str] | None:
        """Return where a licence applies on a date, or None when a group it reads is unknown."""
        assert lic.places is not None
        dated = [
            g
            for gid in groups_read(list(lic.places), self.table)
            if (g := self.table.groups.get(gid))
        ]
        if not any(g.is_dated() for g in dated):
            return self._license_places[lic.id]
        if any(g.known_from is not None and on < g.known_from for g in dated):
            return None
        return expand_places(lic.places, self.table, on)

    def _unknown_condition(self, cr: CompiledRule, s: Subject, hq_parent: str | None) -> str | None:
        """Say what an unregistered customer would have to be for the rule to hold, if unknown.

        None when the headquarters alone settles it (an ownership rule whose places hold it).
        """
        if s.hq is None:
            return self._unknown_hq_condition(cr, s)
        texts = self._unknown_texts.get(cr.rule.id)
        if texts is None:
            # Per rule, without the name: answers for unknown customers ask about the same rules.
            ctl = cr.control
            texts = self._unknown_texts[cr.rule.id] = (
                None if cr.tags is None else f" is not tagged {' or '.join(sorted(cr.tags))}",
                None
                if ctl is None
                else f" is not {ctl.spec.describe()} owned from "
                f"{self.describe_places(ctl.spec.places)}",
            )
        tags, owned = texts
        if (
            owned is not None
            and cr.control is not None
            and cr.control.places.contains(s.hq, hq_parent)
        ):
            owned = None
        who = s.name or "the customer"
        if tags is None:
            return None if owned is None else who + owned
        # The rule needs both facts, so either one being false keeps it away.
        return who + tags if owned is None else f"{who}{tags} or{owned}"

    def _hq_places(self, cr: CompiledRule) -> str:
        """Name the headquarters a rule tests ("EU member states", "outside ...")."""
        c = cr.rule.customer
        assert c is not None
        return self.describe_places(PlaceSpec(c.hq_in, c.hq_not_in))

    def _unknown_hq_condition(self, cr: CompiledRule, s: Subject) -> str:
        """Say what a customer whose headquarters is unknown must be for the rule to stay away."""
        parts = []
        if cr.hq is not None:
            parts.append(f" is not headquartered in {self._hq_places(cr)}")
        if cr.tags is not None:
            parts.append(f" is not tagged {' or '.join(sorted(cr.tags))}")
        ctl = cr.control
        if ctl is not None:
            parts.append(
                f" is neither headquartered in nor {ctl.spec.describe()} owned from "
                f"{self.describe_places(ctl.spec.places)}"
            )
        return (s.name or "the customer") + " or".join(parts)

    def _pending_of(self, cr: CompiledRule, s: Subject, hq_parent: str | None) -> Pending:
        condition = self._unknown_condition(cr, s, hq_parent)
        assert condition is not None  # only rules that test unknown facts are pending
        if s.hq is None and cr.hq is not None and cr.tags is None and cr.control is None:
            return Pending(cr.rule, condition, "hq", self._hq_places(cr))
        return Pending(cr.rule, condition)

    def describe_places(self, spec: PlaceSpec) -> str:
        """Name a place condition for people, using group names ("outside Supported regions")."""

        def names(refs: tuple[str, ...]) -> str:
            out = []
            for ref in refs:
                group = (
                    self.table.groups.get(ref[len("group:") :])
                    if ref.startswith("group:")
                    else None
                )
                out.append(group.name if group else self.catalog.label(ref))
            return ", ".join(out)

        if spec.in_ is None:
            return f"outside {names(spec.not_in)}"
        if not spec.not_in:
            return names(spec.in_)
        return f"{names(spec.in_)} except {names(spec.not_in)}"

    def evaluate(self, subject: Subject, as_of: date) -> Evaluation:
        """Return the verdict for the subject on the as-of date."""
        index = self.index_of(subject.model)
        if index is None:
            return decide_verdict([], [])
        parent = self.catalog.parent_of(subject.country)
        customer = subject.customer
        hq = subject.hq if customer is None else customer.hq
        mask = (
            index.places.holding(subject.country, parent)
            & index.with_access(subject.access)
            & index.in_force(as_of)
        )
        unsure = 0  # rules that hold if an unregistered customer's tags or owners are as stated
        if hq is None:
            # Headquarters not stated: every rule that tests it (or ownership, which it settles
            # in part) could hold. They are pending, like unknown tags and owners.
            hq_parent = None
            unsure = mask & (index.hq_bound | index.controlled)
            mask &= ~unsure
        else:
            hq_parent = parent if hq == subject.country else self.catalog.parent_of(hq)
            mask &= index.hq.holding(hq, hq_parent)
        if mask & index.listed:
            mask &= ~index.listed | self._listed_mask(index, mask & index.listed, subject)
        if not mask:
            return decide_verdict([], self._pending(index, unsure, subject, hq_parent))
        tested = mask & index.dependent
        if tested:
            if customer is None:
                # Tags and ownership of an unregistered customer are unknown, except ownership
                # from places that hold its headquarters. The rest are pending conditions,
                # worded below only for the rules stricter than the verdict.
                known = (
                    tested
                    & index.untagged
                    & self._controlled_mask(index, tested & index.controlled, None, hq, hq_parent)
                )
                unsure |= tested & ~known
                mask = (mask & ~index.dependent) | known
            else:
                # Tags first: ownership (database lookups in the CLI) only for rules still in.
                mask &= index.tagged_any(customer.tags)
                mask &= self._controlled_mask(
                    index, mask & index.controlled, customer.id, hq, hq_parent
                )
        if not mask:
            return decide_verdict([], self._pending(index, unsure, subject, hq_parent))
        licensed: tuple[Match, ...] = ()
        if customer is not None and mask & index.licensable:
            rule_ids = self._licensed.get(customer.id)
            held = mask & index.held_by(customer.id, rule_ids) if rule_ids else 0
            if held:
                mask, licensed = self._apply_licenses(index, mask, held, subject, hq_parent, as_of)
        if not mask:  # every match was a licensed rule: they are the allows that decide
            return _conclude(licensed, [])  # a licence needs a registered customer: none unsure
        # Bits run strictest first: the highest set bit is the verdict's rule.
        rank = index.rules[index.width - mask.bit_length()].rank
        pending = self._pending(index, unsure & index.stricter_than(rank), subject, hq_parent)
        if rank == EFFECT_RANK["allow"]:  # allow decides: the licensed rules are among them
            return _conclude(self._matches(index, mask, subject, hq_parent, licensed), pending)
        top = index.rank_bits[rank]
        deciding = self._matches(index, mask & top, subject, hq_parent)
        rest = mask & ~top
        later = (
            partial(self._matches, index, rest, subject, hq_parent, licensed)
            if rest or licensed
            else None
        )
        return _conclude(deciding, pending, list_overridden=later)

    def _pending(
        self, index: ModelIndex, mask: int, subject: Subject, hq_parent: str | None
    ) -> list[Pending]:
        """Return the rules of the mask as pending conditions on an unregistered customer."""
        return [self._pending_of(index.rules[k], subject, hq_parent) for k in index.indices(mask)]

    def _matches(
        self,
        index: ModelIndex,
        mask: int,
        subject: Subject,
        hq_parent: str | None,
        licensed: tuple[Match, ...] = (),
    ) -> tuple[Match, ...]:
        """Return the matches for the set bits in order, explaining ownership rules.

        `licensed` rules count as allows: they join the allow rules at the end, in id order.
        """
        ks = index.indices(mask)
        matches = list(map(index.matches.__getitem__, ks))
        if mask & index.listed:
            for i, k in enumerate(ks):
                cr = index.rules[k]
                if cr.rule.listed is not None and cr.control is None:
                    found = (
                        cr.match.detail if cr.match else None,
                        self._listed_detail(cr, subject),
                    )
                    matches[i] = Match(
                        cr.rule, cr.rule.effect, None, "; ".join(d for d in found if d) or None
                    )
        if mask & index.controlled:
            for i, k in enumerate(ks):
                cr = index.rules[k]
                if cr.control is not None:
                    detail = self._detail(cr, subject, hq_parent)
                    listed = self._listed_detail(cr, subject)
                    details = (cr.match.detail if cr.match else None, listed, detail)
                    detail = "; ".join(d for d in details if d)
                    matches[i] = Match(cr.rule, cr.rule.effect, None, detail or None)
        if licensed:
            stricter = (mask & ~index.rank_bits.get(0, 0)).bit_count()
            matches[stricter:] = sorted([*matches[stricter:], *licensed], key=_rule_id)
        return tuple(matches)

    def _apply_licenses(
        self,
        index: ModelIndex,
        mask: int,
        held: int,
        subject: Subject,
        hq_parent: str | None,
        as_of: date,
    ) -> tuple[int, tuple[Match, ...]]:
        """Take the matches a valid license covers out of the mask; return them as allows.

        `held` holds the matching rules that some license of the customer names.
        """
        licensed = []
        for k in index.indices(held):
            cr = index.rules[k]
            lic = self._license_for(cr.rule, subject, as_of)
            if lic is not None:
                detail = self._detail(cr, subject, hq_parent) if cr.control is not None else None
                details = (cr.match.detail if cr.match else None, self._listed_detail(cr, subject))
                detail = "; ".join(d for d in (*details, detail) if d) or None
                licensed.append(Match(cr.rule, "allow", lic, detail))
                mask &= ~index.bit(k)
        return mask, tuple(licensed)

    def _controlled_mask(
        self,
        index: ModelIndex,
        tested: int,
        customer_id: str | None,
        hq: str | None,
        hq_parent: str | None,
    ) -> int:
        """Return the rules whose ownership condition holds for the customer.

        Without a registered customer (`customer_id` None) only its headquarters is known.
        """
        out = index.uncontrolled
        for control, bits in index.controls.items():
            if bits & tested and (
                (hq is not None and control.places.contains(hq, hq_parent))
                or (customer_id is not None and self.controlled(customer_id, control))
            ):
                out |= bits
        return out

    def _listed_mask(self, index: ModelIndex, tested: int, subject: Subject) -> int:
        """Return the `listed` rules of the mask whose list condition holds for the subject."""
        facts = subject.listing
        out = 0
        if facts is not None:
            for k in index.indices(tested):
                spec = index.rules[k].rule.listed
                if spec is not None and facts.holds(spec) is not None:
                    out |= index.bit(k)
        return out

    def _listed_detail(self, cr: CompiledRule, s: Subject) -> str | None:
        """Explain why a matched `listed` rule applies: the hits, or the ownership chains."""
        spec = cr.rule.listed
        return None if spec is None or s.listing is None else s.listing.holds(spec)

    def _detail(self, cr: CompiledRule, s: Subject, hq_parent: str | None) -> str | None:
        """Explain why a matched ownership rule applies (headquarters or the owners' shares)."""
        assert cr.control is not None
        who = s.customer.name if s.customer else (s.name or "the customer")
        hq = s.customer.hq if s.customer else s.hq
        if hq is not None and cr.control.places.contains(hq, hq_parent):
            if s.customer is None:
                # Unregistered: the headquarters comes from the question, not from a record.
                return f"{who} is taken to be headquartered in {self.catalog.label(hq)}"
            return f"{who} is headquartered in {self.catalog.label(hq)}"
        if s.customer is None:
            return None
        return self.control_path(s.customer.id, cr.control)


def _rule_id(m: Match) -> str:
    return m.rule.id


def _rule_order(cr: CompiledRule) -> tuple[int, str, int]:
    """Strictest first, then by id, then a dated rule's windows in time order."""
    return (-cr.rank, cr.rule.id, cr.start.toordinal() if cr.start is not None else 0)


def _conclude(
    deciding: tuple[Match, ...],
    pending: list[Pending],
    overridden: tuple[Match, ...] = (),
    *,
    list_overridden: Callable[[], tuple[Match, ...]] | None = None,
) -> Evaluation:
    """Build the evaluation from the deciding matches (all of the strictest effect)."""
    top = EFFECT_RANK[deciding[0].effect]
    stricter = tuple(
        sorted((p for p in pending if EFFECT_RANK[p.rule.effect] > top), key=lambda p: p.rule.id)
    )
    verdict = VERDICT_OF[deciding[0].effect]
    if verdict == "allowed" and stricter:
        verdict = "conditional"
    return Evaluation(verdict, deciding, overridden, stricter, list_overridden=list_overridden)


def decide_verdict(matches: list[Match], pending: list[Pending]) -> Evaluation:
    """Combine matched and pending rules into a verdict (strictest wins; ties sorted by id)."""
    matches.sort(key=lambda m: (-EFFECT_RANK[m.effect], m.rule.id))
    if not matches:
        stricter = tuple(sorted(pending, key=lambda p: p.rule.id))
        return Evaluation("review", (), (), stricter, NO_RULE)
    top = EFFECT_RANK[matches[0].effect]
    deciding = tuple(m for m in matches if EFFECT_RANK[m.effect] == top)
    return _conclude(deciding, pending, tuple(m for m in matches if EFFECT_RANK[m.effect] != top))
