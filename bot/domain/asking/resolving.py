"""Resolving a question's phrases: places, models, and the customer's name beside its place.

A phrase that names nothing known raises `QuestionError` with candidates; nothing is corrected.
"""

from __future__ import annotations

import re

from bot.domain.asking.catalog import ModelCatalog
from bot.domain.asking.phrases import QUOTED, name_only, strip_name, trailing_parenthesis
from bot.domain.errors import Candidate, QuestionError
from bot.domain.names.places import PlaceCatalog

# "Acme, a US company": the headquarters stated beside the name.
_STATED_HQ = re.compile(
    r"^(?P<name>.+?),\s*(?:(?:an?|the)\s+(?P<adj>.+?)\s+(?:company|firm|business|corporation|"
    r"entity|startup|group|customer|client|subsidiary|bank|organi[sz]ation)|(?:based|located|"
    r"headquartered|incorporated)\s+in\s+(?P<place>.+?))$",
    re.I,
)
# Adjectives people write for a country ("a German company"); names and codes resolve as places.
DEMONYMS = {
    "american": "US",
    "british": "GB",
    "german": "DE",
    "french": "FR",
    "chinese": "CN",
    "russian": "RU",
    "indian": "IN",
    "japanese": "JP",
    "korean": "KR",
    "south korean": "KR",
    "italian": "IT",
    "spanish": "ES",
    "dutch": "NL",
    "swiss": "CH",
    "canadian": "CA",
    "brazilian": "BR",
    "singaporean": "SG",
    "iranian": "IR",
    "emirati": "AE",
    "saudi": "SA",
    "norwegian": "NO",
    "swedish": "SE",
    "polish": "PL",
    "irish": "IE",
    "belarusian": "BY",
    "ukrainian": "UA",
    "cuban": "CU",
    "syrian": "SY",
    "venezuelan": "VE",
    "north korean": "KP",
}
# The space after the preposition is a lookahead, so "in in" and "from in" both split.
_PREPOSITION = re.compile(
    r"\s(?:based\s+in|located\s+in|headquartered\s+in|incorporated\s+in|operating\s+in|"
    r"in|from)(?=\s)",
    re.I,
)
_LEADING_PREPOSITION = re.compile(
    r"^(?:(?:based|located|headquartered|incorporated|operating)\s+)?(?:in|from)\s+", re.I
)


def _place_candidates(codes: tuple[str, ...], places: PlaceCatalog) -> tuple[Candidate, ...]:
    return tuple(Candidate(c, places.label(c)) for c in codes)


def model_candidates(ids: tuple[str, ...], models: ModelCatalog) -> tuple[Candidate, ...]:
    """Return candidates for model ids, labelled with their names."""
    return tuple(Candidate(m, models.label(m)) for m in ids)


def resolve_place(phrase: str, places: PlaceCatalog) -> str:
    """Resolve a place phrase or raise `unknown_country` / `ambiguous_country`."""
    match = places.resolve(phrase)
    if match.code:
        return match.code
    cands = _place_candidates(match.candidates, places)
    if match.ambiguous:
        raise QuestionError(
            "ambiguous_country",
            f"'{phrase}' could mean several places. Which one?",
            cands,
            phrase=phrase,
        )
    hint = (
        " Did you mean one of these?" if cands else " Use a country name or an ISO code such as DE."
    )
    raise QuestionError(
        "unknown_country", f"I don't know the place '{phrase}'.{hint}", cands, phrase=phrase
    )


def resolve_model(phrase: str, models: ModelCatalog) -> tuple[str | None, tuple[str, ...]]:
    """Return (model id, ()) or (None, candidates) for an ambiguous phrase; raise if unknown."""
    match = models.resolve(phrase)
    if match.id:
        return match.id, ()
    if match.ambiguous:
        return None, match.candidates
    cands = model_candidates(match.candidates, models)
    hint = (
        " Did you mean one of these?"
        if cands
        else " Use a model name or id, such as Claude Sonnet 4.5 or gpt-4o."
    )
    raise QuestionError(
        "unknown_model", f"I don't know the model '{phrase}'.{hint}", cands, phrase=phrase
    )


def _place_part(rest: str) -> str | None:
    """Return the place in "in Germany", "based in Germany" or "(Germany)", else None."""
    paren = trailing_parenthesis(rest)
    if paren and not paren[0]:
        return _LEADING_PREPOSITION.sub("", paren[1])
    if _LEADING_PREPOSITION.match(rest):
        return _LEADING_PREPOSITION.sub("", rest)
    return None


def _is_place(phrase: str, places: PlaceCatalog) -> bool:
    """Whether the phrase names a place, or several (which `resolve_place` then reports)."""
    match = places.resolve(phrase)
    return bool(match.code or match.ambiguous)


def split_who(who: str, places: PlaceCatalog) -> tuple[str | None, str | None, str | None]:
    """Split "Acme GmbH in Germany" into ("Acme GmbH", "DE", None); the place may be absent.

    The third value is the last "in"/"from" phrase when none was a place and it was kept in the
    name ("Kosovo" of "Acme in Kosovo"); None for quoted names and names in parentheses.
    """
    quoted = QUOTED.match(who)
    if quoted:
        # A quoted name is taken as written: its "in Italy" or "Customer" stays in the name.
        name, rest = quoted["name"].strip() or None, (quoted["rest"] or "").strip()
        if not rest:
            return name, None, None
        place = _place_part(rest)
        if place is not None:
            return name, resolve_place(place, places), None
    padded = f" {who} "
    splits = list(_PREPOSITION.finditer(padded))
    for m in reversed(splits):
        head, tail = padded[: m.start()].strip(), padded[m.end() :].strip()
        # A split inside parentheses ("Acme (in Germany)") is left to the parenthesis case.
        if head and head.count("(") == head.count(")") and _is_place(tail, places):
            return strip_name(head), resolve_place(tail, places), None
    # "Acme (Germany)"; tried after the prepositions so that "Acme in Holy See (Vatican City
    # State)" keeps the whole place name.
    paren = trailing_parenthesis(who)
    if paren and paren[0]:
        place = _LEADING_PREPOSITION.sub("", paren[1])
        if _is_place(place, places):
            return strip_name(paren[0]), resolve_place(place, places), None
    if splits and places.resolve(padded[splits[-1].end() :]).candidates:
        # The last place phrase looks like a misspelt place ("in Germny"): say so. Without
        # suggestions it is part of the name ("Made in Chelsea Ltd"), and the place is absent.
        resolve_place(padded[splits[-1].end() :].strip(), places)
    if _is_place(who, places):
        return None, resolve_place(who, places), None
    unplaced = None
    if splits:
        head = padded[: splits[-1].start()].strip()
        if head and head.count("(") == head.count(")"):
            unplaced = padded[splits[-1].end() :].strip() or None
    return strip_name(who), None, unplaced


def stated_hq(who: str, places: PlaceCatalog) -> tuple[str | None, str | None]:
    """Split "Acme (US)" or "Acme, a US company" into the name and the stated headquarters."""
    who = who.rstrip(", ")
    paren = trailing_parenthesis(who)
    if paren and paren[0]:
        phrase = _LEADING_PREPOSITION.sub("", paren[1])
        if _is_place(phrase, places):
            return strip_name(paren[0]), resolve_place(phrase, places)
    m = _STATED_HQ.match(who)
    if m:
        phrase = (m["adj"] or m["place"] or "").strip()
        code = DEMONYMS.get(phrase.lower())
        if code is None and _is_place(phrase, places):
            code = resolve_place(phrase, places)
        if code is not None:
            return strip_name(m["name"]), code
    return name_only(who), None


def split_model_place(
    phrase: str, places: PlaceCatalog, models: ModelCatalog
) -> tuple[str, str | None]:
    """Split "GPT-4o in Brazil" (the "use Z in Y" form) when the tail is a place."""
    # Model names never contain "in" or "from", so a place tail always belongs to the question.
    padded = f" {phrase} "
    splits = list(_PREPOSITION.finditer(padded))
    for m in reversed(splits):
        head, tail = padded[: m.start()].strip(), padded[m.end() :].strip()
        if head and _is_place(tail, places):
            return head, resolve_place(tail, places)
    if splits:
        head, tail = padded[: splits[-1].start()].strip(), padded[splits[-1].end() :].strip()
        resolved = models.resolve(head)
        if (resolved.id or resolved.ambiguous) and places.resolve(tail).candidates:
            resolve_place(tail, places)  # "GPT-4o in Germny": raises unknown_country
    return phrase, None
