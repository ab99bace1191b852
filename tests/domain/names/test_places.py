"""The place catalog: ISO countries, subdivisions, aliases, normalizing, ambiguity, suggestions."""

from __future__ import annotations

import pycountry
import pytest

from bot.domain.names.places import (
    AMBIGUOUS_NAMES,
    SUBDIVISION_ALIASES,
    PlaceCatalog,
    build_place_catalog,
    normalize_place,
)


@pytest.fixture(scope="module")
def places() -> PlaceCatalog:
    """The catalog with only the built-in subdivisions."""
    return build_place_catalog()


# (what people type, code)
ALIASES = [
    ("Germany", "DE"),
    ("germany", "DE"),
    ("DE", "DE"),
    ("de", "DE"),
    ("DEU", "DE"),
    ("UAE", "AE"),
    ("U.A.E.", "AE"),
    ("the UAE", "AE"),
    ("United Arab Emirates", "AE"),
    ("South Korea", "KR"),
    ("Republic of Korea", "KR"),
    ("the Republic of Korea", "KR"),
    ("Korea, Republic of", "KR"),
    ("North Korea", "KP"),
    ("DPRK", "KP"),
    ("T\u00fcrkiye", "TR"),
    ("Turkiye", "TR"),
    ("Turkey", "TR"),
    ("Czechia", "CZ"),
    ("Czech Republic", "CZ"),
    ("C\u00f4te d'Ivoire", "CI"),
    ("Cote d'Ivoire", "CI"),
    ("C\u00f4te d\u2019Ivoire", "CI"),
    ("Ivory Coast", "CI"),
    ("Burma", "MM"),
    ("Myanmar", "MM"),
    ("Russia", "RU"),
    ("Russian Federation", "RU"),
    ("the US", "US"),
    ("US", "US"),
    ("U.S.", "US"),
    ("USA", "US"),
    ("U.S.A.", "US"),
    ("United States", "US"),
    ("United States of America", "US"),
    ("the UK", "GB"),
    ("UK", "GB"),
    ("Britain", "GB"),
    ("Great Britain", "GB"),
    ("United Kingdom", "GB"),
    ("England", "GB"),
    ("Hong Kong", "HK"),
    ("Hong Kong SAR", "HK"),
    ("Macau", "MO"),
    ("Macao", "MO"),
    ("Vatican", "VA"),
    ("Vatican City", "VA"),
    ("Holy See", "VA"),
    ("Holy See (Vatican City State)", "VA"),
    ("Iran", "IR"),
    ("Syria", "SY"),
    ("Cuba", "CU"),
    ("Venezuela", "VE"),
    ("Vietnam", "VN"),
    ("Viet Nam", "VN"),
    ("Laos", "LA"),
    ("Moldova", "MD"),
    ("Taiwan", "TW"),
    ("Bolivia", "BO"),
    ("Tanzania", "TZ"),
    ("Palestine", "PS"),
    ("Eswatini", "SZ"),
    ("Swaziland", "SZ"),
    ("Cape Verde", "CV"),
    ("Cabo Verde", "CV"),
    ("North Macedonia", "MK"),
    ("Holland", "NL"),
    ("The Netherlands", "NL"),
    ("the Gambia", "GM"),
    ("East Timor", "TL"),
    ("DR Congo", "CD"),
    ("DRC", "CD"),
    ("Democratic Republic of the Congo", "CD"),
    ("Republic of the Congo", "CG"),
    ("Congo-Brazzaville", "CG"),
    ("British Virgin Islands", "VG"),
    ("US Virgin Islands", "VI"),
    ("Sint Maarten", "SX"),
    ("Falklands", "FK"),
    ("Republic of Ireland", "IE"),
    ("St Lucia", "LC"),
    ("St. Lucia", "LC"),
    ("Saint Lucia", "LC"),
    ("St Kitts & Nevis", "KN"),
    ("Trinidad & Tobago", "TT"),
    ("Bosnia & Herzegovina", "BA"),
    ("R\u00e9union", "RE"),
    ("Reunion", "RE"),
    ("\u00c5land Islands", "AX"),
    ("Curacao", "CW"),
    ("ST", "ST"),
    ("Sao Tome and Principe", "ST"),
    ("Sao Tome", "ST"),
    ("S\u00e3o Tom\u00e9", "ST"),
    ("Bosnia", "BA"),
    ("Bosnia-Herzegovina", "BA"),
    ("BiH", "BA"),
    ("PRC", "CN"),
    ("Mainland China", "CN"),
    ("People's Republic of China", "CN"),
    ("Saudi", "SA"),
    ("KSA", "SA"),
    ("Aland", "AX"),
    ("IN", "IN"),
    ("NO", "NO"),
    ("India", "IN"),
    ("Norway", "NO"),
    # subdivisions
    ("Crimea", "UA-43"),
    ("Autonomous Republic of Crimea", "UA-43"),
    ("UA-43", "UA-43"),
    ("ua-43", "UA-43"),
    ("Sevastopol", "UA-40"),
    ("UA-40", "UA-40"),
    ("Donetsk", "UA-14"),
    ("Donetsk Oblast", "UA-14"),
    ("DNR", "UA-14"),
    ("Luhansk", "UA-09"),
    ("Lugansk", "UA-09"),
    ("Luhansk region", "UA-09"),
    ("Zaporizhzhia", "UA-23"),
    ("Kherson", "UA-65"),
]


@pytest.mark.parametrize(("text", "code"), ALIASES)
def test_aliases_and_codes_resolve(places: PlaceCatalog, text: str, code: str) -> None:
    match = places.resolve(text)
    assert (match.code, match.ambiguous) == (code, False)


def test_every_iso_country_is_in_the_catalog(places: PlaceCatalog) -> None:
    countries = {p.code for p in places.places.values() if p.kind == "country"}
    assert countries == {str(c.alpha_2) for c in pycountry.countries}
    assert len(countries) == 249


def test_every_country_resolves_by_code_name_and_alpha3(places: PlaceCatalog) -> None:
    for c in pycountry.countries:
        code = str(c.alpha_2)
        for text in (code, code.lower(), str(c.alpha_3), str(c.name)):
            match = places.resolve(text)
            if normalize_place(text) in AMBIGUOUS_NAMES:
                assert code in match.candidates and match.ambiguous, text
            else:
                assert match.code == code, text


def test_no_name_maps_to_two_places(places: PlaceCatalog) -> None:
    # Otherwise some alias would silently be ambiguous without being listed as such.
    for place in places.places.values():
        for text in (place.name, *place.aliases):
            match = places.resolve(text)
            assert match.code == place.code or normalize_place(text) in AMBIGUOUS_NAMES, text


# (code, parent, label)
SUBDIVISIONS = [
    ("UA-43", "UA", "Crimea (UA-43)"),
    ("UA-40", "UA", "Sevastopol (UA-40)"),
    ("UA-14", "UA", "Donetsk (UA-14)"),
    ("UA-09", "UA", "Luhansk (UA-09)"),
    ("UA-23", "UA", "Zaporizhzhia (UA-23)"),
    ("UA-65", "UA", "Kherson (UA-65)"),
]


@pytest.mark.parametrize(("code", "parent", "label"), SUBDIVISIONS)
def test_subdivisions(places: PlaceCatalog, code: str, parent: str, label: str) -> None:
    place = places.get(code)
    assert place is not None and place.kind == "subdivision"
    assert places.parent_of(code) == parent
    assert places.parent_of(code.lower()) == parent
    assert places.label(code) == label
    assert code in SUBDIVISION_ALIASES  # built in: a question can name it before a rule does


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("DE", "Germany (DE)"),
        ("GB", "the United Kingdom (GB)"),
        ("NL", "the Netherlands (NL)"),
        ("PS", "Palestine (PS)"),
        ("CD", "DR Congo (CD)"),
        ("RU", "Russia (RU)"),
        ("TW", "Taiwan (TW)"),
        ("KR", "South Korea (KR)"),
        ("XX", "XX"),
    ],
)
def test_country_labels_and_parents(places: PlaceCatalog, code: str, label: str) -> None:
    assert places.label(code) == label
    assert places.parent_of(code) is None


def test_get_and_contains(places: PlaceCatalog) -> None:
    place = places.get("de")
    assert place is not None and place.code == "DE"
    assert places.get("XX") is None
    assert "DE" in places and "XX" not in places


def test_ensure_subdivision_adds_a_named_one() -> None:
    places = build_place_catalog()
    assert "RU-MOW" not in places and places.resolve("RU-MOW").code is None
    place = places.ensure_subdivision("ru-mow")
    assert place is not None and (place.code, place.parent, place.kind) == (
        "RU-MOW",
        "RU",
        "subdivision",
    )
    assert places.resolve("RU-MOW").code == "RU-MOW"
    assert places.parent_of("RU-MOW") == "RU"
    assert places.ensure_subdivision("UA-43") is places.get("UA-43")
    assert places.ensure_subdivision("XX-99") is None and "XX-99" not in places
    # Adding to one catalog leaves the next one built clean.
    assert "RU-MOW" not in build_place_catalog()


def test_build_with_extra_subdivisions() -> None:
    places = build_place_catalog(["DE-BY", "XX-99"])
    assert places.parent_of("DE-BY") == "DE"
    assert "XX-99" not in places


# (text, normalized)
NORMALIZED = [
    ("Germany", "germany"),
    ("  GERMANY  ", "germany"),
    ("the Netherlands", "netherlands"),
    ("The Gambia", "gambia"),
    ("C\u00f4te d'Ivoire", "cote divoire"),
    ("C\u00f4te d\u2019Ivoire", "cote divoire"),
    ("T\u00fcrkiye", "turkiye"),
    ("U.S.A.", "usa"),
    ("Korea, Republic of", "korea republic of"),
    ("Congo-Brazzaville", "congo brazzaville"),
    ("Trinidad & Tobago", "trinidad and tobago"),
    ("St. Lucia", "saint lucia"),
    ("St Kitts", "saint kitts"),
    ("ST", "st"),
    ("UA-43", "ua 43"),
    ("Theodore Land", "theodore land"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "normalized"), NORMALIZED)
def test_normalize_place(text: str, normalized: str) -> None:
    assert normalize_place(text) == normalized


# (text, codes offered, all of them in this order)
AMBIGUOUS = [
    ("Congo", ("CG", "CD")),
    ("the Congo", ("CG", "CD")),
    ("CONGO", ("CG", "CD")),
    ("Korea", ("KR", "KP")),
    ("Virgin Islands", ("VG", "VI")),
    ("Guinea", ("GN", "GW", "GQ", "PG")),
    ("Saint Martin", ("MF", "SX")),
    ("St Martin", ("MF", "SX")),
]


@pytest.mark.parametrize(("text", "codes"), AMBIGUOUS)
def test_ambiguous_names(places: PlaceCatalog, text: str, codes: tuple[str, ...]) -> None:
    match = places.resolve(text)
    assert (match.code, match.candidates, match.ambiguous) == (None, codes, True)


# (typo, a code that must be suggested)
TYPOS = [
    ("Germny", "DE"),
    ("Grmany", "DE"),
    ("Frnace", "FR"),
    ("Brazl", "BR"),
    ("Untied Kingdom", "GB"),
    ("Switzerlnd", "CH"),
    ("Crimia", "UA-43"),
    ("Luhansck", "UA-09"),
    ("Phillipines", "PH"),
]


@pytest.mark.parametrize(("text", "code"), TYPOS)
def test_typos_get_suggestions_not_answers(places: PlaceCatalog, text: str, code: str) -> None:
    match = places.resolve(text)
    assert match.code is None and not match.ambiguous
    assert code in match.candidates
    assert len(match.candidates) <= 3


@pytest.mark.parametrize("text", ["", "   ", "Narnia Ltd", "xy", "Europe"])
def test_unknown_places_resolve_to_nothing(places: PlaceCatalog, text: str) -> None:
    match = places.resolve(text)
    assert match.code is None and not match.ambiguous


def test_short_keys_get_no_suggestions(places: PlaceCatalog) -> None:
    # Two letters that are no code would match far too many names.
    assert places.suggest("QQ") == ()
    assert places.resolve("QZ").candidates == ()


def test_built_in_subdivision_names_match_iso_3166_2() -> None:
    import pycountry

    from bot.domain.names.places import SUBDIVISION_ALIASES, SUBDIVISION_NAMES

    assert set(SUBDIVISION_NAMES) == set(SUBDIVISION_ALIASES)
    for code, name in SUBDIVISION_NAMES.items():
        sub = pycountry.subdivisions.get(code=code)
        assert (sub.name, sub.country_code) == (name, code[:2])
