"""Whom a question asks about: a registered customer, or a name with its headquarters' source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.asking.knowledge import Knowledge
from bot.domain.asking.questions import Question
from bot.domain.errors import QuestionError
from bot.domain.rules.entities import Customer


@dataclass(frozen=True)
class Party:
    """The customer a question asks about, where it uses the model, and what was assumed."""

    customer: Customer | None
    name: str | None
    hq: str | None  # None: an unregistered customer whose headquarters the question did not give
    country: str
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    hq_source: str = "registered"  # "registered", "question" (placed there), "stated", "unknown"
    similar: tuple[Customer, ...] = ()  # registered customers an unregistered name looks like


def resolve_party(q: Question, kb: Knowledge) -> Party:
    """Find the registered customer, else read the name and headquarters from the question."""
    registered = kb.customers.find(q.customer) if q.customer and not q.unregistered else None
    if registered is not None:
        return _registered_party(q, kb, registered)
    return _unregistered_party(q, kb)


def _registered_party(q: Question, kb: Knowledge, registered: Customer) -> Party:
    """Use the registered headquarters; say when the question places or states it otherwise."""
    assumptions: list[str] = []
    warnings: list[str] = []
    country = q.country
    if country is None:
        country = registered.hq
        assumptions.append(
            f"No place of use given: used {registered.name}'s headquarters, "
            f"{kb.places.label(country)}."
        )
    if q.hq_reading == "stated" and q.hq != registered.hq:
        warnings.append(
            f"The question says headquartered in {kb.places.label(q.hq or '')}, but "
            f"{registered.name} is registered as headquartered in "
            f"{kb.places.label(registered.hq)}: the registered headquarters was used."
        )
    return Party(
        registered, registered.name, registered.hq, country, tuple(assumptions), tuple(warnings)
    )


def _unregistered_party(q: Question, kb: Knowledge) -> Party:
    """Take the name, place and headquarters as the question gives them; unknown stays unknown."""
    assumptions: list[str] = []
    warnings: list[str] = []
    country = q.country
    if country is None and q.hq_reading == "stated" and q.hq is not None:
        country = q.hq
        assumptions.append(
            f"No place of use given: used the stated headquarters, {kb.places.label(country)}."
        )
    if country is None:
        # Say why "Acme in Kosovo" was read as a name: its place is not one the catalog knows.
        why = (
            f" I read '{q.customer}' as the customer's name: '{q.unplaced}' is not a place I know."
            if q.unplaced and q.customer
            else ""
        )
        raise QuestionError(
            "missing_country",
            f"Where will {q.customer or 'the customer'} use the model?{why} "
            "Add the place, e.g. '... in Germany ...'.",
        )
    who = q.customer or "The customer"
    hq = q.hq if q.hq_reading else None
    source, seat = _seat(q, kb, hq or country)
    similar: list[Customer] = []
    if q.customer:
        assumptions.append(
            f"{who} is not a registered customer: {seat}; its owners and tags are unknown."
        )
        similar = [] if q.unregistered else kb.customers.similar(q.customer)
        if similar:
            names = ", ".join(f"{c.name} ({kb.places.label(c.hq)})" for c in similar)
            warnings.append(
                f"'{q.customer}' is not registered, but these are: {names}. "
                "Ask with the registered name if you meant one of them."
            )
    else:
        assumptions.append(f"No customer named: {seat}; owners and tags are unknown.")
    return Party(
        None, q.customer, hq, country, tuple(assumptions), tuple(warnings), source, tuple(similar)
    )


def _seat(q: Question, kb: Knowledge, place: str) -> tuple[str, str]:
    """Return where an unregistered customer's headquarters came from, and how to say it."""
    if q.hq_reading == "placed":
        return "question", f"headquarters taken from the question: {kb.places.label(place)}"
    if q.hq_reading == "stated":
        return "stated", f"headquarters as stated: {kb.places.label(place)}"
    return "unknown", (
        "headquarters not stated, so every rule that depends on it is a condition "
        "(say where it is headquartered, e.g. 'X (US)' or hq=US)"
    )


def customer_json(who: Party) -> dict[str, Any]:
    """Return the answer's customer: the registered one, or the name and its headquarters' source."""
    if who.customer is not None:
        return {
            "id": who.customer.id,
            "name": who.customer.name,
            "registered": True,
            "hq": who.customer.hq,
        }
    return {
        "id": None,
        "name": who.name,
        "registered": False,
        "hq": who.hq,
        "hq_source": who.hq_source,
    }


def screening_party(who: Party) -> tuple[Customer | None, str | None, str]:
    """Whom to screen for a question's party: the registered customer (or None), the name, and
    its headquarters (else the place of use)."""
    return who.customer, who.name, who.hq or who.country
