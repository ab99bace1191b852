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

from dataclasses import dataclass, field
from datetime import date
from functools import partial

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.compiled_rules import (
    CompiledRule,
    compile_table,
    rules_by_model,
    subdivisions_named,
)
from bot.domain.rules.index import ModelIndex
from bot.domain.rules.licensing import Licenses
from bot.domain.rules.ownership import Ownership
from bot.domain.rules.pending_conditions import PendingConditions
from bot.domain.rules.place_sets import Expanded
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import RuleTable
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
    subdivisions_named: dict[str, set[str]] = field(default_factory=dict)
    licenses: Licenses = field(init=False, repr=False)
    ownership: Ownership = field(init=False, repr=False)
    pending_conditions: PendingConditions = field(init=False, repr=False)

    def __post_init__(self) -> None:
        expanded: Expanded = {}
        compiled = compile_table(self.table, expanded)
        self._rules_of = rules_by_model(compiled, self.table)
        self.subdivisions_named = subdivisions_named(compiled, self.catalog)
        # One plain Match per rule, shared by every answer that lists the rule unchanged.
        self._plain = {
            cr.rule.id: Match(cr.rule, cr.rule.effect) for cr in compiled if cr.match is None
        }
        self.licenses = Licenses(self.table, self.catalog, expanded)
        self.ownership = Ownership(self.table, self.catalog)
        self.pending_conditions = PendingConditions(self.table, self.catalog)

    def __getstate__(self) -> dict[str, object]:
        """Return the state to pickle: the compiled rules, without what is built on use."""
        # A knowledge snapshot is loaded by every `clearance ask`, which asks about one model:
        # the other models' indexes would be a large part of the file, and building the one
        # asked about is cheap (figures: bench/README.md).
        state = dict(self.__dict__)
        state.update(_by_model={})
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
            mask, unknown = self._test_customer(index, mask, tested, subject, hq, hq_parent)
            unsure |= unknown
        if not mask:
            return decide_verdict([], self._pending(index, unsure, subject, hq_parent))
        return self._decide(index, mask, unsure, subject, hq_parent, as_of)

    def _test_customer(
        self,
        index: ModelIndex,
        mask: int,
        tested: int,
        subject: Subject,
        hq: str | None,
        hq_parent: str | None,
    ) -> tuple[int, int]:
        """Keep the rules whose tags and ownership hold; return them and those left unknown."""
        customer = subject.customer
        if customer is None:
            # Tags and ownership of an unregistered customer are unknown, except ownership
            # from places that hold its headquarters. The rest are pending conditions,
            # worded only for the rules stricter than the verdict.
            known = (
                tested
                & index.untagged
                & self._controlled_mask(index, tested & index.controlled, None, hq, hq_parent)
            )
            return (mask & ~index.dependent) | known, tested & ~known
        # Tags first: ownership (database lookups in the CLI) only for rules still in.
        mask &= index.tagged_any(customer.tags)
        mask &= self._controlled_mask(index, mask & index.controlled, customer.id, hq, hq_parent)
        return mask, 0

    def _decide(
        self,
        index: ModelIndex,
        mask: int,
        unsure: int,
        subject: Subject,
        hq_parent: str | None,
        as_of: date,
    ) -> Evaluation:
        """Apply the customer's licenses to the matching rules, then conclude the verdict."""
        customer = subject.customer
        licensed: tuple[Match, ...] = ()
        if customer is not None and mask & index.licensable:
            rule_ids = self.licenses.held.get(customer.id)
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
        return [
            self.pending_conditions.pending_of(index.rules[k], subject, hq_parent)
            for k in index.indices(mask)
        ]

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
                    detail = self.ownership.explain(cr.control, subject, hq_parent)
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
            lic = self.licenses.license_for(cr.rule, subject, as_of)
            if lic is not None:
                detail = (
                    self.ownership.explain(cr.control, subject, hq_parent)
                    if cr.control is not None
                    else None
                )
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
                or (customer_id is not None and self.ownership.controlled(customer_id, control))
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


def _rule_id(m: Match) -> str:
    return m.rule.id
