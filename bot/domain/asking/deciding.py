"""Deciding: a parsed question against the knowledge gives a cited, explainable answer.

`answer()` is pure: the caller passes today's date and the decision id, and writes the audit record.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from bot.domain.asking.answers import Answer, merge_conditions
from bot.domain.asking.knowledge import Knowledge
from bot.domain.asking.parties import Party, customer_json, resolve_party
from bot.domain.asking.questions import Question
from bot.domain.errors import Candidate, QuestionError
from bot.domain.rules.dated_groups import groups_read, rule_refs
from bot.domain.rules.listed import ListFacts
from bot.domain.rules.subject import Subject
from bot.domain.rules.verdicts import VERDICT_RANK, Evaluation


def _subdivision_warnings(kb: Knowledge, subject: Subject, verdict: str, as_of: date) -> list[str]:
    place = kb.places.get(subject.country)
    if place is None or place.kind != "country":
        return []
    out = []
    for sub in sorted(kb.engine.subdivisions_named.get(place.code, ())):
        other = kb.engine.evaluate(replace(subject, country=sub), as_of).verdict
        if other != verdict:
            out.append(f"Different in {kb.places.label(sub)}: {other.replace('_', ' ')}.")
    return out


def _build(
    q: Question,
    kb: Knowledge,
    who: Party,
    model: str,
    as_of: date,
    decision_id: str,
    listing: ListFacts | None = None,
) -> tuple[Answer, Evaluation]:
    subject = Subject(who.customer, who.hq, who.country, model, q.access, who.name, listing)
    ev = kb.engine.evaluate(subject, as_of)
    reasons = [kb.reason(m) for m in ev.deciding]
    warnings = list(who.warnings)
    warnings += _subdivision_warnings(kb, subject, ev.verdict, as_of)
    warnings += [
        f"Rule {m.rule.id} rests on facts not verified against a primary source."
        for m in ev.deciding
        if m.rule.unverified
    ]
    conditions = merge_conditions(ev.pending, who.name)
    answer = Answer(
        ev.verdict,
        q.text,
        customer_json(who),
        who.country,
        model,
        q.access,
        as_of,
        reasons,
        kb.revision,
        decision_id,
        [model],
        [kb.reason(m) for m in ev.overridden],
        conditions,
        list(who.assumptions),
        warnings,
        ev.reason,
    )
    return answer, ev


def _check_released(kb: Knowledge, model: str, as_of: date) -> None:
    """Raise `not_released` for a date before the model existed."""
    info = kb.table.models.get(model)
    if info is not None and info.released is not None and as_of < info.released:
        raise QuestionError(
            "not_released",
            f"{info.name} was released on {info.released.isoformat()}, after "
            f"{as_of.isoformat()}: there is nothing to decide on that date. "
            f"Ask as of {info.released.isoformat()} or later.",
            (Candidate(info.released.isoformat(), f"as of {info.released.isoformat()}"),),
        )


def past_date_warnings(kb: Knowledge, a: Answer, today: date) -> list[str]:
    """Say which lists a past date was answered with as they stand now (no dated version)."""
    if a.as_of >= today:
        return []
    names: dict[str, None] = {}
    for r in a.reasons:
        rule = kb.table.rules.get(r["rule"])
        if rule is None:
            continue
        for gid in groups_read(rule_refs(rule), kb.table):
            group = kb.table.groups.get(gid)
            if group is not None and not any(v.in_force(a.as_of) for v in group.versions):
                names[group.name] = None
    if not names:
        return []
    return [
        f"Answered for {a.as_of.isoformat()} with these lists as the table holds them now, "
        f"without an earlier dated version: {', '.join(names)}."
    ]


def _model_warnings(kb: Knowledge, model: str, as_of: date) -> list[str]:
    info = kb.table.models.get(model)
    if info is not None and info.retired is not None and as_of > info.retired:
        return [f"{info.name} was retired on {info.retired.isoformat()}."]
    return []


def _refuse_looser_reading(
    q: Question, kb: Knowledge, who: Party, result: Answer, models: list[str], as_of: date
) -> None:
    """Ask back when a registered customer the name looks like would get a stricter verdict.

    Answering for the unregistered reading would then be looser than what the asker may mean.
    """
    if who.customer is not None or not q.customer or q.unregistered:
        return
    if not who.similar:
        return
    verdicts = []
    for c in who.similar:
        worst = max(
            (
                kb.engine.evaluate(Subject(c, c.hq, who.country, m, q.access), as_of).verdict
                for m in models
            ),
            key=VERDICT_RANK.__getitem__,
        )
        verdicts.append((c, worst))
    if not any(VERDICT_RANK[v] > VERDICT_RANK[result.verdict] for _, v in verdicts):
        return
    raise QuestionError(
        "ambiguous_customer",
        f"'{q.customer}' is not registered, but it looks like a registered customer that "
        "would get a stricter answer. Which customer do you mean?",
        (
            *(
                Candidate(c.name, f"{c.name} ({kb.places.label(c.hq)}): {v.replace('_', ' ')}")
                for c, v in verdicts
            ),
            Candidate(
                f"unregistered {q.customer}",
                f"{q.customer}, not registered: {result.verdict.replace('_', ' ')}",
            ),
        ),
        phrase=q.customer,
    )


def answer(
    q: Question,
    kb: Knowledge,
    *,
    today: date,
    decision_id: str,
    listing: ListFacts | None = None,
    who: Party | None = None,
) -> Answer:
    """Decide a parsed question against the knowledge; raise `QuestionError` if unanswerable.

    `listing` is what screening found about the customer (`who`, the question's party, which
    screening resolved already); without it no `listed` rule holds.
    """
    who = who or resolve_party(q, kb)
    as_of = q.as_of or today
    if q.model is not None:
        return _answer_one(q, kb, who, q.model, as_of, today, decision_id, listing)
    return _answer_several(q, kb, who, as_of, today, decision_id, listing)


def _answer_one(
    q: Question,
    kb: Knowledge,
    who: Party,
    model: str,
    as_of: date,
    today: date,
    decision_id: str,
    listing: ListFacts | None,
) -> Answer:
    """Answer for the one model the question names."""
    _check_released(kb, model, as_of)
    single = _build(q, kb, who, model, as_of, decision_id, listing)[0]
    single.warnings += _model_warnings(kb, model, as_of)
    single.warnings += past_date_warnings(kb, single, today)
    _refuse_looser_reading(q, kb, who, single, [model], as_of)
    return single


def _answer_several(
    q: Question,
    kb: Knowledge,
    who: Party,
    as_of: date,
    today: date,
    decision_id: str,
    listing: ListFacts | None,
) -> Answer:
    """Answer for every model an ambiguous phrase covers, only if they all agree."""
    released = [
        m
        for m in q.model_candidates
        if (info := kb.table.models.get(m)) is None
        or info.released is None
        or info.released <= as_of
    ]
    if not released:
        _check_released(kb, q.model_candidates[0], as_of)
    # An ambiguous model phrase: answer for all of them only if they all agree.
    results = [_build(q, kb, who, m, as_of, decision_id, listing) for m in released]
    verdicts = {a.verdict for a, _ in results}
    if len(verdicts) == 1:
        _refuse_looser_reading(
            q, kb, who, results[0][0], [a.model or "" for a, _ in results], as_of
        )
    if len(verdicts) != 1:
        raise QuestionError(
            "ambiguous_model",
            f"'{q.model_phrase}' covers several models with different answers. Which one?",
            tuple(
                Candidate(a.model or "", f"{kb.models.label(a.model or '')}: {a.verdict}")
                for a, _ in results
            ),
        )
    first = results[0][0]
    seen: dict[str, dict[str, Any]] = {}
    for a, _ in results:
        for r in a.reasons:
            seen.setdefault(r["rule"], r)
    first.models = [a.model or "" for a, _ in results]
    if len(results) == 1:
        # A partial name that fits one model: answer for it, and say how the name was read.
        first.assumptions.append(
            f"'{q.model_phrase}' was read as {kb.models.label(first.models[0])}."
        )
        return first
    first.model = None
    first.reasons = list(seen.values())
    first.warnings += past_date_warnings(kb, first, today)
    first.conditions = sorted({c for a, _ in results for c in a.conditions})
    first.warnings = sorted({w for a, _ in results for w in a.warnings})
    first.assumptions.append(
        f"'{q.model_phrase}' covers {len(results)} models ({', '.join(first.models)}); "
        f"all get the same verdict."
    )
    return first
