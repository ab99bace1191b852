"""Customers fetched on demand, for a one-shot `clearance ask` over a large customer list.

Loading and indexing 100,000 customers costs seconds and hundreds of megabytes, while one answer
needs one customer and its owners. `StoredCustomers` behaves as the table's customer mapping and
fetches entries when first asked for; the `ids_with_*` functions find customers by name in SQL
(for `bot.services.customer_lookup`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, or_, select

from bot.domain.rules.entities import Customer
from storage.db import session_scope
from storage.tables.rule_table import CustomerRow

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


def customer_ids(engine: Engine, revision: int, *conditions: Any) -> list[str]:
    """Return the ids of up to HINT_POOL customers of a revision that meet the conditions."""
    with session_scope(engine) as session:
        return sorted(
            set(
                session.exec(
                    select(col(CustomerRow.key)).where(*conditions, *_at(revision)).limit(HINT_POOL)
                )
            )
        )


def ids_with_name_key(engine: Engine, revision: int, key: str) -> list[str]:
    """Return the customers with this name key (see `customer_key`) as id, name or alias."""
    return customer_ids(
        engine, revision, col(CustomerRow.names).contains(f"|{key}|", autoescape=True)
    )


def ids_with_name_fragments(engine: Engine, revision: int, fragments: list[str]) -> list[str]:
    """Return up to HINT_POOL customers whose name keys contain any of the fragments."""
    return customer_ids(
        engine,
        revision,
        or_(*(col(CustomerRow.names).contains(f, autoescape=True) for f in fragments)),
    )
