"""Test oracles: the engine's contract read literally, one rule at a time (no index).

The property tests compare the engine's indexed decisions with these.
"""

from __future__ import annotations

from bot.domain.rules.compiled_rules import CompiledRule
from bot.domain.rules.evaluator import Engine
from bot.domain.rules.subject import Subject
from bot.domain.rules.verdicts import VERDICT_RANK

__all__ = ["VERDICT_RANK", "candidates", "rule_holds"]


def candidates(engine: Engine, model: str, country: str) -> list[CompiledRule]:
    """Return the rules whose model and place conditions hold (any date, access, customer)."""
    index = engine.index_of(model)
    if index is None:
        return []
    mask = index.places.holding(country, engine.catalog.parent_of(country))
    return [index.rules[k] for k in index.indices(mask)] if mask else []


def _explain(engine: Engine, cr: CompiledRule, s: Subject, hq_parent: str | None) -> str | None:
    assert cr.control is not None
    return engine.ownership.explain(cr.control, s, hq_parent)


def rule_holds(
    engine: Engine, cr: CompiledRule, s: Subject, parent: str | None, hq_parent: str | None
) -> tuple[bool, str | None, str | None]:
    """Return (holds, unknown condition, detail); unknown means undecidable, not false."""
    if cr.access is not None and s.access not in cr.access:
        return False, None, None
    if cr.places is not None and not cr.places.contains(s.country, parent):
        return False, None, None
    if s.hq is None and s.customer is None and (cr.hq is not None or cr.control is not None):
        return True, engine.pending_conditions.unknown_condition(cr, s, hq_parent), None
    if cr.hq is not None and s.hq is not None and not cr.hq.contains(s.hq, hq_parent):
        return False, None, None
    if cr.tags is None and cr.control is None:
        return True, None, None
    if s.customer is None:
        unknown = engine.pending_conditions.unknown_condition(cr, s, hq_parent)
        if unknown is not None:
            return True, unknown, None
        return True, None, _explain(engine, cr, s, hq_parent)  # ownership settled by the HQ
    if cr.tags is not None and not cr.tags.intersection(s.customer.tags):
        return False, None, None
    ctl = cr.control
    if (
        ctl is not None
        and not ctl.places.contains(s.customer.hq, hq_parent)
        and not engine.ownership.controlled(s.customer.id, ctl)
    ):
        return False, None, None
    return True, None, _explain(engine, cr, s, hq_parent) if ctl is not None else None
