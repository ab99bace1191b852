"""Customers fetched on demand answer exactly as customers loaded in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.domain.errors import QuestionError
from bot.domain.rules.files import parse_text
from bot.services.asking import KnowledgeCache, answer_question
from storage.db import session_scope
from tests.support.factories import import_legacy

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
CUSTOMERS = """version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - {id: hk-holder, name: HK Holder Ltd, hq: HK}
  - {id: mid, name: Mid Holdings Pte, hq: SG, owners: [{owner: dragon, share: 60}]}
  - id: nimbus
    name: Nimbus Pte Ltd
    aliases: [Nimbus, "Nimbus (Singapore)"]
    hq: SG
    owners: [{owner: mid, share: 30}, {owner: hk-holder, share: 25}]
  - {id: acme-de, name: Acme GmbH, aliases: [Acme], hq: DE, tags: [government]}
  - {id: acme-us, name: Acme Inc, aliases: [Acme], hq: US}
  - {id: percent, name: "100% Cotton_Co", hq: DE}
"""
QUESTIONS = [
    "can Nimbus Pte Ltd in Singapore use Claude Sonnet 4.5",
    "can NIMBUS (SINGAPORE) in Germany use Claude Sonnet 4.5",
    "can Nimbus use GPT-4o",
    "can Mid Holdings Pte in Singapore use Claude Opus 4.1",
    "can Acme GmbH in Germany use Llama 3.2 90B Vision",
    "can Acme in Germany use GPT-4o",  # ambiguous alias
    "can Nimbus Pte in Singapore use GPT-4o",  # near miss: a hint
    "can 100% Cotton_Co in Germany use GPT-4o",
    "can 100 Cotton Co in Germany use GPT-4o",
    "can Cotton in Germany use GPT-4o",  # LIKE wildcards in names must not match loosely
    "can someone in Iran use GPT-4o",
]


def _outcome(cache: KnowledgeCache, question: str) -> object:
    try:
        a = answer_question(cache, question, now=NOW)
    except QuestionError as exc:
        return ("error", exc.code, [c.value for c in exc.candidates])
    d = a.to_dict()
    d.pop("decision_id")
    return d


@pytest.mark.parametrize("question", QUESTIONS)
def test_on_demand_customers_answer_like_loaded_ones(engine: Engine, question: str) -> None:
    with session_scope(engine) as session:
        import_legacy(
            session=session,
            parsed=parse_text(CUSTOMERS, "c.yaml"),
            replace=False,
            author="test",
            now=NOW,
        )
        session.commit()
    loaded, lazy = KnowledgeCache(engine), KnowledgeCache(engine, lazy_customers=True)
    assert _outcome(lazy, question) == _outcome(loaded, question)


def test_on_demand_lookup_fetches_only_what_it_needs(engine: Engine) -> None:
    with session_scope(engine) as session:
        import_legacy(
            session=session,
            parsed=parse_text(CUSTOMERS, "c.yaml"),
            replace=False,
            author="test",
            now=NOW,
        )
        session.commit()
    cache = KnowledgeCache(engine, lazy_customers=True)
    answer = answer_question(
        cache, "can Nimbus Pte Ltd in Singapore use Claude Sonnet 4.5", now=NOW
    )
    assert answer.verdict == "denied"  # 30% via Mid (controlled from CN) + 25% HK = 55%
    fetched = set(dict(cache.get().table.customers))
    assert fetched == {"nimbus", "mid", "hk-holder", "dragon"}
