"""The subject of a decision: who uses which model where, and what screening found."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.rules.entities import Customer
from bot.domain.rules.listed import ListFacts


@dataclass(frozen=True)
class Subject:
    """Who uses which model where, as resolved from a question."""

    customer: Customer | None  # None: not registered
    # Registered: the customer's. Unregistered: the place the question put the customer in, the
    # headquarters it stated, or None when it did not say (then every rule on it is unknown).
    hq: str | None
    country: str
    model: str
    access: str = "api"
    name: str | None = None  # the name as asked, for condition texts
    # What restricted-party screening found; None when nothing was screened (then no `listed`
    # rule holds, and the caller makes the answer conditional on it).
    listing: ListFacts | None = None
