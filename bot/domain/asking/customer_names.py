"""Customer lookup by name or alias, ignoring case, punctuation and invisible characters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.domain.errors import Candidate, QuestionError
from bot.domain.names.keys import customer_key, skeleton_key
from bot.domain.rules.entities import Customer

MAX_BUCKET = 2000  # a word shared by more names than this says nothing ("ltd", "gmbh", ...)
MAX_POOL = 1000  # names a hint scores (one fuzzy comparison each) once the rarest word's are in


class CustomerFinder(Protocol):
    """Finds registered customers by name (in memory, or in the database)."""

    def find(self, name: str) -> Customer | None:
        """Return the customer with this name or alias, or None."""

    def similar(self, name: str, limit: int = 3) -> list[Customer]:
        """Return customers whose names look like this one."""


@dataclass
class CustomerIndex:
    """Registered customers by name and alias key."""

    customers: dict[str, Customer]
    _keys: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _buckets: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _skeletons: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for c in self.customers.values():
            for name in (c.id, c.name, *c.aliases):
                self._keys.setdefault(customer_key(name), set()).add(c.id)

    def _bucketed(self) -> dict[str, set[str]]:
        """Index names by word and word prefix (built on first use, for large customer lists).

        Fuzzy hints then compare against names sharing a word or a word's first three letters,
        so a hint stays fast with 100,000 customers instead of scanning every name.
        """
        if not self._buckets:
            buckets: dict[str, set[str]] = {}
            for key in self._keys:
                for word in key.split():
                    buckets.setdefault(word, set()).add(key)
                    buckets.setdefault("~" + word[:3], set()).add(key)
            # Published whole: a hint on another server thread never sees half an index.
            self._buckets = buckets
        return self._buckets

    def find(self, name: str) -> Customer | None:
        """Return the registered customer with this name or alias; raise if several have it."""
        ids = self._keys.get(customer_key(name), set())
        if len(ids) > 1:
            raise QuestionError(
                "ambiguous_customer",
                f"Several registered customers are called '{name}'. Which?",
                tuple(
                    Candidate(i, f"{self.customers[i].name} ({self.customers[i].hq})")
                    for i in sorted(ids)
                ),
            )
        return self.customers[next(iter(ids))] if ids else None

    def hint_pool(self, key: str) -> set[str]:
        """Return the name keys a hint compares with `key`, by the words they share."""
        buckets = self._bucketed()
        shared = sorted(
            (
                b
                for word in key.split()
                for b in (buckets.get(word), buckets.get("~" + word[:3]))
                if b and len(b) <= MAX_BUCKET
            ),
            key=len,
        )
        # Rarest words first: a name that looks like this one shares its distinctive word, or a
        # less common one when that word has a typo. Words shared by more names are left out
        # once the pool is full, so a hint costs hundreds of comparisons, not thousands (they
        # were the tail of unregistered asks at 100,000 customers).
        pool: set[str] = set()
        for bucket in shared:
            new = bucket - pool  # a word and its prefix mostly hold the same names
            if pool and len(pool) + len(new) > MAX_POOL:
                break
            pool |= new
        return pool

    def _skeletoned(self) -> dict[str, set[str]]:
        """Index customer ids by the confusables skeleton of each name (built on first use)."""
        if not self._skeletons:
            skeletons: dict[str, set[str]] = {}
            for c in self.customers.values():
                for n in (c.id, c.name, *c.aliases):
                    skeletons.setdefault(skeleton_key(n), set()).add(c.id)
            self._skeletons = skeletons  # published whole, like the word index
        return self._skeletons

    def warm(self) -> None:
        """Build the hint and lookalike indexes now, so no asker waits for them."""
        self._bucketed()
        self._skeletoned()

    def lookalikes(self, name: str) -> list[Customer]:
        """Return the customers whose name or alias has the same confusables skeleton."""
        return [self.customers[i] for i in sorted(self._skeletoned().get(skeleton_key(name), ()))]

    def similar(self, name: str, limit: int = 3) -> list[Customer]:
        """Return registered customers whose names look like this one: lookalikes first."""
        key = customer_key(name)
        # Only a name with characters outside ASCII can hide a lookalike the fuzzy match below
        # misses; the skeleton index is built for the first such name.
        alike = [] if name.isascii() else self.lookalikes(name)
        if alike:
            return alike[:limit]
        if len(key) < 3:
            return []
        # A long list is indexed by word on the first hint (one-shot commands look customers up
        # in the database instead, `storage.customers`).
        pool = set(self._keys) if len(self._keys) <= MAX_BUCKET else self.hint_pool(key)
        hits = process.extract(key, pool, scorer=fuzz.WRatio, limit=limit, score_cutoff=88)
        keys = [k for k, _s, _ in hits] or _typo_of(key, pool)
        ids = dict.fromkeys(i for k in keys for i in sorted(self._keys[k]))
        return [self.customers[i] for i in ids][:limit]


def _typo_of(key: str, pool: set[str]) -> list[str]:
    """Return names that start with the key give or take a typo ("nimbsu" for "Nimbus Pte Ltd").

    Swapped letters score low with WRatio; the start of a name compared letter by letter
    (optimal string alignment, where a swap is one edit) catches them.
    """
    if len(key) < 4:
        return []
    allowed = 1 if len(key) < 8 else 2
    return sorted(
        k for k in pool if OSA.distance(key, k[: len(key)], score_cutoff=allowed) <= allowed
    )
