"""The 50 Percent Rule and the BIS Affiliates Rule: blocking through aggregate ownership.

OFAC (guidance of 2014-08-13): an entity owned 50% or more, directly or indirectly, in aggregate,
by one or more blocked persons is itself blocked. Indirect ownership counts only through entities
that are themselves blocked, so the test recurses: an owner is blocked when it is listed, or when
its own blocked owners hold 50% or more of it. Exactly 50% counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

THRESHOLD = 50.0

# BIS Affiliates Rule (90 FR 47201), from the reference: partial confidence.
AFFILIATES_EFFECTIVE = date(2025, 9, 29)
AFFILIATES_SUSPENDED = (date(2025, 11, 10), date(2026, 11, 9))
AFFILIATES_CITATION = "90 FR 47201 (BIS Affiliates Rule); suspended 2025-11-10 to 2026-11-09"


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


def affiliates_rule_status(on: date) -> str:
    """Where the BIS Affiliates Rule stands on a date.

    `not_yet` before 2025-09-29, `in_force` until the suspension, `suspended` from 2025-11-10 to
    2026-11-09, and `returned_unverified` from 2026-11-10: the rule returns then unless extended,
    and no source seen says whether it was.
    """
    if on < AFFILIATES_EFFECTIVE:
        return "not_yet"
    start, end = AFFILIATES_SUSPENDED
    if on < start:
        return "in_force"
    if on <= end:
        return "suspended"
    return "returned_unverified"
