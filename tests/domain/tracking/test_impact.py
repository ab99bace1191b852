"""Impact (issue #4): which recorded customer usages get a different verdict, and when."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.asking.knowledge import Knowledge
from bot.domain.rules.listed import ListedHit, ListFacts
from bot.domain.tracking.impact import Flip, flips_between, flips_on, rules_changing_on
from tests.support.factories import knowledge

MODELS = """
models:
  - {id: claude-sonnet-4-5, name: Claude Sonnet 4.5, vendor: anthropic, family: claude}
  - {id: acme-1, name: Acme 1, vendor: acme, family: acme}
"""
CUSTOMERS = """
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - id: nimbus
    name: Nimbus Pte Ltd
    hq: SG
    owners: [{owner: dragon, share: 50}]
    uses:
      - {model: claude-sonnet-4-5, country: SG}
      - {model: acme-1, country: SG}
      - {model: claude-sonnet-4-5, country: MY, access: weights}
  - id: solo
    name: Solo GmbH
    hq: DE
    uses: [{model: claude-sonnet-4-5, country: DE}, {model: claude-sonnet-4-5, country: FR}]
"""
ALLOW = """
  - {id: allow-all, effect: allow, title: Allowed everywhere}
"""
# The BIS Affiliates rule: in force 2025-09-29, suspended from 2025-11-10 for a year, so it applies
# again from 2026-11-10 (reimposition modelled as a second rule).
AFFILIATES = """
  - id: affiliates
    effect: deny
    title: BIS Affiliates rule (50% owned from China)
    models: {vendors: [anthropic]}
    customer: {controlled_from: {in: [CN], at_least: 50}}
    effective_from: 2025-09-29
    effective_to: 2025-11-09
  - id: affiliates-reimposed
    effect: deny
    title: BIS Affiliates rule, suspension ended
    models: {vendors: [anthropic]}
    customer: {controlled_from: {in: [CN], at_least: 50}}
    effective_from: 2026-11-10
  - id: france-review
    effect: review
    title: France review period
    places: {in: [FR]}
    effective_from: 2026-01-01
    effective_to: 2026-06-30
"""


def kb(rules: str) -> Knowledge:
    return knowledge(MODELS + CUSTOMERS + "rules:" + rules)


@pytest.fixture(scope="module")
def dated() -> Knowledge:
    return kb(ALLOW + AFFILIATES)


def _short(flips: list[Flip]) -> list[tuple[str, str, str, str, str, str]]:
    return [(f.customer_id, f.model, f.country, f.access, f.before, f.after) for f in flips]


def test_new_revision_with_a_deny_rule_flips_the_usages_it_covers() -> None:
    old = kb(ALLOW)
    new = kb(
        ALLOW
        + """
  - {id: sg-deny, effect: deny, title: No Anthropic models in Singapore,
     models: {vendors: [anthropic]}, places: {in: [SG]}}
"""
    )
    flips = flips_between(old, new, on=date(2026, 5, 1))
    assert _short(flips) == [("nimbus", "claude-sonnet-4-5", "SG", "api", "allowed", "denied")]
    assert flips[0].rules == ("sg-deny",)
    assert flips[0].on == date(2026, 5, 1)
    assert flips_between(new, old, on=date(2026, 5, 1))[0].after == "allowed", "and back"
    assert flips_between(old, old, on=date(2026, 5, 1)) == []


def test_usage_only_in_one_revision_is_not_a_flip() -> None:
    old = kb(ALLOW)
    new = knowledge(
        MODELS
        + CUSTOMERS.replace("country: FR", "country: IT")
        + "rules:"
        + ALLOW
        + "  - {id: it, effect: deny, title: t, places: {in: [IT]}}"
    )
    assert flips_between(old, new, on=date(2026, 5, 1)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # the suspension ends: Nimbus (50% owned from China) loses Anthropic models (its use of
        # Claude's weights in MY never flips: a closed model's weights are always denied)
        (
            date(2026, 11, 10),
            [
                ("nimbus", "claude-sonnet-4-5", "SG", "api", "allowed", "denied"),
            ],
        ),
        (date(2026, 11, 9), []),
        (date(2026, 11, 11), []),
        # the original rule comes into force, then is suspended (lapses after 2025-11-09)
        (
            date(2025, 9, 29),
            [
                ("nimbus", "claude-sonnet-4-5", "SG", "api", "allowed", "denied"),
            ],
        ),
        (
            date(2025, 11, 10),
            [
                ("nimbus", "claude-sonnet-4-5", "SG", "api", "denied", "allowed"),
            ],
        ),
        # a review period in France starts and lapses
        (date(2026, 1, 1), [("solo", "claude-sonnet-4-5", "FR", "api", "allowed", "review")]),
        (date(2026, 7, 1), [("solo", "claude-sonnet-4-5", "FR", "api", "review", "allowed")]),
        (date(2026, 6, 30), []),
    ],
)
def test_flips_on_a_day(
    dated: Knowledge, day: date, expected: list[tuple[str, str, str, str, str, str]]
) -> None:
    flips = flips_on(dated, day)
    assert _short(flips) == expected
    assert all(f.on == day for f in flips)


@pytest.mark.parametrize(
    ("day", "rules"),
    [
        (date(2026, 11, 10), ["affiliates-reimposed"]),
        (date(2025, 9, 29), ["affiliates"]),
        (date(2025, 11, 10), ["affiliates"]),  # lapsed: last day in force was 2025-11-09
        (date(2025, 11, 9), []),
        (date(2026, 1, 1), ["france-review"]),
        (date(2026, 7, 1), ["france-review"]),
        (date(2026, 6, 30), []),
    ],
)
def test_rules_changing_on(dated: Knowledge, day: date, rules: list[str]) -> None:
    assert rules_changing_on(dated, day) == rules


def test_flip_describe_and_json(dated: Knowledge) -> None:
    flip = flips_on(dated, date(2026, 11, 10))[0]
    assert (
        flip.describe()
        == "Nimbus Pte Ltd: claude-sonnet-4-5 in SG goes from allowed to denied on 2026-11-10"
    )
    assert flip.rules == ("affiliates-reimposed",)
    assert flip.to_dict() == {
        "customer_id": "nimbus",
        "customer": "Nimbus Pte Ltd",
        "model": "claude-sonnet-4-5",
        "country": "SG",
        "access": "api",
        "before": "allowed",
        "after": "denied",
        "on": "2026-11-10",
        "rules": ["affiliates-reimposed"],
    }
    assert (
        Flip(
            "c", "C Ltd", "m", "BR", "api", "license_required", "allowed", date(2026, 1, 2), ()
        ).describe()
        == "C Ltd: m in BR goes from license required to allowed on 2026-01-02"
    )
    assert (
        Flip("c", "C Ltd", "m", "BR", "api", "allowed", "license_required", date(2026, 1, 2), ())
        .describe()
        .endswith("to license required on 2026-01-02")
    )


SDN_DENY = """
  - {id: sdn-deny, effect: deny, title: SDN-listed customers, listed: {lists: [SDN]},
     citation: "31 CFR 501", url: "https://ofac.treasury.gov/"}
"""


def _listed(customer: str, party: str, code: str = "SDN") -> ListFacts:
    hit = ListedHit(code, (), f"{party} is on the {code} list", f"{code} entry '{party}' (1)")
    return ListFacts(customer, {party: (hit,)})


@pytest.mark.parametrize(
    ("listings", "expected"),
    [
        ({}, []),  # nobody has a hit: a listed rule changes no answer
        ({"solo": _listed("solo", "solo", "EL")}, []),  # a hit on a list the rule doesn't name
        (
            {"solo": _listed("solo", "solo")},
            [
                ("solo", "claude-sonnet-4-5", "DE", "api", "allowed", "denied"),
                ("solo", "claude-sonnet-4-5", "FR", "api", "allowed", "denied"),
            ],
        ),
    ],
)
def test_a_revision_adding_a_listed_rule_flips_the_customers_screening_found(
    listings: dict[str, ListFacts], expected: list[tuple[str, ...]]
) -> None:
    old, new = kb(ALLOW), kb(ALLOW + SDN_DENY)
    flips = flips_between(old, new, on=date(2026, 5, 1), listings=listings)
    assert _short(flips) == expected
    assert all(f.rules == ("sdn-deny",) for f in flips)


def test_a_listed_owner_flips_its_customer_through_the_50_percent_rule() -> None:
    owners_deny = SDN_DENY.replace("lists: [SDN]}", "lists: [SDN], party: owners}")
    old, new = kb(ALLOW), kb(ALLOW + owners_deny)
    facts = ListFacts(
        "nimbus",
        {"dragon": _listed("nimbus", "dragon").hits["dragon"]},
        {"nimbus": (("dragon", 50.0),)},
    )
    flips = flips_between(old, new, on=date(2026, 5, 1), listings={"nimbus": facts})
    assert [(f.customer_id, f.model, f.country, f.after) for f in flips] == [
        ("nimbus", "acme-1", "SG", "denied"),
        ("nimbus", "claude-sonnet-4-5", "SG", "denied"),
    ]  # its weights usage was not allowed before either
