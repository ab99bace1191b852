"""Customers fetched on demand, for a one-shot `clearance ask` over a large customer list.

Loading and indexing 100,000 customers costs seconds and hundreds of megabytes, while one answer
needs one customer and its owners. `StoredCustomers` behaves as the table's customer mapping and
fetches entries when first asked for; `StoredCustomerIndex` finds a customer by name in SQL.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy.engine import Engine
from sqlmodel import col, or_, select

from bot.domain.asking.customer_names import customer_key, skeleton_key, skeleton_words
from bot.domain.errors import Candidate, QuestionError
from bot.domain.rules.table import Customer
from storage.db import session_scope
from storage.models import CustomerRow

HINT_POOL = 500


def _at(revision: int) -> Any:
    return (
        col(CustomerRow.rev_from) <= revision,
        or_(col(CustomerRow.rev_to).is_(None), col(CustomerRow.rev_to) > revision),
    )


class StoredCustomers(dict[str, Customer]):
    """The customers of one revision, read from the database when first looked up."""

    def __init__(self, engine: Engine, revision: int) -> None:
        super().__init__()
        self._engine, self._revision = engine, revision
        self._absent: set[str] = set()

    def fetch_many(self, ids: list[str]) -> None:
        """Load these customers (one query)."""
        wanted = [i for i in ids if not dict.__contains__(self, i) and i not in self._absent]
        if not wanted:
            return
        with session_scope(self._engine) as session:
            bodies = list(
                session.exec(
                    select(col(CustomerRow.body)).where(
                        col(CustomerRow.key).in_(wanted), *_at(self._revision)
                    )
                )
            )
        for body in bodies:
            customer = Customer.from_dict(body)
            dict.__setitem__(self, customer.id, customer)
        self._absent.update(i for i in wanted if not dict.__contains__(self, i))

    def __missing__(self, key: str) -> Customer:
        self.fetch_many([key])
        if not dict.__contains__(self, key):
            raise KeyError(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        self.fetch_many([key])
        return dict.__contains__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Return a customer, fetching it if needed."""
        if key not in self:
            return default
        return dict.__getitem__(self, key)


class StoredCustomerIndex:
    """Find registered customers by name or alias in SQL (same keys as `CustomerIndex`)."""

    def __init__(self, engine: Engine, revision: int, customers: StoredCustomers) -> None:
        self._engine, self._revision, self._customers = engine, revision, customers

    def _ids(self, *conditions: Any) -> list[str]:
        with session_scope(self._engine) as session:
            return sorted(
                set(
                    session.exec(
                        select(col(CustomerRow.key))
                        .where(*conditions, *_at(self._revision))
                        .limit(HINT_POOL)
                    )
                )
            )

    def find(self, name: str) -> Customer | None:
        """Return the registered customer with this name or alias; raise if several have it."""
        key = customer_key(name)
        ids = self._ids(col(CustomerRow.names).contains(f"|{key}|", autoescape=True))
        self._customers.fetch_many(ids)
        if len(ids) > 1:
            raise QuestionError(
                "ambiguous_customer",
                f"Several registered customers are called '{name}'. Which?",
                tuple(
                    Candidate(i, f"{self._customers[i].name} ({self._customers[i].hq})")
                    for i in ids
                ),
            )
        return self._customers[ids[0]] if ids else None

    def similar(self, name: str, limit: int = 3) -> list[Customer]:
        """Return registered customers whose names look like this one (for a hint)."""
        key = customer_key(name)
        # A name with letters outside ASCII may be a lookalike (a Cyrillic a in "Dragon"): its
        # words are looked up as their prototypes too. ASCII names skip the confusables table,
        # which a one-shot `clearance ask` would otherwise read on every unregistered name.
        lookalike = not name.isascii()
        written = (key, skeleton_words(name)) if lookalike else (key,)
        words = [w for w in dict.fromkeys(w for k in written for w in k.split()) if len(w) >= 3]
        if not words:
            return []
        ids = self._ids(
            or_(*(col(CustomerRow.names).contains(w[:3], autoescape=True) for w in words))
        )
        self._customers.fetch_many(ids)
        keys: dict[str, str] = {}
        for i in ids:
            c = self._customers[i]
            for n in (c.id, c.name, *c.aliases):
                keys.setdefault(customer_key(n), i)
        hits = process.extract(key, list(keys), scorer=fuzz.WRatio, limit=limit, score_cutoff=88)
        # Lookalikes (the same confusables skeleton) first, then near misses.
        wanted = skeleton_key(name) if lookalike else None
        alike = [i for k, i in keys.items() if wanted is not None and skeleton_key(k) == wanted]
        found = dict.fromkeys([*alike, *(keys[k] for k, _s, _ in hits)])
        return [self._customers[i] for i in found][:limit]
