"""What screening hits do to an answer: list-membership rules, the 50% rule, possible matches.

A screening rule names list codes (`SDN`, `EL`, `FSE`… from the CSL's sources, `SDN` for OFAC's own
file, `EU`, `UK`, `UN`, `OS` for the other kinds), optionally programs, whom it looks at (the
customer, or its owners through aggregate ownership) and the access kinds it covers. A hit holds
when an admin confirmed it or it scored `match` and was not dismissed; an open `possible` hit makes
the answer at least `review`. With no list loaded nothing is screened, and any customer's
`allowed` becomes `conditional`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.errors import BotError
from bot.domain.rules.evaluator import VERDICT_RANK
from bot.domain.screening.entries import Entry
from bot.domain.screening.matching import Hit
from bot.domain.screening.ownership import blocked_by_ownership

VERDICT_OF = {
    "allow": "allowed",
    "review": "review",
    "license_required": "license_required",
    "deny": "denied",
}
KIND_CODES = {
    "ofac_sdn": "SDN",
    "eu_fsf": "EU",
    "uk_sanctions": "UK",
    "un_sc": "UN",
    "opensanctions": "OS",
}
ACCESS = ("api", "weights", "hosted")
WHO = ("customer", "owners")


def list_code(kind: str, entry: Entry) -> str:
    """The code a screening rule names for an entry: the CSL source, or the list kind's code."""
    if kind == "csl":
        return entry.source or "CSL"
    return KIND_CODES.get(kind, kind.upper())


@dataclass(frozen=True)
class ScreeningRule:
    """A rule on list membership."""

    id: str
    effect: str
    title: str
    lists: tuple[str, ...]
    who: tuple[str, ...] = ("customer",)
    programs: tuple[str, ...] = ()
    access: tuple[str, ...] = ACCESS
    effective_from: date | None = None
    effective_to: date | None = None
    citation: str = ""
    url: str = ""
    explanation: str = ""
    confidence: str = "confirmed"
    unverified: bool = False

    def in_force(self, on: date) -> bool:
        """Whether the rule applies on a date (both ends inclusive)."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )

    def cited(self, detail: str) -> dict[str, Any]:
        """The rule as an answer's reasons list it."""
        return {
            "rule": self.id,
            "effect": self.effect,
            "title": self.title,
            "citation": self.citation,
            "url": self.url,
            "explanation": self.explanation,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "unverified": self.unverified,
            "confidence": self.confidence,
            "detail": detail,
        }


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BotError(f"{where}: expected a list of strings.")
    return tuple(value)


def _date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise BotError(f"{where}: '{value}' is not a date (YYYY-MM-DD).") from exc


def read_screening_rules(data: Any) -> tuple[ScreeningRule, ...]:
    """Read `screening_rules:` from a parsed YAML pack; raise `BotError` naming the bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("screening_rules"), list):
        raise BotError("The screening pack needs a 'screening_rules:' list.")
    rules = []
    seen: set[str] = set()
    for n, raw in enumerate(data["screening_rules"], start=1):
        where = f"screening_rules[{n}]"
        if not isinstance(raw, dict) or not raw.get("id"):
            raise BotError(f"{where}: each rule needs an id.")
        rid = str(raw["id"])
        where = f"screening rule '{rid}'"
        if rid in seen:
            raise BotError(f"{where}: the id is used twice.")
        seen.add(rid)
        effect = raw.get("effect")
        if effect not in VERDICT_OF or effect == "allow":
            raise BotError(f"{where}: effect must be deny, license_required or review.")
        who = _strings(raw.get("who", ["customer"]), f"{where} who")
        access = _strings(raw.get("access", list(ACCESS)), f"{where} access")
        if not set(who) <= set(WHO) or not who:
            raise BotError(f"{where}: who is customer and/or owners.")
        if not set(access) <= set(ACCESS) or not access:
            raise BotError(f"{where}: access is api, weights and/or hosted.")
        lists = _strings(raw.get("lists"), f"{where} lists")
        if not lists:
            raise BotError(f"{where}: name the lists (SDN, EL, FSE…).")
        rules.append(
            ScreeningRule(
                id=rid,
                effect=effect,
                title=str(raw.get("title") or rid),
                lists=tuple(x.upper() for x in lists),
                who=who,
                programs=_strings(raw.get("programs"), f"{where} programs"),
                access=access,
                effective_from=_date(raw.get("effective_from"), f"{where} effective_from"),
                effective_to=_date(raw.get("effective_to"), f"{where} effective_to"),
                citation=str(raw.get("citation") or ""),
                url=str(raw.get("url") or ""),
                explanation=str(raw.get("explanation") or ""),
                confidence=str(raw.get("confidence") or "confirmed"),
                unverified=bool(raw.get("unverified", False)),
            )
        )
    return tuple(rules)


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


def _stricter(a: str, b: str) -> str:
    return a if VERDICT_RANK[a] >= VERDICT_RANK[b] else b


def _programs_match(rule: ScreeningRule, entry: Entry) -> bool:
    return not rule.programs or bool(set(rule.programs) & set(entry.programs))


def _listed(outcome: ScreeningOutcome, rule: ScreeningRule, *, possible: bool) -> dict[str, str]:
    """Owners (never the customer itself) that count as listed for this rule."""
    out: dict[str, str] = {}
    for h in outcome.hits:
        if h.role != "owner" or h.code not in rule.lists or not _programs_match(rule, h.hit.entry):
            continue
        if h.holds or (possible and h.open_possible):
            e = h.hit.entry
            out[h.party] = f"{h.code} entry '{e.name}' ({e.entry_id})"
    return out


def _merge_reasons(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One reason per rule; the hits that triggered it joined in its detail."""
    merged: dict[str, dict[str, Any]] = {}
    for r in reasons:
        if r["rule"] in merged:
            if r["detail"] not in merged[r["rule"]]["detail"]:
                merged[r["rule"]]["detail"] += "; " + r["detail"]
        else:
            merged[r["rule"]] = dict(r)
    return list(merged.values())


def apply_screening(
    outcome: ScreeningOutcome,
    rules: Sequence[ScreeningRule],
    *,
    verdict: str,
    access: str,
    as_of: date,
    customer_name: str | None,
) -> ScreeningEffect:
    """Combine a rule-table verdict with screening: strictest wins; possible hits cap at review."""
    reasons: list[dict[str, Any]] = []
    conditions: list[str] = []
    warnings: list[str] = []
    ownership: list[dict[str, Any]] = []
    who = customer_name or "the customer"
    if not outcome.screened:
        why = "no restricted-party list is loaded" if not outcome.lists else "no name was given"
        # List status is never assumed in the customer's favour, registered or not.
        if verdict in ("allowed", "conditional"):
            verdict = "conditional"
            conditions.append(f"Only if {who} is not a restricted party (not screened: {why}).")
    for rule in rules:
        if not rule.in_force(as_of) or access not in rule.access:
            continue
        if "customer" in rule.who:
            for h in outcome.hits:
                if (
                    h.role == "customer"
                    and h.holds
                    and h.code in rule.lists
                    and _programs_match(rule, h.hit.entry)
                ):
                    e = h.hit.entry
                    detail = (
                        f"{who} matches {h.code} entry '{e.name}' ({e.entry_id}; "
                        f"{', '.join(e.programs) or 'no program'}), score {h.hit.score:.2f}"
                        f"{' (confirmed)' if h.decision == 'confirm' else ''}"
                    )
                    reasons.append(rule.cited(detail))
                    verdict = _stricter(verdict, VERDICT_OF[rule.effect])
        if "owners" in rule.who and outcome.customer is not None:
            found = blocked_by_ownership(
                outcome.customer, outcome.owners, _listed(outcome, rule, possible=False)
            )
            if found is not None:
                chain = [" -> ".join(c) for c in found.chains]
                reasons.append(
                    rule.cited(f"{found.share:g}% owned by listed parties: " + "; ".join(chain))
                )
                ownership.append(
                    {
                        "rule": rule.id,
                        "share": found.share,
                        "chains": [list(c) for c in found.chains],
                    }
                )
                verdict = _stricter(verdict, VERDICT_OF[rule.effect])
            elif VERDICT_RANK[VERDICT_OF[rule.effect]] > VERDICT_RANK["review"]:
                maybe = blocked_by_ownership(
                    outcome.customer, outcome.owners, _listed(outcome, rule, possible=True)
                )
                if maybe is not None and VERDICT_RANK[verdict] < VERDICT_RANK["review"]:
                    verdict = "review"
                    warnings.append(
                        f"If its owners' possible matches are confirmed, {who} is {maybe.share:g}% owned by "
                        f"listed parties (rule {rule.id}): decide the possible matches."
                    )
    possibles = [h for h in outcome.hits if h.open_possible and h.role == "customer"]
    if possibles and VERDICT_RANK[verdict] < VERDICT_RANK["review"]:
        verdict = "review"
    for h in possibles:
        e = h.hit.entry
        warnings.append(
            f"Possible match: {who} ~ {h.code} entry '{e.name}' ({e.entry_id}; "
            f"{', '.join(e.programs) or 'no program'}), score {h.hit.score:.2f} on '{h.hit.matched_name}'"
            f"{', ' + e.url if e.url else ''}. An admin must confirm or dismiss it."
        )
    reasons = _merge_reasons(reasons)
    section = {
        "status": outcome.status(),
        "summary": outcome.summary(),
        "matches": [h.to_json() for h in outcome.hits],
        "lists": [x.to_json() for x in outcome.lists],
    }
    if ownership:
        section["ownership"] = ownership
    return ScreeningEffect(verdict, reasons, conditions, warnings, section)
