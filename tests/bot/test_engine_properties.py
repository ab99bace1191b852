"""Invariants of the verdict, over generated rule tables (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.engine import VERDICT_RANK, Engine, Subject
from bot.places import build_place_catalog
from bot.ruletable import (
    ControlSpec,
    Customer,
    CustomerSpec,
    ModelInfo,
    ModelSelector,
    Owner,
    PlaceSpec,
    Rule,
    RuleTable,
)

CATALOG = build_place_catalog()
PLACES = ["DE", "FR", "CN", "UA", "UA-43", "BR", "SG"]
MODELS = {
    "m-closed": ModelInfo("m-closed", "Closed", "acme", "acme", open_weights=False),
    "m-open": ModelInfo("m-open", "Open", "acme", "acme-open", open_weights=True),
    "z-1": ModelInfo("z-1", "Zeta", "zeta", "zeta", tags=("frontier",)),
}
CUSTOMERS = {
    "cn": Customer("cn", "CN Co", "CN"),
    "de": Customer("de", "DE Co", "DE", tags=("government",)),
    "sg": Customer("sg", "SG Co", "SG", owners=(Owner("cn", 50), Owner("de", 10))),
    "br": Customer("br", "BR Co", "BR", owners=(Owner("sg", 70),)),
}
DATES = [None, date(2025, 1, 1), date(2025, 6, 30), date(2026, 1, 1)]

places_list = st.lists(st.sampled_from(PLACES), min_size=1, max_size=3, unique=True)
selectors = st.one_of(
    st.none(),
    st.builds(ModelSelector, ids=st.lists(st.sampled_from(list(MODELS)), max_size=2).map(tuple)),
    st.builds(ModelSelector, vendors=st.sampled_from([("acme",), ("zeta",)])),
    st.builds(ModelSelector, open_weights=st.booleans()),
)
place_specs = st.one_of(
    st.none(),
    st.builds(PlaceSpec, in_=places_list.map(tuple)),
    st.builds(PlaceSpec, in_=st.none(), not_in=places_list.map(tuple)),
)
customer_specs = st.one_of(
    st.none(),
    st.builds(CustomerSpec, hq_in=places_list.map(tuple)),
    st.builds(CustomerSpec, tags=st.just(("government",))),
    st.builds(CustomerSpec, controlled_from=st.builds(
        ControlSpec, places=st.builds(PlaceSpec, in_=st.none(), not_in=places_list.map(tuple)),
        threshold=st.sampled_from([25.0, 50.0, 60.0]), inclusive=st.booleans())),
)


@st.composite
def rules(draw: st.DrawFn, effects: tuple[str, ...] = ("allow", "review", "license_required",
                                                         "deny")) -> Rule:
    start, end = sorted(draw(st.lists(st.sampled_from(DATES[1:]), min_size=2, max_size=2)))
    dated = draw(st.booleans())
    return Rule(
        id=f"r{draw(st.integers(0, 10**9))}", effect=draw(st.sampled_from(effects)),  # type: ignore[arg-type]
        title="generated", models=draw(selectors), places=draw(place_specs),
        customer=draw(customer_specs),
        access=draw(st.one_of(st.none(), st.just(("weights",)))),
        effective_from=start if dated else None, effective_to=end if dated else None,
    )


def _unique(rs: list[Rule]) -> list[Rule]:
    return list({r.id: r for r in rs}.values())


subjects = st.builds(
    Subject,
    customer=st.one_of(st.none(), st.sampled_from(list(CUSTOMERS.values()))),
    hq=st.sampled_from(PLACES),
    country=st.sampled_from(PLACES),
    model=st.sampled_from(list(MODELS)),
    access=st.sampled_from(["api", "weights"]),
)
as_ofs = st.sampled_from([date(2024, 12, 31), date(2025, 1, 1), date(2025, 6, 30),
                          date(2026, 11, 26)])


def _engine(rs: list[Rule]) -> Engine:
    table = RuleTable(models=dict(MODELS), customers=dict(CUSTOMERS),
                      rules={r.id: r for r in rs})
    return Engine(table, CATALOG)


def _fix(subject: Subject) -> Subject:
    """A registered customer's HQ is its own, as the answer layer guarantees."""
    if subject.customer is not None:
        return Subject(subject.customer, subject.customer.hq, subject.country, subject.model,
                       subject.access)
    return subject


@settings(max_examples=300, deadline=None)
@given(st.lists(rules(), max_size=8).map(_unique), rules(effects=("deny",)), subjects, as_ofs)
def test_adding_a_deny_rule_never_makes_a_verdict_less_strict(
        rs: list[Rule], deny: Rule, subject: Subject, as_of: date) -> None:
    subject = _fix(subject)
    deny = replace(deny, id="added-deny")  # a new rule, never a replacement of one in `rs`
    before = _engine(rs).evaluate(subject, as_of).verdict
    after = _engine([*rs, deny]).evaluate(subject, as_of).verdict
    assert VERDICT_RANK[after] >= VERDICT_RANK[before]


@settings(max_examples=300, deadline=None)
@given(st.lists(rules(), max_size=10).map(_unique), subjects, as_ofs, st.randoms())
# A rule naming a country and one of its subdivisions, asked about for the subdivision: it
# must be listed once (hypothesis rarely draws this combination by itself).
@example(rs=[Rule("both", "deny", "t", places=PlaceSpec(in_=("UA", "UA-43")))],
         subject=Subject(None, "UA-43", "UA-43", "m-closed"), as_of=date(2026, 11, 26),
         rnd=random.Random(0))
def test_rule_order_never_changes_a_verdict(rs: list[Rule], subject: Subject, as_of: date,
                                            rnd: random.Random) -> None:
    subject = _fix(subject)
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    a = _engine(rs).evaluate(subject, as_of)
    b = _engine(shuffled).evaluate(subject, as_of)
    ids = [m.rule.id for m in a.deciding + a.overridden]
    assert len(ids) == len(set(ids)), "each matching rule is listed once"
    assert (a.verdict, [m.rule.id for m in a.deciding]) == \
        (b.verdict, [m.rule.id for m in b.deciding])


@settings(max_examples=300, deadline=None)
@given(st.lists(rules(effects=("review", "license_required", "deny")), max_size=10).map(_unique),
       subjects, as_ofs)
def test_without_allow_rules_nothing_is_allowed_or_conditional(
        rs: list[Rule], subject: Subject, as_of: date) -> None:
    verdict = _engine(rs).evaluate(_fix(subject), as_of).verdict
    assert verdict not in ("allowed", "conditional")


@settings(max_examples=200, deadline=None)
@given(st.lists(rules(), max_size=10).map(_unique), subjects, as_ofs)
def test_index_gives_the_same_verdict_as_testing_every_rule(
        rs: list[Rule], subject: Subject, as_of: date) -> None:
    """The model/place index is an optimisation: it must never drop a rule that matches."""
    subject = _fix(subject)
    engine = _engine(rs)
    indexed = {cr.rule.id for cr in engine.candidates(subject.model, subject.country)}
    for rule in rs:
        single = _engine([rule]).evaluate(subject, as_of)
        if single.deciding or single.pending:
            assert rule.id in indexed
