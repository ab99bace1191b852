"""Question parsing: free text to customer name, place code, model id, access and as-of date.

Accepted forms (case, extra spaces, curly quotes and a trailing "?" are ignored):
- "can [customer] X in|from|based in Y use Z", "can X (Y) use Z", "is X in Y allowed to use Z",
  "may X from Y use Z", "can a customer in Y use Z", "can X use Z in Y";
- `customer="X" country=Y model=Z [access=weights] [as_of=YYYY-MM-DD]`;
- "as of YYYY-MM-DD" anywhere, and "with weights access" / "via API" / "hosted".

The place is the phrase after the last "in/from/based in" that resolves to a place, so customer
names may contain "in" and country names ("Made in Chelsea Ltd in the United Kingdom"). Anything
unresolved raises `QuestionError` with candidates; nothing is silently corrected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.catalog import ModelCatalog
from bot.errors import Candidate, QuestionError
from bot.places import PlaceCatalog

MAX_LENGTH = 500

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u00a0": " ", "\u2013": "-", "\u2014": "-"})
_AS_OF = re.compile(r"\b(?:as\s+of|as\s+at|on\s+date)\s+(\S+)", re.I)
_ACCESS = re.compile(
    r"\b(?:(?:with|via|for|through|using|over)\s+(?:the\s+|its\s+)?(api|weights|hosted)"
    r"(?:\s+(?:access|use|deployment))?|(api|weights|hosted)\s+(?:access|use|deployment))\b",
    re.I)
_ACCESS_WORDS = {"api": "api", "weights": "weights", "hosted": "hosted"}
_KV = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_FORMS = (
    re.compile(r"^(?:can|could|may|might|will|would)\s+(?P<who>.+)\s+"
               r"(?:(?:be\s+)?(?:allowed|permitted)\s+to\s+|legally\s+)?use\s+(?P<model>.+)$",
               re.I),
    re.compile(r"^(?:is|are)\s+(?P<who>.+?)\s+(?:allowed|permitted|cleared|able)\s+to\s+use\s+"
               r"(?P<model>.+)$", re.I),
    re.compile(r"^(?:does|do)\s+(?P<who>.+?)\s+(?:have\s+)?(?:access\s+to|clearance\s+for)\s+"
               r"(?P<model>.+)$", re.I),
)
_PREPOSITION = re.compile(
    r"\s(?:based\s+in|located\s+in|headquartered\s+in|incorporated\s+in|operating\s+in|"
    r"in|from)\s", re.I)
_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<place>[^()]+)\)$")
_CUSTOMER_PREFIX = re.compile(r"^(?:the\s+)?(?:customer|client|company)\s+(?=\S)", re.I)
ANONYMOUS = {
    "a customer", "customer", "customers", "someone", "somebody", "anyone", "anybody",
    "a company", "companies", "a user", "users", "an entity", "a business", "a firm", "we",
    "an organisation", "an organization", "a client", "people", "a person", "i", "you",
    "a startup", "a bank", "a university", "a government",
}


@dataclass(frozen=True)
class Question:
    """A parsed question. `model` is None when `model_candidates` lists an ambiguous phrase."""

    text: str
    customer: str | None
    country: str | None
    model: str | None
    access: str = "api"
    as_of: date | None = None
    model_phrase: str = ""
    model_candidates: tuple[str, ...] = ()


def clean_text(raw: str) -> str:
    """Straighten quotes, collapse spaces and drop a trailing question mark."""
    text = " ".join(raw.translate(_QUOTES).split())
    return text.rstrip("?!. ").strip()


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip(".,;)"))
    except ValueError:
        raise QuestionError(
            "bad_date", f"'{value}' is not a date. Write it as YYYY-MM-DD, e.g. as of 2026-01-31."
        ) from None


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
        raise QuestionError("ambiguous_country",
                            f"'{phrase}' could mean several places. Which one?", cands)
    hint = " Did you mean one of these?" if cands else \
        " Use a country name or an ISO code such as DE."
    raise QuestionError("unknown_country", f"I don't know the place '{phrase}'.{hint}", cands)


def resolve_model(phrase: str, models: ModelCatalog) -> tuple[str | None, tuple[str, ...]]:
    """Return (model id, ()) or (None, candidates) for an ambiguous phrase; raise if unknown."""
    match = models.resolve(phrase)
    if match.id:
        return match.id, ()
    if match.ambiguous:
        return None, match.candidates
    cands = model_candidates(match.candidates, models)
    hint = " Did you mean one of these?" if cands else " Try `clearance rules list` for models."
    raise QuestionError("unknown_model", f"I don't know the model '{phrase}'.{hint}", cands)


def _strip_name(name: str) -> str | None:
    name = _CUSTOMER_PREFIX.sub("", name.strip().strip(",").strip()).strip().strip("\"'").strip()
    return None if not name or name.lower() in ANONYMOUS else name


def _split_who(who: str, places: PlaceCatalog) -> tuple[str | None, str | None]:
    """Split "Acme GmbH in Germany" into ("Acme GmbH", "DE"); the place may be absent."""
    paren = _PAREN.match(who)
    if paren and places.resolve(paren["place"]).code:
        return _strip_name(paren["name"]), resolve_place(paren["place"], places)
    splits = list(_PREPOSITION.finditer(f" {who} "))
    for m in reversed(splits):
        tail = f" {who} "[m.end():].strip()
        match = places.resolve(tail)
        if match.code or match.ambiguous:
            return _strip_name(f" {who} "[:m.start()]), resolve_place(tail, places)
    if splits:
        # Nothing resolved: report the last place phrase with suggestions.
        resolve_place(f" {who} "[splits[-1].end():].strip(), places)
    whole = places.resolve(who)
    if match_code := whole.code:
        return None, match_code
    return _strip_name(who), None


def _split_model_place(phrase: str, places: PlaceCatalog, models: ModelCatalog) -> tuple[str, str | None]:
    """Split "GPT-4o in Brazil" (the "use Z in Y" form) when the tail is a place."""
    for m in reversed(list(_PREPOSITION.finditer(f" {phrase} "))):
        head, tail = f" {phrase} "[:m.start()].strip(), f" {phrase} "[m.end():].strip()
        code = places.resolve(tail).code
        if code:
            head_match = models.resolve(head)
            if head_match.id or head_match.ambiguous:
                return head, code
    return phrase, None


def _parse_key_values(text: str) -> dict[str, str]:
    pairs = {m[1].lower(): next(g for g in m.groups()[1:] if g is not None)
             for m in _KV.finditer(text)}
    unknown = set(pairs) - {"customer", "country", "place", "model", "access", "as_of", "date"}
    if unknown:
        raise QuestionError(
            "unparsed", f"Unknown field {', '.join(sorted(unknown))}. Use customer=, country=, "
            "model=, access= and as_of=.")
    return pairs


def parse_question(raw: str, *, places: PlaceCatalog, models: ModelCatalog) -> Question:
    """Parse a question or raise `QuestionError` with a code, a message and candidates."""
    if len(raw) > MAX_LENGTH:
        raise QuestionError("too_long", f"Questions are limited to {MAX_LENGTH} characters "
                            f"(this one has {len(raw)}). Ask about one customer, place and model.")
    text = clean_text(raw)
    if "=" in text and re.search(r"\b(customer|country|model)\s*=", text, re.I):
        return _parse_structured(raw, text, places=places, models=models)
    as_of = None
    if m := _AS_OF.search(text):
        as_of = _parse_date(m[1])
        text = clean_text(text[:m.start()] + " " + text[m.end():])
    access = "api"
    if m := _ACCESS.search(text):
        access = _ACCESS_WORDS[(m[1] or m[2]).lower()]
        text = clean_text(text[:m.start()] + " " + text[m.end():])
    for form in _FORMS:
        if m := form.match(text):
            who, model_phrase = m["who"].strip(), m["model"].strip().strip("\"'")
            break
    else:
        raise QuestionError(
            "unparsed", "I couldn't read that as a question. Ask like: "
            "can Acme GmbH in Germany use Claude Sonnet 4.5? "
            "(or: customer=\"Acme GmbH\" country=DE model=claude-sonnet-4-5)")
    customer, country = _split_who(who, places)
    if country is None:
        model_phrase, country = _split_model_place(model_phrase, places, models)
    model, candidates = resolve_model(model_phrase, models)
    return Question(raw, customer, country, model, access, as_of, model_phrase, candidates)


def _parse_structured(raw: str, text: str, *, places: PlaceCatalog,
                      models: ModelCatalog) -> Question:
    pairs = _parse_key_values(text)
    if "model" not in pairs:
        raise QuestionError("unparsed", "Say which model, e.g. model=claude-sonnet-4-5.")
    place = pairs.get("country") or pairs.get("place")
    country = resolve_place(place, places) if place else None
    access = pairs.get("access", "api").lower()
    if access not in _ACCESS_WORDS:
        raise QuestionError("unparsed", f"access must be api, weights or hosted, not '{access}'.")
    as_of_text = pairs.get("as_of") or pairs.get("date")
    model, candidates = resolve_model(pairs["model"], models)
    customer = _strip_name(pairs["customer"]) if "customer" in pairs else None
    return Question(raw, customer, country, model, access,
                    _parse_date(as_of_text) if as_of_text else None, pairs["model"], candidates)
