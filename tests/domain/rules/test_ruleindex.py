"""The bit-set index's in-force masks, against the rules' own date test."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.names.places import build_place_catalog
from bot.domain.rules.entities import ModelInfo
from bot.domain.rules.evaluator import Engine
from bot.domain.rules.table import Rule, RuleTable

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 3, 31))
ENDS = st.one_of(st.none(), DAYS, st.just(date.max))


@st.composite
def dated_rules(draw: st.DrawFn) -> list[Rule]:
    """Rules with any start and end, a start after the end included (never in force)."""
    n = draw(st.integers(1, 12))
    return [
        Rule(
            f"r{i}",
            draw(st.sampled_from(["allow", "deny"])),
            "t",
            effective_from=draw(st.one_of(st.none(), DAYS)),
            effective_to=draw(ENDS),
        )
        for i in range(n)
    ]


@settings(max_examples=300, deadline=None)
@given(dated_rules(), st.lists(DAYS, min_size=1, max_size=20))
def test_in_force_masks_hold_exactly_the_rules_in_force(
    rules: list[Rule], asked: list[date]
) -> None:
    # An open-weight model: a closed one would also carry the catalog's closed-weights rule.
    model = ModelInfo("m", "M", "v", "f", open_weights=True)
    table = RuleTable(models={"m": model}, rules={r.id: r for r in rules})
    index = Engine(table, build_place_catalog(set())).index_of("m")
    assert index is not None
    # Each rule's first and last day and the days around them, in any order: one index must
    # answer for every interval, whichever it was asked about first.
    days = asked + [
        d + timedelta(days=k)
        for r in rules
        for d in (r.effective_from, r.effective_to)
        if d is not None and date.min < d < date.max
        for k in (-1, 0, 1)
    ]
    for day in days:
        mask = index.in_force(day)
        held = {index.rules[k].rule.id for k in index.indices(mask)} if mask else set()
        assert held == {r.id for r in rules if r.in_force(day)}, day
