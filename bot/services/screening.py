"""Screening use cases: the in-process index per list version, screening names and customers,
applying hits to answers, importing list files, and re-screening on a new list version.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.domain.asking.answers import Answer
from bot.domain.asking.deciding import answer as decide
from bot.domain.asking.knowledge import Knowledge
from bot.domain.asking.parties import party_of
from bot.domain.asking.questions import Question
from bot.domain.errors import BotError
from bot.domain.rules.entities import Customer
from bot.domain.screening.effects import apply_screening, list_facts
from bot.domain.screening.entries import ParsedList
from bot.domain.screening.matching import Hit, Listed, ScreeningIndex, Thresholds
from bot.domain.screening.normalize import normal_text
from bot.domain.screening.parsers.common import ListFormatError
from bot.domain.screening.verdicts import (
    ListInfo,
    PartyHit,
    ScreeningOutcome,
    match_json,
)
from bot.domain.screening.versions import DEFAULT_MAX_REMOVED_SHARE
from bot.domain.tracking.kinds import kind_named, parse_list
from bot.services.metrics import count_screening_hits
from bot.services.yente import YenteClient, kind_of_entry
from bot.settings import Settings
from storage.models import ScreeningDecision
from storage.screening import (
    DecisionRow,
    ListGuardError,
    ScreeningSnapshots,
    StoredVersion,
    decisions_of,
    load_current,
    newest_versions,
    screening_stamp,
    store_version,
)

MAX_OWNER_DEPTH = 20  # ownership chains deeper than this are cut (and cycles never loop)


@dataclass(frozen=True)
class ScreeningState:
    """The newest version of every list, indexed: what one screening runs against."""

    versions: Mapping[str, int]
    lists: tuple[ListInfo, ...]
    kinds: Mapping[str, str]
    index: ScreeningIndex | None
    remote: YenteClient | None = None  # CLEARANCE_SCREENING_URL: screen with yente instead

    def screen(
        self, name: str, *, hq: str | None = None, party_type: str = "org", limit: int = 10
    ) -> list[Hit]:
        """Screen one name against every loaded list (or the yente service)."""
        if not name.strip():
            return []
        if self.remote is not None:
            return self.remote.match(name, hq=hq, party_type=party_type, limit=limit)
        if self.index is None:
            return []
        return self.index.screen(name, hq=hq, party_type=party_type, limit=limit)

    def kind_of(self, hit: Hit) -> str:
        """The list kind of a hit's list."""
        if self.remote is not None and hit.list_id == self.remote.list_id:
            return kind_of_entry(hit.entry)
        return self.kinds.get(hit.list_id, "")


@dataclass
class ScreeningCache:
    """The index for the newest list versions, rebuilt only when a list gets a new version."""

    engine: Engine
    ttl_s: float = 0.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    remote: YenteClient | None = None
    background: bool = False  # rebuild a newer version's index off the request path
    snapshots: ScreeningSnapshots | None = None  # one-shot commands: the index saved for the next
    _state: ScreeningState | None = None
    _building: bool = False
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invalidate(self) -> None:
        """Look up the versions on the next call."""
        self._checked = 0.0

    def get(self) -> ScreeningState:
        """Return the state for the newest list versions."""
        if self.remote is not None:
            if self._state is None:
                info = ListInfo(
                    self.remote.list_id, f"yente {self.remote.dataset}", "yente", "live", 0, 0
                )
                self._state = ScreeningState({}, (info,), {}, None, self.remote)
            return self._state
        cached = self._state
        if cached is not None and self.ttl_s and time.monotonic() - self._checked < self.ttl_s:
            return cached
        versions = newest_versions(self.engine)
        self._checked = time.monotonic()
        if cached is not None and dict(cached.versions) == versions:
            return cached
        if cached is not None and self.background:
            # Serving: keep answering from the version in hand (each answer names it) while
            # the new one is indexed, so no question waits seconds for the rebuild.
            self._rebuild_in_background(versions)
            return cached
        with self._lock:
            if self._state is None or dict(self._state.versions) != versions:
                self._state = self._load_or_build(versions)
            return self._state

    def _load_or_build(self, versions: dict[str, int]) -> ScreeningState:
        if self.snapshots is None or not versions:
            return self._build()
        stamp = screening_stamp(self.engine, versions, self.thresholds)
        loaded = self.snapshots.load(stamp, {})
        if isinstance(loaded, ScreeningState) and dict(loaded.versions) == versions:
            return loaded
        state = self._build()
        if dict(state.versions) == versions:
            self.snapshots.save(stamp, state, {})
        return state

    def _rebuild_in_background(self, versions: dict[str, int]) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True

        def rebuild() -> None:
            try:
                state = self._build()
                with self._lock:
                    self._state = state
            finally:
                with self._lock:
                    self._building = False

        threading.Thread(target=rebuild, name="screening-index", daemon=True).start()

    def _build(self) -> ScreeningState:
        loaded = load_current(self.engine)
        listed = [Listed(x.list.id, e) for x in loaded for e in x.entries]
        lists = tuple(
            ListInfo(
                x.list.id,
                x.list.name,
                x.list.kind,
                x.version.created_at.date().isoformat(),
                x.version.id or 0,
                len(x.entries),
            )
            for x in loaded
        )
        return ScreeningState(
            versions={x.list.id: x.version.id or 0 for x in loaded},
            lists=lists,
            kinds={x.list.id: x.list.kind for x in loaded},
            index=ScreeningIndex(listed, self.thresholds) if listed else None,
        )


def screening_cache(
    engine: Engine, *, ttl_s: float = 0.0, settings: Settings | None
) -> ScreeningCache:
    """The screening cache for this process: yente when CLEARANCE_SCREENING_URL is set, else the
    in-process index (also with no settings, as in tests of the embedded default)."""
    remote = None
    if settings is not None and settings.screening_url:
        remote = YenteClient(settings.screening_url, settings.screening_dataset)
    return ScreeningCache(engine, ttl_s=ttl_s, remote=remote)


def party_type(customer: Customer | None) -> str:
    """A customer's `type`: organizations unless `type: person`."""
    if customer is None:
        return "org"
    # Before `type` was a field, people were tagged `person`; stored revisions keep that tag.
    return "person" if customer.type == "person" or "person" in customer.tags else "org"


def decision_key(customer: Customer | None, name: str) -> str:
    """Whose decisions apply: a registered customer's id, else the normalized name."""
    return customer.id if customer is not None else normal_text(name)


PartyMemo = dict[tuple[tuple[str, ...], str | None, str], list[Hit]]


def _screen_party(
    state: ScreeningState,
    names: Iterable[str],
    *,
    hq: str | None,
    kind: str,
    memo: PartyMemo | None = None,
) -> list[Hit]:
    names = tuple(names)
    memo_key = (names, hq, kind)
    if memo is not None and memo_key in memo:
        return memo[memo_key]  # an owner shared by many customers is screened once per run
    best: dict[tuple[str, str], Hit] = {}
    for name in names:
        for hit in state.screen(name, hq=hq, party_type=kind):
            key = (hit.list_id, hit.entry.key)
            if key not in best or hit.score > best[key].score:
                best[key] = hit
    out = sorted(best.values(), key=lambda h: (-h.score, h.list_id, h.entry.key))
    if memo is not None:
        memo[memo_key] = out
    return out


def screen_subject(
    engine: Engine,
    state: ScreeningState,
    *,
    customer: Customer | None,
    name: str | None,
    hq: str,
    customers: Mapping[str, Customer] | None = None,
    decisions: Mapping[tuple[str, str, str], DecisionRow | ScreeningDecision] | None = None,
    memo: PartyMemo | None = None,
) -> ScreeningOutcome:
    """Screen a customer (registered or just a name) and, when registered, every owner up the chain.

    `decisions` (all of them, read once) and `memo` spare a run over many customers a database
    round trip and a repeated screening per customer.
    """
    if not state.lists or (customer is None and not name):
        return ScreeningOutcome(state.lists, unnamed=customer is None and not name)
    root = customer.id if customer is not None else decision_key(None, name or "")
    parties: list[tuple[str, str, str, Customer | None, list[str], str]] = []
    names = {root: customer.name if customer is not None else (name or "")}
    owners: dict[str, list[tuple[str, float]]] = {}
    if customer is not None:
        parties.append(
            (
                "customer",
                root,
                customer.name,
                customer,
                [customer.name, *customer.aliases],
                customer.hq,
            )
        )
        todo, seen = [(customer, 0)], {customer.id}
        while todo:
            current, depth = todo.pop()
            owners[current.id] = [(o.owner, o.share) for o in current.owners]
            if depth >= MAX_OWNER_DEPTH:
                continue
            for o in current.owners:
                if o.owner in seen:
                    continue
                seen.add(o.owner)
                owner = customers.get(o.owner) if customers is not None else None
                if owner is not None:
                    names[o.owner] = owner.name
                    parties.append(
                        (
                            "owner",
                            o.owner,
                            owner.name,
                            owner,
                            [owner.name, *owner.aliases],
                            owner.hq,
                        )
                    )
                    todo.append((owner, depth + 1))
                else:
                    names[o.owner] = o.owner
                    parties.append(("owner", o.owner, o.owner, None, [o.owner], hq))
    else:
        parties.append(("customer", root, name or "", None, [name or ""], hq))
    found = [
        (role, party, party_name, hit)
        for role, party, party_name, cust, party_names, party_hq in parties
        for hit in _screen_party(state, party_names, hq=party_hq, kind=party_type(cust), memo=memo)
    ]
    if decisions is None:  # only hits have decisions: a clear answer needs no query
        decisions = decisions_of(engine, [f[1] for f in found]) if found else {}
    hits: list[PartyHit] = []
    for role, party, party_name, hit in found:
        decided = decisions.get((party, hit.list_id, hit.entry.key))
        valid = decided is not None and decided.fingerprint == hit.entry.fingerprint
        hits.append(
            PartyHit(
                role,
                party,
                party_name,
                state.kind_of(hit),
                hit,
                decided.decision if valid and decided else None,
                decided.actor if valid and decided else None,
                decided.reason if valid and decided else None,
            )
        )
    return ScreeningOutcome(state.lists, tuple(hits), root, owners, names)


def answer_screened(
    question: Question,
    kb: Knowledge,
    engine: Engine,
    state: ScreeningState,
    *,
    today: date,
    decision_id: str,
) -> Answer:
    """Screen whom the question asks about, then decide it with the hits as facts for the rules."""
    customer, name, hq = party_of(question, kb)
    outcome = screen_subject(
        engine, state, customer=customer, name=name, hq=hq, customers=kb.table.customers
    )
    answer = decide(
        question,
        kb,
        today=today,
        decision_id=decision_id,
        listing=list_facts(outcome, name),
    )
    count_screening_hits(
        (h.hit.list_id, "confirmed" if h.decision == "confirm" else h.hit.strength)
        for h in outcome.hits
        if h.decision != "dismiss"
    )
    effect = apply_screening(
        outcome,
        kb.table.rules.values(),
        verdict=answer.verdict,
        access=answer.access,
        as_of=answer.as_of,
        customer_name=name,
    )
    answer.verdict = effect.verdict
    answer.conditions = answer.conditions + effect.conditions
    answer.warnings = answer.warnings + effect.warnings
    answer.screening = effect.section
    return answer


def screen_json(state: ScreeningState, query: str, *, hq: str | None, kind: str) -> dict[str, Any]:
    """`clearance screen --json` for one name."""
    hits = state.screen(query, hq=hq, party_type=kind)
    return {
        "query": query,
        "normalized": normal_text(query),
        "lists": [x.to_json() for x in state.lists],
        "matches": [match_json(h, state.kind_of(h)) for h in hits],
    }


def import_list(
    engine: Engine,
    *,
    kind: str,
    body: bytes,
    list_id: str | None = None,
    alt: bytes | None = None,
    add: bytes | None = None,
    now: datetime,
    origin: str = "import",
    source_id: int | None = None,
    name: str | None = None,
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
) -> StoredVersion:
    """Parse and store a list file with the same guards as a poll; raise `BotError` when refused."""
    try:
        parsed: ParsedList = parse_list(kind, body, alt=alt, add=add)
    except ListFormatError as exc:
        raise BotError(f"Can't import the {kind} file: {exc}") from exc
    lid = list_id or kind
    return store_version(
        engine,
        lid,
        parsed,
        name=name or kind_named(kind).label,
        now=now,
        origin=origin,
        source_id=source_id,
        max_removed_share=max_removed_share,
    )


__all__ = [
    "ListGuardError",
    "ScreeningCache",
    "ScreeningState",
    "answer_screened",
    "import_list",
    "screen_json",
    "screen_subject",
]
