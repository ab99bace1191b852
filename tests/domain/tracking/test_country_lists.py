"""Reading vendor country lists as a person does (issue #13 section 2), on the real wording."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.names.places import PlaceCatalog, build_place_catalog
from bot.domain.tracking.country_lists import (
    compare_lists,
    describe_unresolved,
    read_country_list,
)
from bot.domain.tracking.snapshots import SourceSpec
from bot.domain.tracking.sources import diff_snapshots, extract

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "policy_pages"
REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "regimes.yaml"
WEBPAGE = SourceSpec("webpage", country_list=True)
PLACES = build_place_catalog()


@pytest.fixture(scope="module")
def places() -> PlaceCatalog:
    return PLACES


def page_list(name: str, places: PlaceCatalog) -> tuple[int, frozenset[str], object]:
    text = extract(WEBPAGE, (PAGES / name).read_bytes()).text
    cl = read_country_list(text, places)
    return len(cl.entries), cl.members, cl


def reference_codes(regime: str) -> set[str]:
    """Return the ISO codes regimes.yaml gives for a vendor list (the lead's reference)."""
    if not REFERENCE.exists():
        pytest.skip("../shared/reference is not reachable from this checkout")
    data = yaml.safe_load(REFERENCE.read_text())
    return set(next(r for r in data["regimes"] if r["id"] == regime)["countries"])


def test_anthropic_list_parses_completely(places: PlaceCatalog) -> None:
    count, members, cl = page_list("anthropic-supported-regions.html", places)
    assert count == 175 and len(members) == 175
    assert members == reference_codes("anthropic_supported_regions")
    assert cl.unresolved == ()  # type: ignore[attr-defined]
    assert cl.excluded == {"UA-43", "UA-14", "UA-09"}  # type: ignore[attr-defined]
    assert {"CG", "TL", "GN", "GW", "GQ", "PG", "VA", "CI", "UA"} <= members


def test_openai_list_parses_completely(places: PlaceCatalog) -> None:
    count, members, cl = page_list("openai-supported-countries.html", places)
    assert count == 188 and len(members) == 188
    assert members == reference_codes("openai_supported_countries")
    assert cl.unresolved == ()  # type: ignore[attr-defined]
    assert {"CD", "CG", "SS", "SD", "GN"} <= members
    assert cl.qualified == ("Ukraine (with certain exceptions)",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("entry", "code", "excluded"),
    [
        ("Guinea", "GN", ()),
        ("Guinea-Bissau", "GW", ()),
        ("Equatorial Guinea", "GQ", ()),
        ("Congo, Democratic Republic of the", "CD", ()),
        ("Congo, Republic of the", "CG", ()),
        ("Congo (DRC)", "CD", ()),
        ("Congo (Brazzaville)", "CG", ()),
        ("Korea, Republic of", "KR", ()),
        ("Timor-Leste, Democratic Republic of", "TL", ()),
        ("Holy See (Vatican City)", "VA", ()),
        ("Côte d'Ivoire", "CI", ()),
        (
            "Ukraine (except Crimea, Donetsk, and Luhansk regions)",
            "UA",
            ("UA-43", "UA-14", "UA-09"),
        ),
        (
            "Ukraine (except Crimea, Donetsk, Luhansk, Kherson, and Zaporizhzhia regions)",
            "UA",
            ("UA-43", "UA-14", "UA-09", "UA-65", "UA-23"),
        ),
        ("Ukraine (excluding Crimea and Sevastopol)", "UA", ("UA-43", "UA-40")),
        ("DE", "DE", ()),
        ("Congo", None, ()),
        ("Korea", None, ()),
        ("Narnia", None, ()),
    ],
)
def test_entries(
    entry: str, code: str | None, excluded: tuple[str, ...], places: PlaceCatalog
) -> None:
    cl = read_country_list(f"Germany\n{entry}\nFrance", places)
    assert [e.text for e in cl.entries] == ["Germany", entry, "France"]
    assert cl.entries[1].code == code
    assert cl.entries[1].excluded == excluded
    if code is None:
        assert cl.unresolved == (entry,)  # reported, never dropped


def test_comma_paragraph_keeps_inverted_names_and_parentheses(places: PlaceCatalog) -> None:
    text = (
        "Albania, Congo, Democratic Republic of the, Congo, Republic of the, Korea, Republic of, "
        "Ukraine (except Crimea, Donetsk, and Luhansk regions), and Zimbabwe"
    )
    cl = read_country_list(text, places)
    assert [e.code for e in cl.entries] == ["AL", "CD", "CG", "KR", "UA", "ZW"]
    assert cl.excluded == {"UA-43", "UA-14", "UA-09"}


def test_prose_before_and_after_the_list_is_not_an_entry(places: PlaceCatalog) -> None:
    text = "Supported regions\nWe offer the API here:\nGermany\nFrance\nThis list may change."
    cl = read_country_list(text, places)
    assert [e.code for e in cl.entries] == ["DE", "FR"]
    assert cl.intro == "Supported regions\nWe offer the API here:"


def test_unresolved_entries_are_described() -> None:
    assert describe_unresolved(["Ukraine (with certain exceptions)"]) == (
        "1 entry I could not read as a place: 'Ukraine (with certain exceptions)'"
    )
    assert describe_unresolved([]) == ""


def test_ukraine_exclusion_change_is_an_exclusion_not_an_addition(places: PlaceCatalog) -> None:
    before = extract(WEBPAGE, (PAGES / "anthropic-supported-regions.html").read_bytes())
    after = extract(
        WEBPAGE, (PAGES / "anthropic-supported-regions-ukraine-exclusions.html").read_bytes()
    )
    change = diff_snapshots(WEBPAGE, before, after, places)
    assert change is not None
    assert change.added == [] and change.removed == []
    assert change.excluded == ["UA-23", "UA-65"]
    assert change.summary.startswith("excluded ")
    assert "Kherson" in change.summary and "Zaporizhzhia" in change.summary


def test_later_anthropic_version_adds_four_and_drops_holy_see(places: PlaceCatalog) -> None:
    before = read_country_list(
        extract(WEBPAGE, (PAGES / "anthropic-supported-regions.html").read_bytes()).text, places
    )
    after = read_country_list(
        extract(WEBPAGE, (PAGES / "anthropic-supported-regions-later.html").read_bytes()).text,
        places,
    )
    change = compare_lists(before, after)
    assert (change.added, change.removed) == (["CD", "CF", "ER", "ET"], ["VA"])
    assert change.excluded == [] and change.unresolved == []


@pytest.mark.parametrize(
    "variant",
    [
        "anthropic-supported-regions-cookie-banner.html",
        "anthropic-supported-regions-last-updated.html",
        "anthropic-supported-regions-table.html",
    ],
)
def test_page_noise_and_restructure_change_no_place(variant: str, places: PlaceCatalog) -> None:
    before = extract(WEBPAGE, (PAGES / "anthropic-supported-regions.html").read_bytes())
    after = extract(WEBPAGE, (PAGES / variant).read_bytes())
    change = diff_snapshots(WEBPAGE, before, after, places)
    if change is not None:
        assert not (change.added or change.removed or change.excluded or change.readmitted)
        assert change.summary.endswith("no place changed")


COUNTRIES = sorted((p for p in PLACES.places.values() if p.kind == "country"), key=lambda p: p.code)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=40, unique=True))
def test_any_list_of_iso_names_reads_back_exactly(chosen: list[object]) -> None:
    names = [p.name for p in chosen]  # type: ignore[attr-defined]
    cl = read_country_list("\n".join(names), PLACES)
    expected = {p.code for p in chosen}  # type: ignore[attr-defined]
    readable = {c for c in expected if PLACES.places[c].name.lower() not in ("congo",)}
    assert cl.members == readable
    # Text naming no readable place is no list at all (the shape check then fails the fetch).
    assert len(cl.entries) == (len(names) if readable else 0)


def test_unreadable_entries_at_the_ends_are_kept(places: PlaceCatalog) -> None:
    cl = read_country_list(
        "Supported countries\nCongo\nGermany\nNarnia\nLast updated today.", places
    )
    assert [e.text for e in cl.entries] == ["Congo", "Germany", "Narnia"]
    assert cl.unresolved == ("Congo", "Narnia")


SHIPPED = Path(__file__).resolve().parents[3] / "storage" / "packs" / "sources.yaml"


def shipped_spec(name: str) -> SourceSpec:
    source = next(s for s in yaml.safe_load(SHIPPED.read_text())["sources"] if s["name"] == name)
    return SourceSpec(
        source["kind"], source.get("selector"), tuple(source.get("ignore") or ()), True
    )


@pytest.mark.parametrize(
    ("variant", "changed"),
    [
        ("anthropic-supported-regions-cookie-banner.html", False),
        ("anthropic-supported-regions-last-updated.html", False),
        ("anthropic-supported-regions-table.html", True),  # text only: no place changes
    ],
)
def test_shipped_selectors_and_ignore_patterns_survive_the_pages(
    variant: str, changed: bool, places: PlaceCatalog
) -> None:
    spec = shipped_spec("Anthropic supported regions")
    before = extract(spec, (PAGES / "anthropic-supported-regions.html").read_bytes())
    after = extract(spec, (PAGES / variant).read_bytes())
    change = diff_snapshots(spec, before, after, places)
    assert (change is not None) == changed
    if change is not None:
        assert change.summary.endswith("no place changed")
    openai = shipped_spec("OpenAI supported countries")
    text = extract(openai, (PAGES / "openai-supported-countries.html").read_bytes()).text
    assert len(read_country_list(text, places).members) == 188
