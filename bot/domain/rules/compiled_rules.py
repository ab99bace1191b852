"""Compiled rules: a rule's conditions expanded against the table, once per window of dated groups."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.catalog_rules import catalog_rules
from bot.domain.rules.conditions import ControlSpec, ModelSelector, PlaceSpec
from bot.domain.rules.dated_groups import Window, rule_windows, unknown_note
from bot.domain.rules.place_sets import Expanded, PlaceSet, place_set, window_place_set
from bot.domain.rules.table import Rule, RuleTable
from bot.domain.rules.verdicts import EFFECT_RANK, Match

_EPSILON = 1e-9


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


def compile_windows(
    rule: Rule, table: RuleTable, cache: Expanded | None = None
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
    cache: Expanded | None = None,
    *,
    window: Window | None = None,
) -> CompiledRule:
    """Expand a rule's references against the table (`cache` shares expansions across rules).

    With `window`, dated groups are read as they stood in it (see `compile_windows`).
    """

    def places(spec: PlaceSpec | None) -> PlaceSet | None:
        if window is not None:
            return window_place_set(spec, table, window)
        return place_set(spec, table, cache)

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


def _rule_order(cr: CompiledRule) -> tuple[int, str, int]:
    """Strictest first, then by id, then a dated rule's windows in time order."""
    return (-cr.rank, cr.rule.id, cr.start.toordinal() if cr.start is not None else 0)


def compile_table(table: RuleTable, expanded: Expanded) -> list[CompiledRule]:
    """Compile the table's rules and the catalog's, in the order answers list them."""
    if any(g.is_dated() for g in table.groups.values()):
        compiled = [
            cr for rule in table.rules.values() for cr in compile_windows(rule, table, expanded)
        ]
    else:  # no dated group: every rule compiles once, as it always did
        compiled = [compile_rule(rule, table, expanded) for rule in table.rules.values()]
    for rule in catalog_rules(table):
        cr = compile_rule(rule, table, expanded)
        compiled.append(replace(cr, match=Match(rule, rule.effect)))
    # Strictest first, then by id: the order the answer lists rules in, and the bit order.
    compiled.sort(key=_rule_order)
    return compiled


def rules_by_model(compiled: list[CompiledRule], table: RuleTable) -> dict[str, list[CompiledRule]]:
    """Return the compiled rules that cover each model, in the order given."""
    per_model: dict[str, list[CompiledRule]] = {}
    models_of: dict[ModelSelector | None, list[str]] = {}
    for cr in compiled:
        # Rules share selectors, so the models of each distinct one are listed once.
        selector = cr.rule.models
        models = models_of.get(selector)
        if models is None:
            models = models_of[selector] = [
                m.id for m in table.models.values() if selector is None or selector.matches(m)
            ]
        for model in models:
            per_model.setdefault(model, []).append(cr)
    return per_model


def subdivisions_named(compiled: list[CompiledRule], catalog: PlaceCatalog) -> dict[str, set[str]]:
    """Return, for each country, the subdivisions of it that the rules' places name."""
    named: dict[str, set[str]] = {}
    subs_of: dict[frozenset[str], list[tuple[str, str]]] = {}
    for cr in compiled:
        if cr.places is None:
            continue
        # Rules share groups, so the subdivisions of each distinct code set are found once.
        for codes in (cr.places.include or frozenset(), cr.places.exclude):
            subs = subs_of.get(codes)
            if subs is None:
                subs = subs_of[codes] = [
                    (p, c) for c in codes if (p := catalog.parent_of(c)) is not None
                ]
            for parent, code in subs:
                named.setdefault(parent, set()).add(code)
    return named
