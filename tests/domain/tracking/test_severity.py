"""Severity of a policy change (issue #4): keywords and the countries where customers operate."""

from __future__ import annotations

import pytest

from bot.domain.names.places import PlaceCatalog, build_place_catalog
from bot.domain.tracking.severity import DEFAULT_KEYWORDS, assess, customer_countries
from tests.support.factories import table_from_yaml


@pytest.fixture(scope="module")
def places() -> PlaceCatalog:
    return build_place_catalog()


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("BIS adds 12 entities to the Entity List", ["mentions 'Entity List'"]),
        ("additions to the ENTITY LIST.", ["mentions 'Entity List'"]),
        ("entity\nlist additions (wrapped line)", ["mentions 'Entity List'"]),
        ("Framework for Artificial Intelligence Diffusion", ["mentions 'artificial intelligence'"]),
        ("ECCN 4E091 controls", ["mentions '4E091'"]),
        ("ECCN 4e091.", ["mentions '4E091'"]),
        (
            "Entity List and artificial intelligence",
            ["mentions 'Entity List'", "mentions 'artificial intelligence'"],
        ),
        # whole words only
        ("Entity Listing procedures", []),
        ("ECCN 4E0911 and X4E091", []),
        ("nothing to see here", []),
    ],
)
def test_keywords(text: str, reasons: list[str], places: PlaceCatalog) -> None:
    sev = assess(text, default="normal", keywords=DEFAULT_KEYWORDS, countries=(), places=places)
    assert list(sev.reasons) == reasons
    assert sev.level == ("high" if reasons else "normal")


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("U.S. persons", "applies to U.S. persons.", True),
        ("§ 744.23", "see § 744.23 for details", True),
        ("§ 744.23", "see § 744.231", False),
        ("", "anything", False),
        ("  ", "anything", False),
    ],
)
def test_custom_keywords_with_punctuation(
    keyword: str, text: str, hit: bool, places: PlaceCatalog
) -> None:
    sev = assess(text, default="normal", keywords=[keyword], countries=(), places=places)
    assert (sev.level == "high") is hit


@pytest.mark.parametrize(
    ("countries", "text", "reason"),
    [
        (["SG"], "New rules for Singapore", "names Singapore (SG), where customers operate"),
        (["SG"], "the republic of singapore", "names Singapore (SG), where customers operate"),
        (
            ["AE"],
            "Exports to the Emirates",
            "names the United Arab Emirates (AE), where customers operate",
        ),
        (["US"], "a U.S. person", "names the United States (US), where customers operate"),
        (["UA-43"], "sanctions on Crimea", "names Crimea (UA-43), where customers operate"),
        (["OM"], "Oman joins", "names Oman (OM), where customers operate"),
        # not by substrings or short codes
        (["OM"], "Romania and a woman", None),
        (["US"], "tell US about it; use USA", None),
        (["SG"], "SGP", None),
        (["IN"], "based in Indiana", None),
        # nor as part of another country's name
        (["SD"], "Aid to South Sudan", None),
        (["GN"], "Papua New Guinea and Guinea-Bissau", None),
        (["IE"], "Northern Ireland", None),
        (["SD"], "South Sudan and Sudan", "names Sudan (SD), where customers operate"),
        (["NE"], "Nigeria", None),
    ],
)
def test_customer_countries_by_name_or_alias(
    countries: list[str], text: str, reason: str | None, places: PlaceCatalog
) -> None:
    sev = assess(text, default="normal", keywords=(), countries=countries, places=places)
    assert list(sev.reasons) == ([reason] if reason else [])
    assert sev.level == ("high" if reason else "normal")


@pytest.mark.parametrize(
    ("added", "removed", "reasons"),
    [
        (["SG"], [], ["changes Singapore (SG), where customers operate"]),
        ([], ["sg"], ["changes Singapore (SG), where customers operate"]),
        (["FR"], ["JP"], []),  # no customers there
        (
            ["SG", "DE"],
            [],
            [
                "changes Germany (DE), where customers operate",
                "changes Singapore (SG), where customers operate",
            ],
        ),
    ],
)
def test_added_or_removed_customer_countries(
    added: list[str], removed: list[str], reasons: list[str], places: PlaceCatalog
) -> None:
    # The text names Singapore too: the reason is given once, as a change.
    sev = assess(
        "added Singapore (SG)",
        default="normal",
        keywords=(),
        countries=["SG", "DE"],
        places=places,
        added=added,
        removed=removed,
    )
    if "SG" not in [c.upper() for c in added + removed]:
        reasons = [*reasons, "names Singapore (SG), where customers operate"]
    assert list(sev.reasons) == reasons
    assert sev.level == "high"


@pytest.mark.parametrize(
    ("default", "text", "level"),
    [
        ("high", "minor wording change", "high"),
        ("normal", "minor wording change", "normal"),
        ("normal", "Entity List", "high"),
    ],
)
def test_source_default(default: str, text: str, level: str, places: PlaceCatalog) -> None:
    sev = assess(text, default=default, keywords=DEFAULT_KEYWORDS, countries=["SG"], places=places)
    assert sev.level == level


def test_customer_countries_are_headquarters_and_usage() -> None:
    table = table_from_yaml("""
customers:
  - {id: a, name: A Pte, hq: SG, uses: [{model: acme-1, country: MY}, {model: acme-1, country: TH}]}
  - {id: b, name: B GmbH, hq: DE}
rules: []
""")
    assert customer_countries(table) == {"SG", "MY", "TH", "DE"}
