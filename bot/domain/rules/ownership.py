"""Ownership: whether a customer is controlled from a set of places, directly or via its owners."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.compiled_rules import Control
from bot.domain.rules.place_sets import PlaceSet
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import RuleTable


@dataclass
class Ownership:
    """Answers control conditions for the table's customers, remembering every answer."""

    table: RuleTable
    catalog: PlaceCatalog
    _memo: dict[tuple[PlaceSet, float, bool], dict[str, bool]] = field(
        default_factory=dict, repr=False
    )

    def __getstate__(self) -> dict[str, object]:
        """Return the state to pickle, without the answers remembered on use."""
        state = dict(self.__dict__)
        state.update(_memo={})
        return state

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

    def explain(self, control: Control, s: Subject, hq_parent: str | None) -> str | None:
        """Explain why a matched ownership rule applies (headquarters or the owners' shares)."""
        who = s.customer.name if s.customer else (s.name or "the customer")
        hq = s.customer.hq if s.customer else s.hq
        if hq is not None and control.places.contains(hq, hq_parent):
            if s.customer is None:
                # Unregistered: the headquarters comes from the question, not from a record.
                return f"{who} is taken to be headquartered in {self.catalog.label(hq)}"
            return f"{who} is headquartered in {self.catalog.label(hq)}"
        if s.customer is None:
            return None
        return self.control_path(s.customer.id, control)
