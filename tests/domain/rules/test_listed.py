"""`listed` rules: list membership of the customer or of owners holding 50% or more, as facts."""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.asking.knowledge import Knowledge
from bot.domain.rules.listed import LIST_CODES, ListedHit, ListFacts
from bot.domain.rules.subject import Subject
from bot.domain.rules.verdicts import VERDICT_RANK
from bot.domain.screening.verdicts import KIND_CODES
from tests.support.factories import knowledge as build

TABLE = """
customers:
  - {id: solo, name: Solo GmbH, hq: DE}
  - {id: sub, name: Sub Ltd, hq: SG, owners: [{owner: a, share: 30}, {owner: b, share: 20}]}
  - {id: a, name: A Holdings, hq: CN}
  - {id: b, name: B Holdings, hq: CN}
rules:
  - {id: acme-allow, effect: allow, title: Acme, models: {vendors: [acme]}}
  - {id: sdn, effect: deny, title: SDN, listed: {lists: [SDN]}, citation: c, url: "https://x"}
  - {id: sdn-owned, effect: deny, title: SDN owned, listed: {lists: [SDN], party: owners},
     citation: c, url: "https://x"}
  - {id: el-weights, effect: license_required, title: EL weights, listed: {lists: [EL]},
     access: [weights]}
  - {id: el-api, effect: review, title: EL api, listed: {lists: [EL]}, access: [api, hosted]}
  - {id: iran, effect: deny, title: Iran programme, listed: {lists: [SSI, SDN], programs: [IRAN],
     party: either}, effective_to: 2026-06-30, citation: c, url: "https://x"}
"""
ON = date(2026, 1, 1)


@cache
def knowledge(_: str) -> Knowledge:
    """The table's knowledge, built once: nothing here changes it."""
    return build(TABLE)


def _hit(code: str, *programs: str) -> ListedHit:
    return ListedHit(code, programs, f"matches {code} entry", f"{code} entry")


def _facts(customer: str, **hits: tuple[ListedHit, ...]) -> ListFacts:
    kb = knowledge(TABLE)
    owners = {c.id: [(o.owner, o.share) for o in c.owners] for c in kb.table.customers.values()}
    return ListFacts(customer, hits, owners)


CASES = [
    # (customer, hits by party, access, as of, verdict, deciding rules)
    ("solo", {}, "api", ON, "allowed", ["acme-allow"]),
    ("solo", {"solo": (_hit("SDN", "SDGT"),)}, "api", ON, "denied", ["sdn"]),
    ("solo", {"solo": (_hit("EL"),)}, "weights", ON, "license_required", ["el-weights"]),
    ("solo", {"solo": (_hit("EL"),)}, "api", ON, "review", ["el-api"]),
    ("solo", {"solo": (_hit("FSE"),)}, "api", ON, "allowed", ["acme-allow"]),  # no rule names it
    # Programs narrow a list; `either` reads the customer and its owners.
    ("solo", {"solo": (_hit("SSI", "IRAN"),)}, "api", ON, "denied", ["iran"]),
    ("solo", {"solo": (_hit("SSI", "UKRAINE"),)}, "api", ON, "allowed", ["acme-allow"]),
    ("solo", {"solo": (_hit("SSI", "IRAN"),)}, "api", date(2026, 7, 1), "allowed", ["acme-allow"]),
    # Owners: 50% or more in aggregate; exactly 50% counts, less does not.
    ("sub", {"a": (_hit("SDN"),), "b": (_hit("SDN"),)}, "api", ON, "denied", ["sdn-owned"]),
    ("sub", {"a": (_hit("SDN"),)}, "api", ON, "allowed", ["acme-allow"]),
    (
        "sub",
        {"a": (_hit("SDN", "IRAN"),), "b": (_hit("SSI", "IRAN"),)},
        "api",
        ON,
        "denied",
        ["iran"],
    ),
    # An owner's hit is not the customer's own: the customer-only rule stays away.
    ("sub", {"a": (_hit("EL"),), "b": (_hit("EL"),)}, "weights", ON, "allowed", ["acme-allow"]),
]


@pytest.mark.parametrize(("customer", "hits", "access", "on", "verdict", "rules"), CASES)
def test_listed_conditions(
    customer: str,
    hits: dict[str, tuple[ListedHit, ...]],
    access: str,
    on: date,
    verdict: str,
    rules: list[str],
) -> None:
    kb = knowledge(TABLE)
    c = kb.table.customers[customer]
    subject = Subject(c, c.hq, c.hq, "acme-open", access, c.name, _facts(customer, **hits))
    ev = kb.engine.evaluate(subject, on)
    assert (ev.verdict, [m.rule.id for m in ev.deciding]) == (verdict, rules)


def test_unscreened_no_listed_rule_holds() -> None:
    kb = knowledge(TABLE)
    c = kb.table.customers["solo"]
    ev = kb.engine.evaluate(Subject(c, c.hq, c.hq, "acme-open", "api", c.name, None), ON)
    assert ev.verdict == "allowed"


def test_matches_explain_the_hit_and_the_ownership_chain() -> None:
    kb = knowledge(TABLE)
    c = kb.table.customers["sub"]
    facts = _facts("sub", a=(_hit("SDN"),), b=(_hit("SDN"),))
    ev = kb.engine.evaluate(Subject(c, c.hq, c.hq, "acme-open", "api", c.name, facts), ON)
    (match,) = ev.deciding
    assert match.detail == (
        "50% owned by listed parties: a (SDN entry) owns 30% of sub; b (SDN entry) owns 20% of sub"
    )
    cited = kb.reason(match)
    assert (cited["rule"], cited["citation"], cited["url"]) == ("sdn-owned", "c", "https://x")


def test_every_list_kind_has_a_code_rules_may_name() -> None:
    assert set(KIND_CODES.values()) <= set(LIST_CODES)


@given(
    codes=st.lists(st.sampled_from(["SDN", "EL", "SSI", "FSE"]), max_size=3),
    extra=st.sampled_from(["SDN", "EL", "SSI", "FSE"]),
    access=st.sampled_from(["api", "weights", "hosted"]),
)
def test_another_hit_never_loosens_an_answer(codes: list[str], extra: str, access: str) -> None:
    kb = knowledge(TABLE)
    c = kb.table.customers["solo"]

    def verdict(found: list[str]) -> str:
        facts = _facts("solo", solo=tuple(_hit(x, "IRAN") for x in found))
        subject = Subject(c, c.hq, c.hq, "acme-open", access, c.name, facts)
        return kb.engine.evaluate(subject, ON).verdict

    assert VERDICT_RANK[verdict([*codes, extra])] >= VERDICT_RANK[verdict(codes)]
