"""What screening hits do to an answer: facts for list-membership rules, and what no rule says.

A hit holds when an admin confirmed it or it scored `match` and was not dismissed. Hits that hold
become `ListFacts`, which the rule table's `listed` rules read like any other fact (list codes:
`SDN`, `EL`, `FSE`… from the CSL's sources, `SDN` for OFAC's own file, `EU`, `UK`, `UN`, `OS` for
the other kinds). What no rule decides is decided here: an open `possible` hit makes the answer at
least `review`, and so does a hit that holds on a list no rule names; with no list loaded nothing
is screened, and any customer's `allowed` becomes `conditional`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.screening.entries import Entry
from bot.domain.screening.hits import Hit

KIND_CODES = {
    "ofac_sdn": "SDN",
    "eu_fsf": "EU",
    "uk_sanctions": "UK",
    "un_sc": "UN",
    "opensanctions": "OS",
}


def list_code(kind: str, entry: Entry) -> str:
    """The code a `listed` rule names for an entry: the CSL source, or the list kind's code."""
    if kind == "csl":
        return entry.source or "CSL"
    return KIND_CODES.get(kind, kind.upper())


@dataclass(frozen=True)
class ListInfo:
    """A loaded list version, as answers cite it."""

    id: str
    name: str
    kind: str
    version: str  # the date of the version
    version_id: int
    entries: int

    def to_json(self) -> dict[str, Any]:
        """The `lists` item of the screening section."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "version_id": self.version_id,
            "entries": self.entries,
        }


@dataclass(frozen=True)
class PartyHit:
    """A hit on the customer or one of its owners, with an admin's decision on it."""

    role: str  # customer | owner
    party: str  # customer id, or the name screened
    party_name: str
    kind: str  # list kind
    hit: Hit
    decision: str | None = None  # confirm | dismiss, while the entry is unchanged
    decided_by: str | None = None
    why: str | None = None

    @property
    def code(self) -> str:
        """The entry's list code."""
        return list_code(self.kind, self.hit.entry)

    @property
    def holds(self) -> bool:
        """Confirmed, or a `match` nobody dismissed."""
        return self.decision == "confirm" or (
            self.decision is None and self.hit.strength == "match"
        )

    @property
    def open_possible(self) -> bool:
        """A possible match nobody decided on."""
        return self.decision is None and self.hit.strength == "possible"

    def to_json(self) -> dict[str, Any]:
        """One item of `matches`, in the shape `clearance screen --json` prints."""
        data = match_json(self.hit, self.kind)
        data.update(
            {
                "party": self.party_name,
                "role": self.role,
                "decision": self.decision,
            }
        )
        if self.decision:
            data["decided_by"] = self.decided_by
            data["why"] = self.why
        return data


def match_json(hit: Hit, kind: str) -> dict[str, Any]:
    """A hit in the documented JSON form."""
    e = hit.entry
    return {
        "list": hit.list_id,
        "list_code": list_code(kind, e),
        "entry_id": e.entry_id,
        "name": e.name,
        "matched_name": hit.matched_name,
        "alias_kind": hit.alias_kind,
        "type": e.type,
        "programs": list(e.programs),
        "countries": list(e.countries),
        "score": hit.score,
        "strength": hit.strength,
        "url": e.url,
        "citation": e.citation,
        "words": [[w.query, w.listed, w.similarity] for w in hit.words],
        "reasons": list(hit.reasons),
    }


@dataclass(frozen=True)
class ScreeningOutcome:
    """Who was screened and what was found: the input to `apply_screening`."""

    lists: tuple[ListInfo, ...]
    hits: tuple[PartyHit, ...] = ()
    customer: str | None = None  # the screened customer's party id
    owners: Mapping[str, Sequence[tuple[str, float]]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    unnamed: bool = False  # the question names no customer: there is nobody to screen

    @property
    def screened(self) -> bool:
        """Whether a name was screened against at least one list."""
        return bool(self.lists) and not self.unnamed

    def status(self) -> str:
        """not_screened, match, possible, dismissed or clear."""
        if not self.screened:
            return "not_screened"
        if any(h.holds for h in self.hits):
            return "match"
        if any(h.open_possible for h in self.hits):
            return "possible"
        if self.hits:
            return "dismissed"
        return "clear"

    def summary(self) -> str:
        """One line for plain text and cards."""
        if not self.lists:
            return "Not screened: no restricted-party list is loaded."
        if self.unnamed:
            return "Not screened: the question names no customer."
        versions = ", ".join(f"{x.name} (version of {x.version})" for x in self.lists)
        shown = [h for h in self.hits if h.decision != "dismiss"]
        if not shown:
            dismissed = len(self.hits)
            tail = (
                f" ({dismissed} dismissed hit{'s' if dismissed != 1 else ''})" if dismissed else ""
            )
            return f"No hits on {versions}{tail}."
        parts = []
        for h in shown[:5]:
            e = h.hit.entry
            state = "confirmed" if h.decision == "confirm" else h.hit.strength
            who = "" if h.role == "customer" else f"owner {h.party_name}: "
            parts.append(
                f"{who}{state} on {h.code} entry '{e.name}' ({e.entry_id}), score {h.hit.score:.2f}"
            )
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        return f"Screened against {versions}: " + "; ".join(parts) + more + "."


@dataclass
class ScreeningEffect:
    """The answer after screening: verdict, added reasons, conditions, warnings and the section."""

    verdict: str
    reasons: list[dict[str, Any]]
    conditions: list[str]
    warnings: list[str]
    section: dict[str, Any]
