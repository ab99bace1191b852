"""Invariants of the verdict, over generated rule tables (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.names.places import build_place_catalog
from bot.domain.rules.catalog_rules import catalog_rules
from bot.domain.rules.compiled_rules import compile_rule
from bot.domain.rules.conditions import ControlSpec, CustomerSpec, ModelSelector, PlaceSpec
from bot.domain.rules.entities import Customer, ModelInfo, Owner
from bot.domain.rules.evaluator import Engine
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import License, Rule, RuleTable
from bot.domain.rules.verdicts import Evaluation, Match, Pending, decide_verdict
from tests.domain.rules.oracles import VERDICT_RANK, candidates, rule_holds

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
    st.builds(
        CustomerSpec,
        controlled_from=st.builds(
            ControlSpec,
            places=st.builds(PlaceSpec, in_=st.none(), not_in=places_list.map(tuple)),
            threshold=st.sampled_from([25.0, 50.0, 60.0]),
            inclusive=st.booleans(),
        ),
    ),
)


@st.composite
def rules(
    draw: st.DrawFn, effects: tuple[str, ...] = ("allow", "review", "license_required", "deny")
) -> Rule:
    start, end = sorted(draw(st.lists(st.sampled_from(DATES[1:]), min_size=2, max_size=2)))
    dated = draw(st.booleans())
    return Rule(
        id=f"r{draw(st.integers(0, 10**9))}",
        effect=draw(st.sampled_from(effects)),  # type: ignore[arg-type]
        title="generated",
        models=draw(selectors),
        places=draw(place_specs),
        customer=draw(customer_specs),
        access=draw(st.one_of(st.none(), st.just(("weights",)))),
        effective_from=start if dated else None,
        effective_to=end if dated else None,
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
as_ofs = st.sampled_from(
    [date(2024, 12, 31), date(2025, 1, 1), date(2025, 6, 30), date(2026, 11, 26)]
)


def _engine(rs: list[Rule]) -> Engine:
    table = RuleTable(models=dict(MODELS), customers=dict(CUSTOMERS), rules={r.id: r for r in rs})
    return Engine(table, CATALOG)


def _fix(subject: Subject) -> Subject:
    """A registered customer's HQ is its own, as the answer layer guarantees."""
    if subject.customer is not None:
        return Subject(
            subject.customer, subject.customer.hq, subject.country, subject.model, subject.access
        )
    return subject


@settings(max_examples=300, deadline=None)
@given(st.lists(rules(), max_size=8).map(_unique), rules(effects=("deny",)), subjects, as_ofs)
def test_adding_a_deny_rule_never_makes_a_verdict_less_strict(
    rs: list[Rule], deny: Rule, subject: Subject, as_of: date
) -> None:
    subject = _fix(subject)
    deny = replace(deny, id="added-deny")  # a new rule, never a replacement of one in `rs`
    before = _engine(rs).evaluate(subject, as_of).verdict
    after = _engine([*rs, deny]).evaluate(subject, as_of).verdict
    assert VERDICT_RANK[after] >= VERDICT_RANK[before]


@settings(max_examples=300, deadline=None)
@given(st.lists(rules(), max_size=10).map(_unique), subjects, as_ofs, st.randoms())
# A rule naming a country and one of its subdivisions, asked about for the subdivision: it
# must be listed once (hypothesis rarely draws this combination by itself).
@example(
    rs=[Rule("both", "deny", "t", places=PlaceSpec(in_=("UA", "UA-43")))],
    subject=Subject(None, "UA-43", "UA-43", "m-closed"),
    as_of=date(2026, 11, 26),
    rnd=random.Random(0),
)
def test_rule_order_never_changes_a_verdict(
    rs: list[Rule], subject: Subject, as_of: date, rnd: random.Random
) -> None:
    subject = _fix(subject)
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    a = _engine(rs).evaluate(subject, as_of)
    b = _engine(shuffled).evaluate(subject, as_of)
    ids = [m.rule.id for m in a.deciding + a.overridden]
    assert len(ids) == len(set(ids)), "each matching rule is listed once"
    assert (a.verdict, [m.rule.id for m in a.deciding]) == (
        b.verdict,
        [m.rule.id for m in b.deciding],
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(rules(effects=("review", "license_required", "deny")), max_size=10).map(_unique),
    subjects,
    as_ofs,
)
def test_without_allow_rules_nothing_is_allowed_or_conditional(
    rs: list[Rule], subject: Subject, as_of: date
) -> None:
    verdict = _engine(rs).evaluate(_fix(subject), as_of).verdict
    assert verdict not in ("allowed", "conditional")


@settings(max_examples=200, deadline=None)
@given(st.lists(rules(), max_size=10).map(_unique), subjects, as_ofs)
def test_index_gives_the_same_verdict_as_testing_every_rule(
    rs: list[Rule], subject: Subject, as_of: date
) -> None:
    """The model/place index is an optimisation: it must never drop a rule that matches."""
    subject = _fix(subject)
    engine = _engine(rs)
    indexed = {cr.rule.id for cr in candidates(engine, subject.model, subject.country)}
    for rule in rs:
        single = _engine([rule]).evaluate(subject, as_of)
        # The catalog's closed-weights rule may decide too; this rule must be among the matches.
        found = [*single.deciding, *single.overridden, *single.pending]
        if any(m.rule.id == rule.id for m in found):
            assert rule.id in indexed


def _one_by_one(engine: Engine, subject: Subject, as_of: date) -> Evaluation:
    """The contract read literally: test every rule of the table in turn (no index)."""
    catalog = engine.catalog
    parent, hq_parent = catalog.parent_of(subject.country), catalog.parent_of(subject.hq)
    model = engine.table.models[subject.model]
    matches: list[Match] = []
    pending: list[Pending] = []
    # The rules the engine derives from the catalog are part of the table it decides with.
    for rule in [*engine.table.rules.values(), *catalog_rules(engine.table)]:
        if rule.models is not None and not rule.models.matches(model):
            continue
        if not rule.in_force(as_of):
            continue
        holds, unknown, detail = rule_holds(
            engine, compile_rule(rule, engine.table), subject, parent, hq_parent
        )
        if not holds:
            continue
        if unknown is not None:
            pending.append(Pending(rule, unknown))
            continue
        lic = (
            engine.licenses.license_for(rule, subject, as_of)
            if rule.effect == "license_required"
            else None
        )
        matches.append(Match(rule, "allow" if lic else rule.effect, lic, detail))
    return decide_verdict(matches, pending)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Rule], list[License]]:
    """Rules, plus licenses for some customers on some of the license_required ones."""
    rs = draw(st.lists(rules(), max_size=12).map(_unique))
    licensable = [r.id for r in rs if r.effect == "license_required"]
    licenses = []
    days = [d for d in DATES if d is not None]
    for i in range(draw(st.integers(0, 3)) if licensable else 0):
        start, end = sorted(draw(st.lists(st.sampled_from(days), min_size=2, max_size=2)))
        licenses.append(
            License(
                f"L{i}",
                draw(st.sampled_from(list(CUSTOMERS))),
                tuple(
                    draw(st.lists(st.sampled_from(licensable), min_size=1, max_size=2, unique=True))
                ),
                draw(st.one_of(st.none(), selectors.filter(lambda s: s is not None))),
                draw(st.one_of(st.none(), places_list.map(tuple))),
                start if draw(st.booleans()) else None,
                end if draw(st.booleans()) else None,
            )
        )
    return rs, licenses


# Every date where some generated rule or license starts or ends, and the day after: the engine
# caches what is in force per interval, so one engine must be asked about several dates.
ASKED_DATES = sorted(
    {date(2024, 12, 31), date(2026, 11, 26)}
    | {date.fromordinal(d.toordinal() + k) for d in DATES[1:] if d is not None for k in (-1, 0, 1)}
)


@settings(max_examples=400, deadline=None)
@given(tables(), st.lists(subjects, min_size=1, max_size=4), st.randoms())
# A license turns a license_required rule into an allow: it decides beside the allow rules, in id
# order, or is listed among the overridden allows when a stricter rule decides.
@example(
    table=(
        [Rule("z", "allow", "t"), Rule("lr", "license_required", "t")],
        [License("L0", "de", ("lr",))],
    ),
    asked=[Subject(CUSTOMERS["de"], "DE", "DE", "m-closed")],
    rnd=random.Random(0),
)
@example(
    table=(
        [Rule("z", "allow", "t"), Rule("lr", "license_required", "t"), Rule("r", "review", "t")],
        [License("L0", "de", ("lr",))],
    ),
    asked=[Subject(CUSTOMERS["de"], "DE", "DE", "m-closed")],
    rnd=random.Random(0),
)
# The last day a date can have: the day after it is no date, and the index must still build.
@example(
    table=(
        [
            Rule("forever", "deny", "t", effective_from=date(2025, 1, 1), effective_to=date.max),
            Rule("a", "allow", "t"),
        ],
        [],
    ),
    asked=[Subject(None, "DE", "DE", "m-closed")],
    rnd=random.Random(0),
)
def test_the_bitset_index_gives_what_testing_every_rule_gives(
    table: tuple[list[Rule], list[License]], asked: list[Subject], rnd: random.Random
) -> None:
    """The per-model bit masks are an optimisation of the contract, never a change to it."""
    rs, licenses = table
    engine = Engine(
        RuleTable(
            models=dict(MODELS),
            customers=dict(CUSTOMERS),
            rules={r.id: r for r in rs},
            licenses={lic.id: lic for lic in licenses},
        ),
        CATALOG,
    )
    cases = [(_fix(subject), as_of) for subject in asked for as_of in ASKED_DATES]
    rnd.shuffle(cases)
    for subject, as_of in cases:
        assert engine.evaluate(subject, as_of) == _one_by_one(engine, subject, as_of), (
            subject,
            as_of,
        )
