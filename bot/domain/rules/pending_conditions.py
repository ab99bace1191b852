"""Pending conditions: what an unregistered customer would have to be for a stricter rule to hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.compiled_rules import CompiledRule
from bot.domain.rules.conditions import PlaceSpec
from bot.domain.rules.place_wording import describe_places
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import RuleTable
from bot.domain.rules.verdicts import Pending


@dataclass
class PendingConditions:
    """Words the rules that hold only if unknown facts about the customer are as they state."""

    table: RuleTable
    catalog: PlaceCatalog
    # Per rule, without the name: answers for unknown customers ask about the same rules.
    _texts: dict[str, tuple[str | None, str | None]] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict[str, object]:
        """Return the state to pickle, without the texts worded on use."""
        state = dict(self.__dict__)
        state.update(_texts={})
        return state

    def pending_of(self, cr: CompiledRule, s: Subject, hq_parent: str | None) -> Pending:
        """Return the rule as a pending condition on the subject's unknown facts."""
        condition = self.unknown_condition(cr, s, hq_parent)
        assert condition is not None  # only rules that test unknown facts are pending
        if s.hq is None and cr.hq is not None and cr.tags is None and cr.control is None:
            return Pending(cr.rule, condition, "hq", self._hq_places(cr))
        return Pending(cr.rule, condition)

    def unknown_condition(self, cr: CompiledRule, s: Subject, hq_parent: str | None) -> str | None:
        """Say what an unregistered customer would have to be for the rule to hold, if unknown.

        None when the headquarters alone settles it (an ownership rule whose places hold it).
        """
        if s.hq is None:
            return self._unknown_hq_condition(cr, s)
        texts = self._texts.get(cr.rule.id)
        if texts is None:
            ctl = cr.control
            texts = self._texts[cr.rule.id] = (
                None if cr.tags is None else f" is not tagged {' or '.join(sorted(cr.tags))}",
                None
                if ctl is None
                else f" is not {ctl.spec.describe()} owned from {self._describe(ctl.spec.places)}",
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

    def _describe(self, spec: PlaceSpec) -> str:
        return describe_places(spec, self.table, self.catalog)

    def _hq_places(self, cr: CompiledRule) -> str:
        """Name the headquarters a rule tests ("EU member states", "outside ...")."""
        c = cr.rule.customer
        assert c is not None
        return self._describe(PlaceSpec(c.hq_in, c.hq_not_in))

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
                f"{self._describe(ctl.spec.places)}"
            )
        return (s.name or "the customer") + " or".join(parts)
