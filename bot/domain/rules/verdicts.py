"""Verdicts: the rules that matched or might, and how they combine into one answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bot.domain.rules.table import Effect, License, Rule

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


def conclude(
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
    return conclude(deciding, pending, tuple(m for m in matches if EFFECT_RANK[m.effect] != top))
