"""Customer profiles: ownership chain, control results, and verdicts for recorded usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.domain.asking.knowledge import Knowledge
from bot.domain.rules.compiled_rules import compile_rule
from bot.domain.rules.entities import Customer
from bot.domain.rules.place_wording import describe_places
from bot.domain.rules.subject import Subject

MAX_DEPTH = 6


@dataclass(frozen=True)
class Holding:
    """One owner in the chain above a customer (depth 1 = a direct owner)."""

    depth: int
    customer_id: str
    name: str
    hq: str
    share: float


@dataclass(frozen=True)
class ControlResult:
    """Whether the customer is controlled from a rule's place set, and why."""

    description: str
    controlled: bool
    rule_ids: tuple[str, ...]
    path: str | None = None


@dataclass(frozen=True)
class UsageVerdict:
    """The current verdict for one recorded use of a model in a place."""

    model: str
    country: str
    access: str
    verdict: str
    rule_ids: tuple[str, ...]


@dataclass
class CustomerProfile:
    """Everything `/clearance customer NAME` shows."""

    customer: Customer
    chain: list[Holding] = field(default_factory=list)
    controls: list[ControlResult] = field(default_factory=list)
    usages: list[UsageVerdict] = field(default_factory=list)


def ownership_chain(kb: Knowledge, customer: Customer) -> list[Holding]:
    """Return the owners above a customer, depth first, with their direct shares."""
    out: list[Holding] = []

    def walk(c: Customer, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        for o in c.owners:
            owner = kb.table.customers.get(o.owner)
            if owner is None:
                continue
            out.append(Holding(depth, owner.id, owner.name, owner.hq, o.share))
            walk(owner, depth + 1)

    walk(customer, 1)
    return out


def usage_verdicts(kb: Knowledge, customer: Customer, *, on: date) -> list[UsageVerdict]:
    """Return today's verdict for each recorded usage of the customer."""
    out = []
    for u in customer.uses:
        if u.model not in kb.table.models:
            continue
        ev = kb.engine.evaluate(Subject(customer, customer.hq, u.country, u.model, u.access), on)
        out.append(
            UsageVerdict(
                u.model, u.country, u.access, ev.verdict, tuple(m.rule.id for m in ev.deciding)
            )
        )
    return out


def profile_customer(kb: Knowledge, customer: Customer, *, on: date) -> CustomerProfile:
    """Build the profile of a registered customer as of a date."""
    controls: dict[object, tuple[str, bool, list[str], str | None]] = {}
    for rule in sorted(kb.table.rules.values(), key=lambda r: r.id):
        if not rule.in_force(on) or rule.customer is None or rule.customer.controlled_from is None:
            continue
        compiled = compile_rule(rule, kb.table)
        control = compiled.control
        assert control is not None
        key = (control.places, control.threshold, control.inclusive)
        if key in controls:
            controls[key][2].append(rule.id)
            continue
        controlled = kb.engine.ownership.controlled(customer.id, control)
        description = (
            f"controlled from {describe_places(control.spec.places, kb.engine.table, kb.engine.catalog)} "
            f"({control.spec.describe()})"
        )
        path = kb.engine.ownership.control_path(customer.id, control) if controlled else None
        controls[key] = (description, controlled, [rule.id], path)
    return CustomerProfile(
        customer,
        ownership_chain(kb, customer),
        [ControlResult(d, c, tuple(ids), p) for d, c, ids, p in controls.values()],
        usage_verdicts(kb, customer, on=on),
    )
