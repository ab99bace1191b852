"""A command's options over a parsed question: --as-of, --access and --hq."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.domain.asking.questions import Question
from bot.domain.errors import Candidate, QuestionError


def with_options(
    question: Question,
    *,
    as_of: date | None = None,
    access: str | None = None,
    hq: str | None = None,
) -> Question:
    """Apply a command's --as-of, --access and --hq; raise if the question says otherwise."""
    if hq is not None and hq != question.hq:
        if question.hq_reading == "stated":
            raise QuestionError(
                "bad_hq",
                f"The question says headquartered in {question.hq} and --hq says {hq}: "
                "give the headquarters once.",
                (
                    Candidate(question.hq or "", f"{question.hq} (in the question)"),
                    Candidate(hq, f"{hq} (--hq)"),
                ),
            )
        question = replace(question, hq=hq, hq_reading="stated")
    if as_of is not None and as_of != question.as_of:
        if question.as_of is not None:
            stated = question.as_of.isoformat()
            raise QuestionError(
                "bad_date",
                f"The question says as of {stated} and --as-of says "
                f"{as_of.isoformat()}: give the date once.",
                (
                    Candidate(stated, f"as of {stated} (in the question)"),
                    Candidate(as_of.isoformat(), f"as of {as_of.isoformat()} (--as-of)"),
                ),
            )
        question = replace(question, as_of=as_of)
    if access is not None and access != question.access:
        if question.access_stated:
            raise QuestionError(
                "bad_access",
                f"The question asks about {question.access} access and --access "
                f"says {access}: give the access once.",
                (
                    Candidate(question.access, f"{question.access} access (in the question)"),
                    Candidate(access, f"{access} access (--access)"),
                ),
            )
        question = replace(question, access=access)
    return question
