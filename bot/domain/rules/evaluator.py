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

from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.catalog_rules import catalog_rules
from bot.domain.rules.compiled_rules import (
    CompiledRule,
    Control,
    compile_rule,
    compile_windows,
    rule_order,
)
from bot.domain.rules.conditions import ModelSelector, PlaceSpec
from bot.domain.rules.dated_groups import groups_read
from bot.domain.rules.index import ModelIndex
from bot.domain.rules.place_sets import Expanded, PlaceSet, expand_cached, expand_places
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import License, Rule, RuleTable
from bot.domain.rules.verdicts import (
    EFFECT_RANK,
    Evaluation,
    Match,
    Pending,
    conclude,
    decide_verdict,
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
        expanded: Expanded = {}
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
        compiled.sort(key=rule_order)
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
                self._license_places[lic.id] = expand_cached(lic.places, self.table, expanded)

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
            return conclude(licensed, [])  # a licence needs a registered customer: none unsure
        # Bits run strictest first: the highest set bit is the verdict's rule.
        rank = index.rules[index.width - mask.bit_length()].rank
        pending = self._pending(index, unsure & index.stricter_than(rank), subject, hq_parent)
        if rank == EFFECT_RANK["allow"]:  # allow decides: the licensed rules are among them
            return conclude(self._matches(index, mask, subject, hq_parent, licensed), pending)
        top = index.rank_bits[rank]
        deciding = self._matches(index, mask & top, subject, hq_parent)
        rest = mask & ~top
        later = (
            partial(self._matches, index, rest, subject, hq_parent, licensed)
            if rest or licensed
            else None
        )
        return conclude(deciding, pending, list_overridden=later)

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
