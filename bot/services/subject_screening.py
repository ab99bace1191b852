"""Screening a subject: a customer (registered or just a name) and every owner up its chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from sqlalchemy.engine import Engine

from bot.domain.rules.entities import Customer
from bot.domain.screening.hits import Hit
from bot.domain.screening.normalize import normal_text
from bot.domain.screening.verdicts import PartyHit, ScreeningOutcome
from bot.services.screening_cache import ScreeningState
from storage.screening_decisions import DecisionRow, decisions_of
from storage.tables.screening import ScreeningDecision

MAX_OWNER_DEPTH = 20  # ownership chains deeper than this are cut (and cycles never loop)


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


class _Party(NamedTuple):
    """One party screened for a subject: the customer itself or an owner up its chain."""

    role: str
    party: str
    name: str
    customer: Customer | None
    names: list[str]
    hq: str


Owners = dict[str, list[tuple[str, float]]]


def _ownership_chain(
    customer: Customer, customers: Mapping[str, Customer] | None, hq: str
) -> tuple[list[_Party], dict[str, str], Owners]:
    """A registered customer and every owner up its chain, each once, with who owns whom."""
    parties = [
        _Party(
            "customer",
            customer.id,
            customer.name,
            customer,
            [customer.name, *customer.aliases],
            customer.hq,
        )
    ]
    names = {customer.id: customer.name}
    owners: Owners = {}
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
                    _Party(
                        "owner", o.owner, owner.name, owner, [owner.name, *owner.aliases], owner.hq
                    )
                )
                todo.append((owner, depth + 1))
            else:
                names[o.owner] = o.owner
                parties.append(_Party("owner", o.owner, o.owner, None, [o.owner], hq))
    return parties, names, owners


def _party_hits(
    state: ScreeningState,
    found: list[tuple[_Party, Hit]],
    decisions: Mapping[tuple[str, str, str], DecisionRow | ScreeningDecision],
) -> tuple[PartyHit, ...]:
    """Each hit with the decision taken on it, while that decision's entry is unchanged."""
    hits: list[PartyHit] = []
    for party, hit in found:
        decided = decisions.get((party.party, hit.list_id, hit.entry.key))
        valid = decided is not None and decided.fingerprint == hit.entry.fingerprint
        hits.append(
            PartyHit(
                party.role,
                party.party,
                party.name,
                state.kind_of(hit),
                hit,
                decided.decision if valid and decided else None,
                decided.actor if valid and decided else None,
                decided.reason if valid and decided else None,
            )
        )
    return tuple(hits)


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
    if customer is not None:
        parties, names, owners = _ownership_chain(customer, customers, hq)
    else:
        root = decision_key(None, name or "")
        parties = [_Party("customer", root, name or "", None, [name or ""], hq)]
        names, owners = {root: name or ""}, {}
    found = [
        (party, hit)
        for party in parties
        for hit in _screen_party(
            state, party.names, hq=party.hq, kind=party_type(party.customer), memo=memo
        )
    ]
    if decisions is None:  # only hits have decisions: a clear answer needs no query
        decisions = decisions_of(engine, [p.party for p, _hit in found]) if found else {}
    hits = _party_hits(state, found, decisions)
    return ScreeningOutcome(state.lists, hits, parties[0].party, owners, names)
