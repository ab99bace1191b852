"""Answering with screening: the hits as facts for the rules, and `clearance screen --json`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from bot.domain.asking.answers import Answer
from bot.domain.asking.deciding import answer as decide
from bot.domain.asking.knowledge import Knowledge
from bot.domain.asking.parties import resolve_party, screening_party
from bot.domain.asking.questions import Question
from bot.domain.screening.effects import apply_screening, list_facts
from bot.domain.screening.normalize import normal_text
from bot.domain.screening.verdicts import match_json
from bot.services.metrics import count_screening_hits
from bot.services.screening_cache import ScreeningState
from bot.services.subject_screening import screen_subject


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
    who = resolve_party(question, kb)
    customer, name, hq = screening_party(who)
    outcome = screen_subject(
        engine, state, customer=customer, name=name, hq=hq, customers=kb.table.customers
    )
    answer = decide(
        question,
        kb,
        today=today,
        decision_id=decision_id,
        listing=list_facts(outcome, name),
        who=who,
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
