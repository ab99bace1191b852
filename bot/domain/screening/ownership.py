"""The 50 Percent Rule and the BIS Affiliates Rule: blocking through aggregate ownership.

The ownership test itself lives with the rules that read it (`bot.domain.rules.listed`); this
module names it for screening and keeps the Affiliates Rule's dates.
"""

from __future__ import annotations

from datetime import date

from bot.domain.rules.listed import THRESHOLD, OwnershipFinding, blocked_by_ownership

# BIS Affiliates Rule (90 FR 47201), from the reference: partial confidence.
AFFILIATES_EFFECTIVE = date(2025, 9, 29)
AFFILIATES_SUSPENDED = (date(2025, 11, 10), date(2026, 11, 9))
AFFILIATES_CITATION = "90 FR 47201 (BIS Affiliates Rule); suspended 2025-11-10 to 2026-11-09"


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


__all__ = [
    "AFFILIATES_CITATION",
    "AFFILIATES_EFFECTIVE",
    "AFFILIATES_SUSPENDED",
    "THRESHOLD",
    "OwnershipFinding",
    "affiliates_rule_status",
    "blocked_by_ownership",
]
