"""Customer lookup by name or alias, ignoring case and punctuation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.errors import Candidate, QuestionError
from bot.ruletable import Customer

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def customer_key(name: str) -> str:
    """Fold case, accents and punctuation: "ACME, GmbH." and "acme gmbh" are the same key."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return " ".join(_NON_ALNUM.sub(" ", folded).split())


@dataclass
class CustomerIndex:
    """Registered customers by name and alias key."""

    customers: dict[str, Customer]
    _keys: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for c in self.customers.values():
            for name in (c.id, c.name, *c.aliases):
                self._keys.setdefault(customer_key(name), set()).add(c.id)

    def find(self, name: str) -> Customer | None:
        """Return the registered customer with this name or alias; raise if several have it."""
        ids = self._keys.get(customer_key(name), set())
        if len(ids) > 1:
            raise QuestionError(
                "ambiguous_customer", f"Several registered customers are called '{name}'. Which?",
                tuple(Candidate(i, f"{self.customers[i].name} ({self.customers[i].hq})")
                      for i in sorted(ids)))
        return self.customers[next(iter(ids))] if ids else None

    def similar(self, name: str, limit: int = 3) -> list[Customer]:
        """Return registered customers whose names look like this one (for a hint)."""
        key = customer_key(name)
        if len(key) < 3:
            return []
        hits = process.extract(key, list(self._keys), scorer=fuzz.WRatio, limit=limit,
                               score_cutoff=88)
        ids = dict.fromkeys(i for k, _s, _ in hits for i in sorted(self._keys[k]))
        return [self.customers[i] for i in ids][:limit]
