"""What screening does to an answer: facts for the `listed` rules, and what no rule decides.

The rule table's `listed` rules read `ListFacts` built from the hits that hold. The rest is
decided here, after the rules: an open `possible` hit makes the answer at least `review`, and so
does a hit that holds on a list no rule names (a hit is never cleared by silence); owners whose
possible matches would block the customer if confirmed make it `review` too; and with no list
loaded nothing is screened, so an `allowed` answer becomes `conditional`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain.rules.listed import ListedHit, ListFacts
from bot.domain.rules.table import Rule
from bot.domain.rules.verdicts import EFFECT_RANK, VERDICT_RANK
from bot.domain.screening.verdicts import PartyHit, ScreeningOutcome


def _describe(h: PartyHit, who: str) -> str:
    e = h.hit.entry
    return (
        f"{who} matches {h.code} entry '{e.name}' ({e.entry_id}; "
        f"{', '.join(e.programs) or 'no program'}), score {h.hit.score:.2f}"
        f"{' (confirmed)' if h.decision == 'confirm' else ''}"
    )


def list_facts(
    outcome: ScreeningOutcome, customer_name: str | None, *, possible: bool = False
) -> ListFacts | None:
    """The hits that hold (with `possible`, open possible ones too) as facts; None if unscreened."""
    if not outcome.screened or outcome.customer is None:
        return None
    who = customer_name or "the customer"
    hits: dict[str, list[ListedHit]] = {}
    for h in outcome.hits:
        if h.holds or (possible and h.open_possible):
            e = h.hit.entry
            entry = f"{h.code} entry '{e.name}' ({e.entry_id})"
            hits.setdefault(h.party, []).append(
                ListedHit(h.code, tuple(e.programs), _describe(h, who), entry)
            )
    return ListFacts(outcome.customer, {p: tuple(v) for p, v in hits.items()}, outcome.owners)


@dataclass
class ScreeningEffect:
    """The verdict after screening's own checks, the conditions and warnings they add, the section."""

    verdict: str
    conditions: list[str]
    warnings: list[str]
    section: dict[str, Any]


def _at_least(verdict: str, floor: str) -> str:
    return verdict if VERDICT_RANK[verdict] >= VERDICT_RANK[floor] else floor


def _applies(rule: Rule, access: str, as_of: date) -> bool:
    return rule.in_force(as_of) and (rule.access is None or access in rule.access)


def _ownership(
    outcome: ScreeningOutcome, rules: list[Rule], who: str, access: str, as_of: date
) -> tuple[list[dict[str, Any]], list[str]]:
    """Ownership findings of the owners' rules, and warnings for those only possible matches make."""
    held = list_facts(outcome, who)
    maybe = list_facts(outcome, who, possible=True)
    found_rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for rule in rules:
        spec = rule.listed
        if spec is None or spec.party == "customer" or not _applies(rule, access, as_of):
            continue
        found = held.owned(spec) if held is not None else None
        if found is not None:
            chains = [list(c) for c in found.chains]
            found_rows.append({"rule": rule.id, "share": found.share, "chains": chains})
        elif EFFECT_RANK[rule.effect] > EFFECT_RANK["review"] and maybe is not None:
            possible = maybe.owned(spec)
            if possible is not None:
                warnings.append(
                    f"If its owners' possible matches are confirmed, {who} is {possible.share:g}% "
                    f"owned by listed parties (rule {rule.id}): decide the possible matches."
                )
    return found_rows, warnings


def apply_screening(
    outcome: ScreeningOutcome,
    rules: Iterable[Rule],
    *,
    verdict: str,
    access: str,
    as_of: date,
    customer_name: str | None,
) -> ScreeningEffect:
    """Finish an answer the rules decided with `list_facts(outcome)`: what no rule decides."""
    conditions: list[str] = []
    warnings: list[str] = []
    who = customer_name or "the customer"
    listed = [r for r in rules if r.listed is not None]
    if not outcome.screened:
        why = "no restricted-party list is loaded" if not outcome.lists else "no name was given"
        # List status is never assumed in the customer's favour, registered or not.
        if verdict in ("allowed", "conditional"):
            verdict = "conditional"
            conditions.append(f"Only if {who} is not a restricted party (not screened: {why}).")
    named = {c for r in listed if r.listed and r.listed.party != "owners" for c in r.listed.lists}
    for h in outcome.hits:
        if h.role == "customer" and h.holds and h.code not in named:
            verdict = _at_least(verdict, "review")
            warnings.append(
                f"{_describe(h, who)}, but no rule of the table names the {h.code} list: "
                "decide by hand what it means."
            )
    ownership, maybe_owned = _ownership(outcome, listed, who, access, as_of)
    if maybe_owned:
        verdict = _at_least(verdict, "review")
        warnings += maybe_owned
    for h in outcome.hits:
        if h.open_possible and h.role == "customer":
            verdict = _at_least(verdict, "review")
            e = h.hit.entry
            warnings.append(
                f"Possible match: {who} ~ {h.code} entry '{e.name}' ({e.entry_id}; "
                f"{', '.join(e.programs) or 'no program'}), score {h.hit.score:.2f} on "
                f"'{h.hit.matched_name}'{', ' + e.url if e.url else ''}. "
                "An admin must confirm or dismiss it."
            )
    section: dict[str, Any] = {
        "status": outcome.status(),
        "summary": outcome.summary(),
        "matches": [h.to_json() for h in outcome.hits],
        "lists": [x.to_json() for x in outcome.lists],
    }
    if ownership:
        section["ownership"] = ownership
    return ScreeningEffect(verdict, conditions, warnings, section)
