"""Re-screening every registered customer on a new list version, and the changes it reports.

One run reads every screening decision once and screens each party (an owner shared by many
customers) once; the hits are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.domain.asking.knowledge import Knowledge
from bot.domain.rules.entities import Customer, Usage
from bot.domain.rules.listed import ListFacts
from bot.domain.rules.subject import Subject
from bot.domain.screening.effects import apply_screening, list_facts
from bot.domain.screening.verdicts import ScreeningOutcome, list_code
from bot.services.screening_cache import ScreeningState
from bot.services.subject_screening import PartyMemo, screen_subject
from storage.screening_decisions import latest_decisions
from storage.screening_hits import HitKey, replace_hits


@dataclass(frozen=True)
class Rescreen:
    """What re-screening every registered customer found against the last run."""

    outcomes: dict[str, ScreeningOutcome]
    new: list[Any]
    removed: list[Any]
    changed: list[Any]


def rescreen_customers(
    engine: Engine, state: ScreeningState, kb: Knowledge, *, now: datetime
) -> Rescreen:
    """Screen every registered customer and its owners; store the hits; report what changed."""
    outcomes: dict[str, ScreeningOutcome] = {}
    found: dict[HitKey, dict[str, Any]] = {}
    for cid, _customer, outcome in _screen_registered(engine, state, kb, kb.table.customers):
        outcomes[cid] = outcome
        for h in outcome.hits:
            if h.decision == "dismiss":
                continue
            found[(cid, h.party, h.hit.list_id, h.hit.entry.key)] = {
                "entry_name": h.hit.entry.name,
                "matched_name": h.hit.matched_name,
                "strength": "confirmed" if h.decision == "confirm" else h.hit.strength,
                "score": h.hit.score,
                "fingerprint": h.hit.entry.fingerprint,
            }
    new, removed, changed = replace_hits(engine, found, now=now)
    return Rescreen(outcomes, new, removed, changed)


def usage_verdict(
    kb: Knowledge, customer: Customer, use: Usage, outcome: ScreeningOutcome, *, on: date
) -> str:
    """The verdict for one recorded usage of a customer, screened as `outcome` says."""
    subject = Subject(
        customer,
        customer.hq,
        use.country,
        use.model,
        use.access,
        customer.name,
        list_facts(outcome, customer.name),
    )
    base = kb.engine.evaluate(subject, on).verdict
    return apply_screening(
        outcome,
        kb.table.rules.values(),
        verdict=base,
        access=use.access,
        as_of=on,
        customer_name=customer.name,
    ).verdict


def usage_flips(
    kb: Knowledge,
    customer: Customer,
    before: ScreeningOutcome,
    after: ScreeningOutcome,
    *,
    on: date,
) -> list[str]:
    """Recorded usages of a customer whose verdict differs between two screening outcomes."""
    out = []
    for use in customer.uses:
        old = usage_verdict(kb, customer, use, before, on=on)
        new = usage_verdict(kb, customer, use, after, on=on)
        if old != new:
            out.append(
                f"{use.model} in {use.country} goes from {old.replace('_', ' ')} to {new.replace('_', ' ')}"
            )
    return out


def hit_change_texts(
    kb: Knowledge,
    result: Rescreen,
    state: ScreeningState,
    *,
    on: date,
) -> list[str]:
    """One line per new or removed hit, with the verdict flips a new hit causes."""
    lines = []
    for row in result.new:
        outcome = result.outcomes.get(row.customer_id)
        customer = kb.table.customers.get(row.customer_id)
        if outcome is None or customer is None:
            continue
        mine = [
            h
            for h in outcome.hits
            if h.party == row.party_id
            and h.hit.entry.key == row.entry_key
            and h.hit.list_id == row.list_id
        ]
        if not mine:
            continue
        h = mine[0]
        e = h.hit.entry
        without = ScreeningOutcome(
            outcome.lists,
            tuple(x for x in outcome.hits if x is not h),
            outcome.customer,
            outcome.owners,
            outcome.names,
        )
        flips = usage_flips(kb, customer, without, outcome, on=on)
        who = (
            customer.name
            if row.party_id == row.customer_id
            else f"{customer.name} (owner {h.party_name})"
        )
        bits = [f"listed {e.start_date}" if e.start_date else "", e.citation or ""]
        extra = ", ".join(b for b in bits if b)
        line = (
            f"{who} now {'matches' if h.hit.strength == 'match' else 'possibly matches'} "
            f"{list_code(h.kind, e)} entry '{e.name}'{f' ({extra})' if extra else ''}"
        )
        if flips:
            line += ": " + "; ".join(flips)
        lines.append(line)
    for row in result.removed:
        customer = kb.table.customers.get(row.customer_id)
        name = customer.name if customer is not None else row.customer_id
        lines.append(f"{name} no longer matches '{row.entry_name}' on {row.list_id}")
    return lines


def listings_of(
    engine: Engine, state: ScreeningState, kb: Knowledge, customer_ids: Iterable[str]
) -> dict[str, ListFacts]:
    """Screen these registered customers again and return what holds, as facts for the rules."""
    out: dict[str, ListFacts] = {}
    for cid, customer, outcome in _screen_registered(engine, state, kb, customer_ids):
        facts = list_facts(outcome, customer.name)
        if facts is not None:
            out[cid] = facts
    return out


def _screen_registered(
    engine: Engine, state: ScreeningState, kb: Knowledge, customer_ids: Iterable[str]
) -> Iterator[tuple[str, Customer, ScreeningOutcome]]:
    """Screen registered customers (and owners) in id order, reading every decision once and
    screening a party shared by many customers once."""
    customers = kb.table.customers
    decisions = latest_decisions(engine)
    memo: PartyMemo = {}
    for cid in sorted(set(customer_ids) & set(customers)):
        customer = customers[cid]
        outcome = screen_subject(
            engine,
            state,
            customer=customer,
            name=customer.name,
            hq=customer.hq,
            customers=customers,
            decisions=decisions,
            memo=memo,
        )
        yield cid, customer, outcome
