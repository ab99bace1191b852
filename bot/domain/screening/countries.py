"""Country names as lists write them, to ISO 3166 alpha-2 codes."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

# Names lists use that pycountry does not know as such.
_NAMES = {
    "russia": "RU",
    "korea, north": "KP",
    "north korea": "KP",
    "korea, south": "KR",
    "south korea": "KR",
    "burma": "MM",
    "turkey": "TR",
    "turkiye": "TR",
    "macau": "MO",
    "macao": "MO",
    "kosovo": "XK",
    "west bank": "PS",
    "gaza": "PS",
    "palestinian": "PS",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "congo, republic of the": "CG",
    "iran": "IR",
    "syria": "SY",
    "venezuela": "VE",
    "bolivia": "BO",
    "vietnam": "VN",
    "laos": "LA",
    "the bahamas": "BS",
    "the gambia": "GM",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "czechia": "CZ",
    "region: crimea": "UA",
    "crimea": "UA",
    "united states": "US",
    "uk": "GB",
}


@lru_cache(maxsize=4096)
def country_code(name: str | None) -> str | None:
    """Return the alpha-2 code for a country name or code, or None when unknown."""
    if not name:
        return None
    text = name.strip().strip(".")
    if not text or text == "-0-":
        return None
    known = _NAMES.get(text.lower())
    if known:
        return known
    # Imported on the first name a list file needs: the command line reads the source-kind
    # registry, which names the list parsers, on every start, and most commands parse no list.
    import pycountry

    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def country_codes(names: Iterable[str | None]) -> tuple[str, ...]:
    """Distinct alpha-2 codes of the given names, in first-seen order."""
    out: dict[str, None] = {}
    for name in names:
        code = country_code(name)
        if code:
            out[code] = None
    return tuple(out)
