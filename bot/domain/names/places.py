"""The place catalog: ISO 3166-1 countries and the ISO 3166-2 subdivisions rules name.

Names come from pycountry; the aliases people actually type ("UAE", "the UK", "Crimea") are added on
top. Resolution never guesses: an exact name, code or alias resolves, a known-ambiguous word
("Congo", "Korea") returns its candidates, and anything else returns fuzzy suggestions only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pycountry
from rapidfuzz import fuzz, process

# Common names people type that pycountry does not carry (keys are ISO codes).
EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE", "U.A.E.", "Emirates"),
    "AX": ("Aland",),
    "BA": ("Bosnia", "Bosnia-Herzegovina", "Bosnia Herzegovina", "BiH"),
    "BO": ("Bolivia",),
    "BN": ("Brunei",),
    "BQ": ("Bonaire", "Caribbean Netherlands"),
    "CC": ("Cocos Islands", "Keeling Islands"),
    "CD": ("DR Congo", "DRC", "Democratic Republic of the Congo", "Congo-Kinshasa", "Zaire"),
    "CG": ("Republic of the Congo", "Congo-Brazzaville", "Congo Republic"),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "CN": ("PRC", "P.R.C.", "PR China", "Mainland China"),
    "CV": ("Cape Verde",),
    "CZ": ("Czech Republic", "Czechia"),
    "FK": ("Falkland Islands", "Falklands"),
    "FM": ("Micronesia",),
    "GB": (
        "UK",
        "U.K.",
        "United Kingdom",
        "Britain",
        "Great Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "HK": ("Hong Kong", "Hong Kong SAR", "HKSAR"),
    "IE": ("Republic of Ireland", "Eire"),
    "IR": ("Iran",),
    "KP": ("North Korea", "DPRK", "Democratic People's Republic of Korea"),
    "KN": ("Saint Kitts",),
    "KR": ("South Korea", "Republic of Korea", "ROK"),
    "LA": ("Laos",),
    "MD": ("Moldova",),
    "MK": ("North Macedonia", "Macedonia"),
    "MM": ("Burma", "Myanmar"),
    "MO": ("Macau", "Macao", "Macau SAR", "Macao SAR"),
    "NL": ("Holland", "The Netherlands"),
    "PS": ("Palestine", "State of Palestine", "Palestinian Territories"),
    "RU": ("Russia", "Russian Federation"),
    "SA": ("Saudi", "KSA"),
    "SH": ("Saint Helena",),
    "ST": ("Sao Tome",),
    "SX": ("Sint Maarten",),
    "SY": ("Syria",),
    "SZ": ("Swaziland", "Eswatini"),
    "TL": ("East Timor", "Timor Leste"),
    "TR": ("Turkey", "Türkiye", "Turkiye"),
    "TW": ("Taiwan", "Republic of China"),
    "TZ": ("Tanzania",),
    "US": ("US", "U.S.", "USA", "U.S.A.", "United States", "United States of America", "America"),
    "VA": ("Vatican", "Vatican City", "Vatican City State", "Holy See"),
    "VC": ("Saint Vincent",),
    "VE": ("Venezuela",),
    "VG": ("British Virgin Islands", "BVI"),
    "VI": ("US Virgin Islands", "U.S. Virgin Islands", "USVI"),
    "VN": ("Vietnam", "Viet Nam"),
}

# English names and aliases for the subdivisions that sanctions and vendor terms name.
SUBDIVISION_ALIASES: dict[str, tuple[str, ...]] = {
    "UA-43": ("Crimea", "Autonomous Republic of Crimea", "Republic of Crimea", "Krym"),
    "UA-40": ("Sevastopol", "Sevastopol City"),
    "UA-14": ("Donetsk", "Donetsk Oblast", "Donetsk region", "DNR", "Donetsk People's Republic"),
    "UA-09": (
        "Luhansk",
        "Luhansk Oblast",
        "Luhansk region",
        "Lugansk",
        "LNR",
        "Luhansk People's Republic",
    ),
    "UA-23": ("Zaporizhzhia", "Zaporizhzhia Oblast", "Zaporozhye"),
    "UA-65": ("Kherson", "Kherson Oblast"),
}

# ISO 3166-2 names of the built-in subdivisions (as pycountry has them), so that building the
# catalog does not load the whole ISO 3166-2 database on every start; a test checks they match.
SUBDIVISION_NAMES: dict[str, str] = {
    "UA-43": "Avtonomna Respublika Krym",
    "UA-40": "Sevastopol",
    "UA-14": "Donetska oblast",
    "UA-09": "Luhanska oblast",
    "UA-23": "Zaporizka oblast",
    "UA-65": "Khersonska oblast",
}

# Words that name more than one place; answering would be a guess.
AMBIGUOUS_NAMES: dict[str, tuple[str, ...]] = {
    "congo": ("CG", "CD"),
    "the congo": ("CG", "CD"),
    "korea": ("KR", "KP"),
    "virgin islands": ("VG", "VI"),
    "guinea": ("GN", "GW", "GQ", "PG"),
    "saint martin": ("MF", "SX"),  # the island is split: Saint-Martin (FR) and Sint Maarten (NL)
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SAINT = re.compile(r"\bst\b(?= )")  # not "ST" alone: that is São Tomé


def strip_accents(text: str) -> str:
    """Drop accents ("Türkiye" -> "Turkiye"); ASCII text, the usual case, has none to drop."""
    if text.isascii():
        return text
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def normalize_place(text: str) -> str:
    """Fold case, accents, punctuation, "&", "St" and a leading "the" so names compare loosely."""
    folded = strip_accents(text).lower()
    folded = folded.replace("'", "").replace("\u2019", "").replace(".", "").replace("&", " and ")
    folded = _NON_ALNUM.sub(" ", folded).strip()
    # "St Lucia" and "St. Kitts & Nevis" are how people write "Saint ..." names.
    folded = _SAINT.sub("saint", folded)
    return folded[4:] if folded.startswith("the ") else folded


@dataclass(frozen=True)
class Place:
    """A country (ISO 3166-1 alpha-2) or a subdivision (ISO 3166-2) with its names."""

    code: str
    name: str
    kind: str  # "country" | "subdivision"
    parent: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlaceMatch:
    """The outcome of resolving a place phrase: one code, or candidates."""

    code: str | None
    candidates: tuple[str, ...] = ()
    ambiguous: bool = False


@dataclass
class PlaceCatalog:
    """Every place by code, and an index from normalized names to codes."""

    places: dict[str, Place]
    _names: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for place in self.places.values():
            self._index(place)

    def _index(self, place: Place) -> None:
        keys = {normalize_place(place.code), normalize_place(place.name)}
        keys.update(normalize_place(a) for a in place.aliases)
        for key in keys:
            if key:
                self._names.setdefault(key, set()).add(place.code)

    def __contains__(self, code: object) -> bool:
        return code in self.places

    def get(self, code: str) -> Place | None:
        """Return the place with this exact code, if any."""
        return self.places.get(code.upper())

    def parent_of(self, code: str) -> str | None:
        """Return the country a subdivision belongs to, or None for a country."""
        place = self.places.get(code.upper())
        return place.parent if place else None

    def label(self, code: str) -> str:
        """Return a human label such as "Crimea (UA-43)" or "the Netherlands (NL)"."""
        place = self.places.get(code)
        if place is None:
            return code
        name = place.aliases[0] if place.kind == "subdivision" and place.aliases else place.name
        return f"{EVERYDAY_NAMES.get(code, name)} ({code})"

    def resolve(self, text: str) -> PlaceMatch:
        """Resolve a phrase to one place code, or return candidates without guessing."""
        key = normalize_place(text)
        if not key:
            return PlaceMatch(None)
        if key in AMBIGUOUS_NAMES:
            return PlaceMatch(None, AMBIGUOUS_NAMES[key], ambiguous=True)
        codes = self._names.get(key)
        if codes and len(codes) == 1:
            return PlaceMatch(next(iter(codes)))
        if codes:
            return PlaceMatch(None, tuple(sorted(codes)), ambiguous=True)
        return PlaceMatch(None, self.suggest(key))

    def suggest(self, text: str, limit: int = 3) -> tuple[str, ...]:
        """Return the codes whose names look most like the text (for typos)."""
        key = normalize_place(text)
        if len(key) < 3:
            return ()
        names = [k for k in self._names if len(k) > 3]
        hits = process.extract(key, names, scorer=fuzz.ratio, limit=limit * 2, score_cutoff=75)
        codes: list[str] = []
        for name, _score, _ in hits:
            for code in sorted(self._names[name]):
                if code not in codes:
                    codes.append(code)
        return tuple(codes[:limit])

    def ensure_subdivision(self, code: str) -> Place | None:
        """Add an ISO 3166-2 subdivision that a rule names; None if the code is not one."""
        code = code.upper()
        if code in self.places:
            return self.places[code]
        sub = _subdivision(code)
        if sub is None:
            return None
        place = Place(
            code,
            str(sub.name),
            "subdivision",
            str(sub.country_code),
            SUBDIVISION_ALIASES.get(code, ()),
        )
        self.places[code] = place
        self._index(place)
        return place


# The names people use, where the ISO short name reads like an index entry ("Congo, The
# Democratic Republic of the") or needs its article ("the Netherlands"). Labels only.
EVERYDAY_NAMES = {
    "RU": "Russia",
    "NL": "the Netherlands",
    "GB": "the United Kingdom",
    "US": "the United States",
    "PS": "Palestine",
    "CD": "DR Congo",
    "CG": "the Republic of the Congo",
    "AE": "the United Arab Emirates",
    "PH": "the Philippines",
    "FM": "Micronesia",
    "BN": "Brunei",
    "BS": "the Bahamas",
    "GM": "the Gambia",
    "DO": "the Dominican Republic",
    "CF": "the Central African Republic",
    "VG": "the British Virgin Islands",
    "VI": "the US Virgin Islands",
    "KY": "the Cayman Islands",
    "CZ": "Czechia",
    "MH": "the Marshall Islands",
    "SB": "the Solomon Islands",
    "KM": "the Comoros",
    "MV": "the Maldives",
    "SC": "the Seychelles",
    "TC": "the Turks and Caicos Islands",
    "FO": "the Faroe Islands",
    "AX": "the Åland Islands",
    "IO": "the British Indian Ocean Territory",
    "UM": "the US Minor Outlying Islands",
    "MP": "the Northern Mariana Islands",
}


def _subdivision(code: str) -> Any:
    """Return pycountry's subdivision with this code, or None (pycountry is untyped)."""
    return pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]


def _country_names(country: object) -> tuple[str, ...]:
    names = [getattr(country, attr, None) for attr in ("common_name", "official_name", "alpha_3")]
    return tuple(n for n in names if n)


@cache
def _base_places() -> tuple[Place, ...]:
    places = [
        Place(
            str(c.alpha_2),
            str(getattr(c, "common_name", None) or c.name),
            "country",
            None,
            (str(c.name), *_country_names(c), *EXTRA_ALIASES.get(str(c.alpha_2), ())),
        )
        for c in pycountry.countries
    ]
    for code, aliases in SUBDIVISION_ALIASES.items():
        places.append(Place(code, SUBDIVISION_NAMES[code], "subdivision", code[:2], aliases))
    return tuple(places)


def build_place_catalog(extra_subdivisions: Iterable[str] = ()) -> PlaceCatalog:
    """Build the catalog of all countries, the built-in subdivisions and any extra ones."""
    catalog = PlaceCatalog({p.code: p for p in _base_places()})
    for code in extra_subdivisions:
        catalog.ensure_subdivision(code)
    return catalog
