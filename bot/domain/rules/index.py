"""Bit-set index of the rules that cover one model, so a decision visits only matching rules.

Each model gets its own bit space: the rules whose selector covers it, numbered strictest first
(effect rank, then id). Every condition a rule can state becomes a mask over that space: where
the model is used, where the customer is headquartered, the access, the dates in force, customer
tags, ownership control and list membership. A decision ANDs a handful of Python ints and reads the set bits back
in order, so its cost follows the number of matching rules, not the size of the table.

The masks are built from the same `CompiledRule` values the property tests check one rule at a
time (tests/domain/rules/oracles.py); they compare the two.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.domain.rules.compiled_rules import CompiledRule, Control
    from bot.domain.rules.place_sets import PlaceSet
    from bot.domain.rules.verdicts import Match


def _or_into(masks: dict[str, int], keys: frozenset[str], bit: int) -> None:
    for key in keys:
        masks[key] = masks.get(key, 0) | bit


@dataclass
class _PlaceMasks:
    """Masks answering "does the rule's place condition hold for this code" for one space."""

    anywhere: int = 0  # no condition, or only `not_in`
    inside: dict[str, int] = field(default_factory=dict)  # code -> rules whose `in` names it
    outside: dict[str, int] = field(default_factory=dict)  # code -> rules whose `not_in` names it
    holes: dict[str, int] = field(default_factory=dict)  # code -> rules whose `not_in` spares it
    _cache: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def add(self, places: PlaceSet | None, bit: int) -> None:
        """Record one rule's condition."""
        if places is None or places.include is None:
            self.anywhere |= bit
        else:
            _or_into(self.inside, places.include, bit)
        if places is not None:
            _or_into(self.outside, places.exclude, bit)
            _or_into(self.holes, places.holes, bit)

    def holding(self, code: str, parent: str | None) -> int:
        """Return the rules whose condition holds for the place (cached per place)."""
        hit = self._cache.get((code, parent))
        if hit is None:
            # A country listed in `in`/`not_in` covers its subdivisions; a subdivision only itself.
            inside = self.anywhere | self.inside.get(code, 0)
            outside = self.outside.get(code, 0)
            if parent is not None:
                inside |= self.inside.get(parent, 0)
                outside |= self.outside.get(parent, 0) & ~self.holes.get(code, 0)
            hit = self._cache[code, parent] = inside & ~outside
        return hit


@dataclass
class ModelIndex:
    """The rules that cover one model, as bit masks (bit `width - 1 - k` is `rules[k]`)."""

    rules: list[CompiledRule]
    matches: list[Match]  # each rule as a plain match (its own effect, no license or detail)
    width: int = 0
    places: _PlaceMasks = field(default_factory=_PlaceMasks)
    hq: _PlaceMasks = field(default_factory=_PlaceMasks)
    any_access: int = 0
    access: dict[str, int] = field(default_factory=dict)
    undated: int = 0
    dated: list[tuple[date | None, date | None, int]] = field(default_factory=list)
    # Sorted day numbers (date ordinals) where the in-force set changes: a rule's first day and
    # the day after its last. Ordinals, because the day after 9999-12-31 is no date.
    bounds: list[int] = field(default_factory=list)
    untagged: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    uncontrolled: int = 0
    controls: dict[Control, int] = field(default_factory=dict)
    dependent: int = 0  # rules that test the customer's tags or ownership
    controlled: int = 0  # rules that test ownership (their matches carry an explanation)
    licensable: int = 0  # license_required rules, which a license can turn into allow
    rank_bits: dict[int, int] = field(default_factory=dict)  # effect rank -> its rules
    position: dict[str, int] = field(default_factory=dict)  # rule id -> k
    hq_bound: int = 0  # rules that test the customer's headquarters
    listed: int = 0  # rules that test restricted-party list membership
    rule_bits: dict[str, int] = field(default_factory=dict)  # rule id -> its bits (all windows)
    _held: dict[str, int] = field(default_factory=dict)  # customer id -> its licensed rules
    _segments: list[int] | None = None  # in force per interval of `bounds`, see `in_force`

    def __post_init__(self) -> None:
        self.width = len(self.rules)
        cuts: set[int] = set()
        for k, cr in enumerate(self.rules):
            bit = self.bit(k)
            self.position[cr.rule.id] = k
            self.rule_bits[cr.rule.id] = self.rule_bits.get(cr.rule.id, 0) | bit
            if cr.hq is not None:
                self.hq_bound |= bit
            if cr.rule.listed is not None:
                self.listed |= bit
            self.rank_bits[cr.rank] = self.rank_bits.get(cr.rank, 0) | bit
            self.places.add(cr.places, bit)
            self.hq.add(cr.hq, bit)
            if cr.access is None:
                self.any_access |= bit
            else:
                _or_into(self.access, cr.access, bit)
            rule = cr.rule
            # A rule compiled per window of dated groups is in force within its window only.
            start, end = (
                (cr.start, cr.end) if cr.windowed else (rule.effective_from, rule.effective_to)
            )
            if start is None and end is None:
                self.undated |= bit
            else:
                self.dated.append((start, end, bit))
                if start is not None:
                    cuts.add(start.toordinal())
                if end is not None:
                    cuts.add(end.toordinal() + 1)
            if cr.tags is None:
                self.untagged |= bit
            else:
                _or_into(self.tags, cr.tags, bit)
            if cr.control is None:
                self.uncontrolled |= bit
            else:
                self.controls[cr.control] = self.controls.get(cr.control, 0) | bit
                self.controlled |= bit
            if cr.tags is not None or cr.control is not None:
                self.dependent |= bit
            if rule.effect == "license_required":
                self.licensable |= bit
        self.bounds = sorted(cuts)

    def bit(self, k: int) -> int:
        """Return the mask of `rules[k]` alone."""
        return 1 << (self.width - 1 - k)

    def with_access(self, access: str) -> int:
        """Return the rules that allow this access."""
        return self.any_access | self.access.get(access, 0)

    def in_force(self, as_of: date) -> int:
        """Return the rules in force on the date (one mask per interval between rule dates)."""
        segments = self._segments
        if segments is None:
            segments = self._segments = self._sweep()
        return segments[bisect_right(self.bounds, as_of.toordinal())]

    def _sweep(self) -> list[int]:
        """Return the in-force mask of every interval, walking the rule dates once.

        Built on first use: many rule dates cut a model's time into many intervals, so asks on
        varied dates rarely share one; one walk over the dates costs about as much as testing
        every dated rule for a few new intervals (figures: bench/README.md).
        """
        starting: dict[int, int] = {}
        ending: dict[int, int] = {}  # keyed by the day after a rule's last
        mask = self.undated
        for start, end, bit in self.dated:
            if start is not None and end is not None and end < start:
                continue  # never in force (validation refuses such rules; the engine agrees)
            if start is None:
                mask |= bit
            else:
                starting[start.toordinal()] = starting.get(start.toordinal(), 0) | bit
            if end is not None:
                ending[end.toordinal() + 1] = ending.get(end.toordinal() + 1, 0) | bit
        segments = [mask]  # before the first cut: undated rules and those with no start
        for cut in self.bounds:
            mask = (mask | starting.get(cut, 0)) & ~ending.get(cut, 0)
            segments.append(mask)
        return segments

    def stricter_than(self, rank: int) -> int:
        """Return the rules whose effect is stricter than the rank."""
        out = 0
        for other, bits in self.rank_bits.items():
            if other > rank:
                out |= bits
        return out

    def tagged_any(self, tags: frozenset[str] | tuple[str, ...]) -> int:
        """Return the rules whose tag condition holds for a customer with these tags."""
        out = self.untagged
        for tag in tags:
            out |= self.tags.get(tag, 0)
        return out

    def held_by(self, customer_id: str, rule_ids: frozenset[str]) -> int:
        """Return the license_required rules that the customer's licenses name.

        Cached per customer: `rule_ids` (every rule its licenses name) is read on the first call.
        """
        hit = self._held.get(customer_id)
        if hit is None:
            hit = 0
            for rule_id in rule_ids:
                hit |= self.rule_bits.get(rule_id, 0)
            hit = self._held[customer_id] = hit & self.licensable
        return hit

    def indices(self, mask: int) -> list[int]:
        """Return the positions of the set bits, strictest rule first."""
        # bin() writes the highest bit first, and the highest bit is the strictest rule, so one
        # pass of str.find reads the matches back in order.
        digits = bin(mask)
        offset = self.width - len(digits)
        out = []
        pos = digits.find("1", 2)
        while pos >= 0:
            out.append(pos + offset)
            pos = digits.find("1", pos + 1)
        return out
