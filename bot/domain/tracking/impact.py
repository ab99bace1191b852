"""Impact: which recorded customer usages get a different verdict after a change.

Two cases: a new rule-table revision (compare the old and new tables on one day), and the passing
of time (compare one table on the day before and the day itself, for rules that come into force
or lapse that day, such as the BIS Affiliates rule suspension ending on 2026-11-10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.domain.asking.knowledge import Knowledge
from bot.domain.rules.listed import ListFacts
from bot.domain.rules.subject import Subject


@dataclass(frozen=True)
class Flip:
    """One recorded usage whose verdict changes."""

    customer_id: str
    customer: str
    model: str
    country: str
    access: str
    before: str
    after: str
    on: date
    rules: tuple[str, ...]

    def describe(self) -> str:
        """Return e.g. "Nimbus Pte Ltd: claude-sonnet-4-5 in SG goes from allowed to denied on
        2026-11-10"."""
        return (
            f"{self.customer}: {self.model} in {self.country} goes from "
            f"{self.before.replace('_', ' ')} to {self.after.replace('_', ' ')} on {self.on}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "customer_id": self.customer_id,
            "customer": self.customer,
            "model": self.model,
            "country": self.country,
            "access": self.access,
            "before": self.before,
            "after": self.after,
            "on": self.on.isoformat(),
            "rules": list(self.rules),
        }


UsageKey = tuple[str, str, str, str]  # customer, model, country, access


Listings = Mapping[str, ListFacts]  # by customer id: what screening found, for `listed` rules


def _verdicts(
    kb: Knowledge, on: date, listings: Listings
) -> dict[UsageKey, tuple[str, tuple[str, ...]]]:
    out = {}
    for c in kb.table.customers.values():
        listing = listings.get(c.id)
        for u in c.uses:
            if u.model not in kb.table.models:
                continue
            subject = Subject(c, c.hq, u.country, u.model, u.access, c.name, listing)
            ev = kb.engine.evaluate(subject, on)
            out[(c.id, u.model, u.country, u.access)] = (
                ev.verdict,
                tuple(m.rule.id for m in ev.deciding),
            )
    return out


def _flips(kb: Knowledge, before: dict[Any, Any], after: dict[Any, Any], on: date) -> list[Flip]:
    flips = []
    for key in sorted(after):
        if key in before and before[key][0] != after[key][0]:
            cid, model, country, access = key
            flips.append(
                Flip(
                    cid,
                    kb.table.customers[cid].name,
                    model,
                    country,
                    access,
                    before[key][0],
                    after[key][0],
                    on,
                    after[key][1],
                )
            )
    return flips


def flips_between(
    old: Knowledge, new: Knowledge, *, on: date, listings: Listings | None = None
) -> list[Flip]:
    """Return the usages whose verdict on `on` differs between two revisions.

    `listings` are the screening facts of customers with hits, so that a revision changing a
    `listed` rule shows whose answers it flips.
    """
    facts = listings or {}
    return _flips(new, _verdicts(old, on, facts), _verdicts(new, on, facts), on)


def flips_on(kb: Knowledge, day: date, listings: Listings | None = None) -> list[Flip]:
    """Return the usages whose verdict changes from the day before to `day`."""
    facts = listings or {}
    return _flips(kb, _verdicts(kb, day - timedelta(days=1), facts), _verdicts(kb, day, facts), day)


def rules_changing_on(kb: Knowledge, day: date) -> list[str]:
    """Return the rules that come into force on `day` or lapsed the day before."""
    out = []
    for r in kb.table.rules.values():
        if r.effective_from == day or r.effective_to == day - timedelta(days=1):
            out.append(r.id)
    return sorted(out)
