"""A problem found in a rule table: which entity, which field, what is wrong and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One semantic problem in a rule table."""

    kind: str
    id: str
    field: str
    message: str
    # The other entity the problem is about (a missing group, the rule a license names): the
    # loader uses it to locate problems of entities not in the file and to skip follow-on noise.
    ref: tuple[str, str] | None = None


def never_in_force(start: object, end: object, start_name: str, what: str) -> str:
    """Say that an end date comes before its start, and how to fix it."""
    return (
        f"{end} is before {start_name} {start}, so the {what}; swap the dates or fix the wrong one"
    )
