"""Answers: the cited verdict as `clearance ask --json` prints it, and its worded parts.

`bot.domain.asking.deciding` makes them; storage keeps them whole, and the renderers show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.rules.verdicts import VERDICT_OF, Pending


@dataclass
class Answer:
    """A verdict with the rules that decided it, as `clearance ask --json` prints it."""

    verdict: str
    question: str
    customer: dict[str, Any]
    country: str
    model: str | None
    access: str
    as_of: date
    reasons: list[dict[str, Any]]
    revision: int
    decision_id: str
    models: list[str] = field(default_factory=list)
    overridden: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None  # why there is no deciding rule ("no rule covers this")
    screening: dict[str, Any] | None = (
        None  # restricted-party screening (bot.services.screening_answers)
    )

    def rule_ids(self) -> list[str]:
        """Return the ids of the deciding rules."""
        return [r["rule"] for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "question": self.question,
            "customer": self.customer,
            "country": self.country,
            "model": self.model,
            "models": self.models,
            "access": self.access,
            "as_of": self.as_of.isoformat(),
            "reasons": self.reasons,
            "overridden": self.overridden,
            "conditions": self.conditions,
            "assumptions": self.assumptions,
            "warnings": self.warnings,
            "revision": self.revision,
            "decision_id": self.decision_id,
            **({"screening": self.screening} if self.screening is not None else {}),
        }


def describe_hq(customer: dict[str, Any]) -> str:
    """Say where an answer's customer is headquartered and where that came from."""
    hq = customer.get("hq")
    if hq is None:
        return "HQ unknown"
    source = customer.get("hq_source")
    if source == "question":
        return f"HQ {hq}, taken from the question"
    if source == "stated":
        return f"HQ {hq}, as stated"
    return f"HQ {hq}"


def merge_conditions(pending: tuple[Pending, ...], who: str | None) -> list[str]:
    """Word the pending rules as conditions: one per unknown fact, listing the rules it triggers.

    Every rule that waits only on the unknown headquarters shares one condition; other rules
    that wait on the same fact (the same wording) share theirs.
    """
    seats = [p for p in pending if p.fact == "hq"]
    grouped: dict[str, list[Pending]] = {}
    for p in pending:
        if p.fact != "hq":
            grouped.setdefault(p.condition, []).append(p)
    out = []
    if seats:
        by_place: dict[str, list[Pending]] = {}
        for p in seats:
            by_place.setdefault(p.places, []).append(p)
        places = "; ".join(
            f"{place} (else {_rules_words(rules)})" for place, rules in by_place.items()
        )
        out.append(f"Only if {who or 'the customer'} is not headquartered in any of: {places}.")
    for condition, rules in grouped.items():
        out.append(f"Only if {condition} (else {_rules_words(rules, titled=True)}).")
    return out


def _rules_words(rules: list[Pending], *, titled: bool = False) -> str:
    """Name the rules an unknown fact would trigger, with the verdict each would give."""
    word = "rule" if len(rules) == 1 else "rules"
    parts = [
        f"{p.rule.id}" + (f" ({p.rule.title})" if titled else "") + f": {VERDICT_OF[p.rule.effect]}"
        for p in rules
    ]
    return f"{word} " + "; ".join(parts)
