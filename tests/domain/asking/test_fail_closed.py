"""No false "allowed" (issue #10, issue #15 section 4): each case seen on main, as a table row.

The knowledge is the shipped default pack plus two registered customers, so the rows check the
pack's facts (vendor access limits, known_from, dated versions, confidence marks) together with
the engine and the question parser.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cli.plain_text import format_answer
from bot.domain.asking.answers import Answer
from bot.domain.asking.deciding import answer
from bot.domain.asking.knowledge import Knowledge, build_knowledge
from bot.domain.asking.options import with_options
from bot.domain.asking.questions import parse_question
from bot.domain.errors import QuestionError
from bot.domain.rules.entities import Customer
from bot.domain.rules.files import read_file
from bot.domain.rules.merging import merge
from bot.domain.rules.table import RuleTable

PACK = Path(__file__).resolve().parents[3] / "storage" / "packs" / "default.yaml"
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    table = merge(RuleTable(), read_file(PACK), replace=True)
    table.customers = {
        "dragon": Customer("dragon", "Dragon Holdings Co", "CN"),
        "acme-de": Customer("acme-de", "Acme GmbH", "DE"),
    }
    return build_knowledge(table)


def ask(kb: Knowledge, question: str, **options: Any) -> Answer:
    q = with_options(parse_question(question, places=kb.places, models=kb.models), **options)
    return answer(q, kb, today=TODAY, decision_id="test")


def refused(kb: Knowledge, question: str, **options: Any) -> QuestionError:
    with pytest.raises(QuestionError) as exc:
        ask(kb, question, **options)
    return exc.value


# ---------------------------------------------------------------- 1. weights of closed models

WEIGHTS = [
    ("can Acme in Germany use gpt-5", "denied", "OpenAI does not release its weights"),
    ("can Acme GmbH in Germany use Claude Sonnet 4.5", "denied", "Anthropic does not release"),
    ("can Acme in Japan use Gemini 2.5 Pro", "denied", "Google does not release its weights"),
    # Open weights: its licence allows; an unregistered customer's list status stays a condition.
    ("can Acme in Germany use Llama 3.3 70B", "conditional", None),
]


@pytest.mark.parametrize(("question", "verdict", "title"), WEIGHTS)
def test_weights_of_closed_models_are_denied(
    kb: Knowledge, question: str, verdict: str, title: str | None
) -> None:
    a = ask(kb, question, access="weights")
    assert a.verdict == verdict
    if title is not None:
        assert a.reasons[0]["rule"] == "closed-weights"
        assert title in a.reasons[0]["title"]
        assert "open_weights: false" in a.reasons[0]["citation"]


@pytest.mark.parametrize("access", ["api", "hosted"])
def test_vendor_allow_rules_cover_api_and_hosted(kb: Knowledge, access: str) -> None:
    a = ask(kb, "can Acme GmbH in Germany use Claude Sonnet 4.5", access=access)
    assert (a.verdict, a.rule_ids()) == ("allowed", ["anthropic-supported-allow"])


# ---------------------------------------------------------------- 2. headquarters

HQ = [
    # The question puts the customer in a place: it is the place of use and the headquarters.
    ("can Globex in Norway use Llama 3.2 11B Vision", "allowed", "NO", "question"),
    ("can Globex from Norway use Llama 3.2 11B Vision", "allowed", "NO", "question"),
    ("can Globex based in Germany use Llama 3.2 11B Vision", "denied", "DE", "question"),
    ("can Globex (Germany) use Llama 3.2 11B Vision", "denied", "DE", "question"),
    ('customer="Globex" country=DE model=llama-3-2-11b-vision', "denied", "DE", "question"),
    # The question places the use on its own: the headquarters is stated or unknown.
    ("can Globex use Llama 3.2 11B Vision in Norway", "conditional", None, "unknown"),
    ("can Initech Inc (US) use Llama 3.2 90B Vision in Germany", "allowed", "US", "stated"),
    ("can Initech, a US company, use Llama 3.2 90B Vision in Germany", "allowed", "US", "stated"),
    ("can Initech, a German company, use Llama 3.2 90B Vision in Norway", "denied", "DE", "stated"),
    ('customer="Initech" hq=US country=DE model=llama-3-2-90b-vision', "allowed", "US", "stated"),
    ('customer="Initech" hq=FR country=NO model=llama-3-2-90b-vision', "denied", "FR", "stated"),
]


@pytest.mark.parametrize(("question", "verdict", "hq", "source"), HQ)
def test_headquarters_stated_placed_or_unknown(
    kb: Knowledge, question: str, verdict: str, hq: str | None, source: str
) -> None:
    a = ask(kb, question)
    assert (a.verdict, a.customer["hq"], a.customer["hq_source"]) == (verdict, hq, source)
    assert a.customer["name"] in ("Globex", "Initech Inc", "Initech")


def test_unknown_headquarters_is_a_condition_naming_the_rule(kb: Knowledge) -> None:
    a = ask(kb, "can Globex use Llama 3.2 11B Vision in Norway")
    assert a.verdict == "conditional" and a.customer["hq"] is None
    seat = [c for c in a.conditions if "headquartered in any of" in c]
    assert len(seat) == 1  # one condition for the one unknown fact, listing every rule
    assert "EU member states (else rule llama-3-2-multimodal-eu: denied)" in seat[0]
    assert "Cuba (CU) (else rule ofac-cuba-hq: denied)" in seat[0]
    assert any("headquarters not stated" in x for x in a.assumptions)


def test_hq_option_separates_headquarters_from_place(kb: Knowledge) -> None:
    a = ask(kb, "can Globex in Norway use Llama 3.2 11B Vision", hq="DE")
    assert (a.verdict, a.country, a.customer["hq"]) == ("denied", "NO", "DE")
    err = refused(kb, "can Acme (US) use Llama 3.2 11B Vision in Norway", hq="DE")
    assert err.code == "bad_hq" and [c.value for c in err.candidates] == ["US", "DE"]


def test_assumed_headquarters_is_not_stated_as_a_fact(kb: Knowledge) -> None:
    a = ask(kb, "can Huawei in China use Claude Sonnet 4.5")
    details = [r.get("detail") or "" for r in a.reasons]
    assert any("is taken to be headquartered in China (CN)" in d for d in details), details
    assert not any("Huawei is headquartered" in d for d in details)


# ---------------------------------------------------------------- 3. dates before the facts


@pytest.mark.parametrize(
    ("question", "as_of", "released"),
    [
        ("can Acme in Germany use gpt-5", date(2023, 1, 1), "2025-08-07"),
        ("can Acme in Germany use Llama 3.2 90B Vision", date(2024, 9, 24), "2024-09-25"),
    ],
)
def test_before_release_is_not_released(
    kb: Knowledge, question: str, as_of: date, released: str
) -> None:
    err = refused(kb, question, as_of=as_of)
    assert err.code == "not_released" and released in err.message


def test_release_day_is_answered(kb: Knowledge) -> None:
    a = ask(kb, "can Globex in Norway use Llama 3.2 90B Vision", as_of=date(2024, 9, 25))
    assert a.verdict == "allowed"


@pytest.mark.parametrize(
    ("question", "as_of", "unknown"),
    [
        ("can Acme in KSA use gpt-4o", date(2024, 6, 30), "not known before 2025-01-01"),
        (
            "can Acme in Germany use Claude Haiku 3.5",
            date(2025, 1, 1),
            "not known before 2025-07-01",
        ),
    ],
)
def test_vendor_list_before_known_from_is_review(
    kb: Knowledge, question: str, as_of: date, unknown: str
) -> None:
    a = ask(kb, question, as_of=as_of)
    assert a.verdict == "review"
    assert all(unknown in (r.get("detail") or "") for r in a.reasons)


def test_vendor_list_from_known_from_decides(kb: Knowledge) -> None:
    a = ask(kb, "can Acme in KSA use gpt-4o", as_of=date(2025, 1, 1))
    assert a.verdict == "allowed"


# ---------------------------------------------------------------- 4. near misses and lookalikes

LOOKALIKES = [
    ("Dragon Holdings", "near miss"),
    ("Dragon Hold\u0456ngs Co", "Cyrillic i"),
    ("Dr\u0430gon Holdings Co", "Cyrillic a"),
    ("Dragon Holdings C\u043e", "Cyrillic o"),
    ("Dragon Hol\u202egnid\u202cs Co", "right-to-left override"),
    ("Dragon\u200bHoldings Co", "zero-width space for the space"),
]


@pytest.mark.parametrize(("name", "why"), LOOKALIKES)
def test_a_name_like_a_stricter_registered_customer_asks_back(
    kb: Knowledge, name: str, why: str
) -> None:
    err = refused(kb, f"can {name} in Germany use Claude Sonnet 4.5")
    assert err.code == "ambiguous_customer", why
    labels = [c.label for c in err.candidates]
    assert labels[0] == "Dragon Holdings Co (China (CN)): denied"
    assert labels[-1].endswith("not registered: conditional")
    assert err.phrase == name and err.candidates[-1].value == f"unregistered {name}"


@pytest.mark.parametrize(
    "name",
    [
        "Dragon Hold\u200bings Co",  # zero-width space
        "Dragon Hold\u200dings Co",  # zero-width joiner
        "Dragon Hold\u200cings Co",  # zero-width non-joiner
        "Dragon Hold\u2060ings Co",  # word joiner
        "Dragon Hold\ufeffings Co",  # byte order mark
        "Dragon Hol\u00addings Co",  # soft hyphen
        "Dragon Holdings \uff23o",  # fullwidth C, folded by NFKC
    ],
)
def test_invisible_characters_do_not_hide_a_registered_customer(kb: Knowledge, name: str) -> None:
    a = ask(kb, f"can {name} in Germany use Claude Sonnet 4.5")
    assert a.customer["registered"] is True and a.verdict == "denied"


def test_the_unregistered_reading_can_be_picked(kb: Knowledge) -> None:
    a = ask(kb, "can unregistered Dragon Holdings in Germany use Claude Sonnet 4.5")
    assert (a.verdict, a.customer["registered"]) == ("conditional", False)
    b = ask(kb, 'customer="Dragon Holdings" registered=no country=DE model=claude-sonnet-4-5')
    assert (b.verdict, b.customer["registered"]) == ("conditional", False)


def test_a_looser_lookalike_only_warns(kb: Knowledge) -> None:
    a = ask(kb, "can Acme in Germany use Claude Sonnet 4.5")  # Acme GmbH is no stricter
    assert a.verdict == "conditional"
    assert any("Acme GmbH" in w for w in a.warnings)


# ---------------------------------------------------------------- 5. uncertain regions

REGIONS = [
    ("can Acme in Donetsk use Llama 3.3 70B", "review", "ofac-dnr-lnr-place"),
    ("can Acme in Luhansk use Llama 3.3 70B", "review", "ofac-dnr-lnr-place"),
    (
        "can Acme (US) use Claude Sonnet 4.5 in Puerto Rico",
        "review",
        "anthropic-us-territories-review",
    ),
    ("can Acme (US) use gpt-4o in Guam", "review", "openai-territories-unverified-review"),
    ("can Acme in Crimea use Llama 3.3 70B", "denied", "ofac-crimea-place"),  # confirmed: deny
]


@pytest.mark.parametrize(("question", "verdict", "rule"), REGIONS)
def test_uncertain_regions_are_review(
    kb: Knowledge, question: str, verdict: str, rule: str
) -> None:
    a = ask(kb, question)
    assert a.verdict == verdict and rule in a.rule_ids()


# ---------------------------------------------------------------- 6. wording


def test_plain_answer_prints_explanations_and_each_citation_once(kb: Knowledge) -> None:
    a = ask(kb, "can Acme in Donetsk use Llama 3.3 70B")
    text = format_answer(a)
    assert "borders differ" in text  # the deciding rules' explanation
    assert text.count("E.O. 14065 of Feb 21, 2022") == 1 and "source: as above" in text


@pytest.mark.parametrize(
    ("model", "licence"),
    [
        ("Llama 3.3 70B", "Llama 3.3 Community License"),
        ("gpt-oss-120b", "Apache License 2.0"),
        ("Gemma 3 27B", "Gemma Terms of Use"),
        ("DeepSeek-R1", "MIT License"),
    ],
)
def test_each_open_weight_model_cites_its_own_licence(
    kb: Knowledge, model: str, licence: str
) -> None:
    a = ask(kb, f"can Acme in Japan use {model}")
    assert a.verdict == "allowed" and licence in a.reasons[0]["citation"]
    assert "Llama" not in a.reasons[0]["citation"] or "Llama" in model


def test_everyday_place_names_in_answers(kb: Knowledge) -> None:
    a = ask(kb, "can Acme in the Netherlands use Claude Sonnet 4.5")
    assert any("the Netherlands (NL)" in x for x in a.assumptions)


def test_a_past_date_says_which_lists_it_read_as_they_are_now(kb: Knowledge) -> None:
    a = ask(kb, "can Acme GmbH in Germany use Claude Sonnet 4.5", as_of=date(2025, 10, 1))
    assert a.verdict == "allowed"
    assert any(
        "Answered for 2025-10-01" in w and "Anthropic supported regions" in w for w in a.warnings
    )
    assert not any(
        "Answered for" in w for w in ask(kb, "can Acme GmbH in Germany use gpt-5").warnings
    )
