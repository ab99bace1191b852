"""List membership as a fact rules read: what screening found, and the 50 Percent Rule's test.

Screening (bot.domain.screening) turns its hits into `ListFacts`, a plain value a question's
subject carries; a rule's `listed` condition holds when a hit that holds (a `match` nobody
dismissed, or one an admin confirmed) is on a named list, on the customer itself or on owners
that together hold 50% or more of it, directly or indirectly (OFAC guidance of 2014-08-13).
Indirect ownership counts only through entities that are themselves blocked, so the test
recurses: an owner is blocked when it is listed, or when its own blocked owners hold 50% or more
of it. Exactly 50% counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.rules.conditions import ListedSpec

THRESHOLD = 50.0

# The list codes a `listed` condition may name: the US Consolidated Screening List's sources
# (SDN also for OFAC's own file), then the other list kinds and a CSL entry without a source.
CSL_CODES = (
    "SDN",
    "FSE",
    "EL",
    "MEU",
    "DPL",
    "UVL",
    "SSI",
    "CMIC",
    "ISN",
    "DTC",
    "PLC",
    "MBS",
    "CAP",
)
LIST_CODES = (*CSL_CODES, "EU", "UK", "UN", "OS", "CSL")


@dataclass(frozen=True)
class OwnershipFinding:
    """A party blocked through ownership: the aggregate share and each chain that makes it up."""

    party: str
    share: float
    chains: tuple[tuple[str, ...], ...]


def _blocked(
    party: str,
    owners: Mapping[str, Sequence[tuple[str, float]]],
    listed: Mapping[str, str],
    threshold: float,
    visiting: frozenset[str],
    memo: dict[str, OwnershipFinding | None],
) -> OwnershipFinding | None:
    if party in memo:
        return memo[party]
    total = 0.0
    chains: list[tuple[str, ...]] = []
    for owner, share in owners.get(party, ()):
        if owner in visiting or share <= 0:
            continue  # a cycle adds nothing new
        if owner in listed:
            total += share
            chains.append((f"{owner} ({listed[owner]}) owns {share:g}% of {party}",))
            continue
        sub = _blocked(owner, owners, listed, threshold, visiting | {owner}, memo)
        if sub is not None:
            total += share
            for chain in sub.chains:
                chains.append(
                    (
                        *chain,
                        f"{owner} (blocked: {sub.share:g}% owned by blocked parties) owns {share:g}% of {party}",
                    )
                )
    found = OwnershipFinding(party, total, tuple(chains)) if total >= threshold else None
    memo[party] = found
    return found


def blocked_by_ownership(
    party: str,
    owners: Mapping[str, Sequence[tuple[str, float]]],
    listed: Mapping[str, str],
    *,
    threshold: float = THRESHOLD,
) -> OwnershipFinding | None:
    """Return the finding when listed parties own `threshold`% or more of `party`, in aggregate.

    `owners` maps a party to its direct owners and their percentages; `listed` maps each listed
    party to a description of its listing ("OFAC SDN entry 44973").
    """
    if party in listed:
        return None  # listed itself: a direct hit, not an ownership finding
    return _blocked(party, owners, listed, threshold, frozenset({party}), {})


@dataclass(frozen=True)
class ListedHit:
    """A hit that holds on one party: its list code, programs and how answers name it."""

    code: str
    programs: tuple[str, ...]
    detail: str  # the whole sentence, for a hit on the customer itself
    entry: str  # "SDN entry 'X' (9002)", for ownership chains


@dataclass(frozen=True)
class ListFacts:
    """What screening found about a customer and its owners, as rules read it."""

    customer: str  # the customer's party id
    hits: Mapping[str, tuple[ListedHit, ...]] = field(default_factory=dict)  # by party id
    owners: Mapping[str, Sequence[tuple[str, float]]] = field(default_factory=dict)

    def owned(self, spec: ListedSpec) -> OwnershipFinding | None:
        """Return the finding when parties on the named lists own 50% or more of the customer."""
        listed: dict[str, str] = {}
        for party, hits in self.hits.items():
            for h in hits:
                if party != self.customer and spec.covers(h.code, h.programs):
                    listed[party] = h.entry
        return blocked_by_ownership(self.customer, self.owners, listed) if listed else None

    def holds(self, spec: ListedSpec) -> str | None:
        """Return why the condition holds (the hits, the ownership chain), or None."""
        parts = []
        if spec.party in ("customer", "either"):
            parts += [
                h.detail
                for h in self.hits.get(self.customer, ())
                if spec.covers(h.code, h.programs)
            ]
        if spec.party in ("owners", "either"):
            found = self.owned(spec)
            if found is not None:
                chains = "; ".join(" -> ".join(c) for c in found.chains)
                parts.append(f"{found.share:g}% owned by listed parties: {chains}")
        return "; ".join(parts) or None
