"""Question parsing: free text to customer name, place code, model id, access and as-of date.

Accepted forms (case, extra spaces, curly quotes and a trailing "?" are ignored):
- "can [customer] X in|from|based in Y use Z", "can X (Y) use Z", "is X in Y allowed to use Z",
  "may X from Y use Z", "can a customer in Y use Z", "can X use Z in Y", "does X have access to Z";
- `customer="X" country=Y model=Z [access=weights] [as_of=YYYY-MM-DD] [hq=H] [registered=no]`
  (quote values with spaces);
- "as of YYYY-MM-DD" anywhere; "with weights access", "via API", "with hosted deployment" after
  the model (or at the very start), so that a customer called "API Access Ltd" keeps its name.

The place is the phrase after the last "in/from/based in" that resolves to a place, so customer
names may contain "in" and country names ("Made in Chelsea Ltd in the United Kingdom"); in
"can X use Z in Y" all of X is the name. A quoted name ("'Made in Italy' in France") is taken as
written. Anything unresolved raises `QuestionError` with candidates; nothing is silently corrected.

Headquarters: "X in|from|based in Y", "X (Y)" and `customer=X country=Y` place the customer in Y,
which is then both the place of use and the headquarters (`hq_reading` "placed"). When the
question places the use on its own ("can X use Z in Y", or `hq=` is given), the headquarters is
what it states ("X (US)", "X, a US company", `hq=US`: "stated"), or unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.domain.asking.catalog import ModelCatalog
from bot.domain.asking.phrases import (
    ACCESS_WORDS,
    clean_text,
    parse_date,
    parse_key_values,
    take_access,
    take_as_of,
)
from bot.domain.asking.resolving import (
    resolve_model,
    resolve_place,
    split_model_place,
    split_who,
    stated_hq,
)
from bot.domain.errors import QuestionError
from bot.domain.names.places import PlaceCatalog

MAX_LENGTH = 500
_FORMS = (
    # `who` is greedy so that a name may contain "use"; _VERB_LEAD then drops "be allowed to".
    re.compile(r"^(?:can|could|may|might|will|would)\s+(?P<who>.+)\s+use\s+(?P<model>.+)$", re.I),
    re.compile(
        r"^(?:is|are)\s+(?P<who>.+?)\s+(?:allowed|permitted|cleared|able)\s+to\s+use\s+"
        r"(?P<model>.+)$",
        re.I,
    ),
    re.compile(
        r"^(?:does|do)\s+(?P<who>.+?)\s+(?:have\s+)?(?:(?P<access>api|weights|hosted)\s+)?"
        r"(?:access\s+to|clearance\s+for)\s+(?P<model>.+)$",
        re.I,
    ),
    # A follow-up in a thread: "what about Nimbus in Singapore with GPT-4o?"
    re.compile(r"^(?:what|how)\s+about\s+(?P<who>.+?)\s+(?:with|using)\s+(?P<model>.+)$", re.I),
)
# "use the Claude Sonnet 4.5 model": the article and the word "model" are not part of the name.
_MODEL_NOISE = re.compile(r"^(?:the|a|an)\s+|\s+(?:model|models|llm)$", re.I)
_VERB_LEAD = re.compile(r"\s+(?:(?:be\s+)?(?:allowed|permitted)\s+to|legally)$", re.I)
_UNREGISTERED = re.compile(r"^unregistered\s+(?:customer\s+)?(?=\S)", re.I)
_UNPARSED = (
    "I couldn't read that as a question. Ask like: "
    "can Acme GmbH in Germany use Claude Sonnet 4.5? "
    '(or: customer="Acme GmbH" country=DE model=claude-sonnet-4-5)'
)


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
    access_stated: bool = False  # the question said which access ("with weights access")
    # "Kosovo" of "can Acme in Kosovo use ...": a phrase after "in"/"from" that is no known
    # place, so it was read as part of the customer's name (said when the place is missing).
    unplaced: str | None = None
    # The headquarters the question gives: "placed" (the customer was put in `country`),
    # "stated" (said on its own: "X (US) use Z in DE", hq=US, --hq) or "" (not said: unknown).
    hq: str | None = None
    hq_reading: str = ""
    unregistered: bool = False  # "unregistered X" / registered=no: not a registered customer


def parse_question(raw: str, *, places: PlaceCatalog, models: ModelCatalog) -> Question:
    """Parse a question or raise `QuestionError` with a code, a message and candidates."""
    if len(raw) > MAX_LENGTH:
        raise QuestionError(
            "too_long",
            f"Questions are limited to {MAX_LENGTH} characters "
            f"(this one has {len(raw)}). Ask about one customer, place and model.",
        )
    text = clean_text(raw)
    if "=" in text and re.search(r"\b(customer|country|model)\s*=", text, re.I):
        return _parse_structured(raw, text, places=places, models=models)
    text, as_of = take_as_of(text)
    # An access phrase is looked for only at the start and in the model part, so a customer
    # called "API Access Ltd" keeps its name.
    text, lead_access = take_access(text, anchored=True)
    for form in _FORMS:
        if m := form.match(text):
            break
    else:
        raise QuestionError("unparsed", _UNPARSED)
    model_phrase, tail_access = take_access(m["model"].strip())
    verb_access = m.groupdict().get("access")
    access = tail_access or lead_access or (verb_access.lower() if verb_access else "api")
    model_phrase, country = split_model_place(model_phrase.strip().strip("\"'"), places, models)
    model_phrase = _MODEL_NOISE.sub("", model_phrase.strip().strip("\"'")).strip("\"'")
    who = _VERB_LEAD.sub("", m["who"].strip())
    unregistered = bool(_UNREGISTERED.match(who))
    who = _UNREGISTERED.sub("", who)
    unplaced = None
    hq: str | None = None
    if country is None:
        customer, country, unplaced = split_who(who, places)
        hq = country  # "X in Y": the asker placed the customer in Y
    else:
        # "can X use Z in Y": the last place phrase is the place of use; the headquarters is
        # what X says ("Acme (US)", "Acme, a US company") or unknown.
        customer, hq = stated_hq(who, places)
    model, candidates = resolve_model(model_phrase, models)
    return Question(
        raw,
        customer,
        country,
        model,
        access,
        as_of,
        model_phrase,
        candidates,
        access_stated=bool(tail_access or lead_access or verb_access),
        unplaced=unplaced,
        hq=hq,
        hq_reading=("placed" if hq == country else "stated") if hq is not None else "",
        unregistered=unregistered,
    )


def _parse_structured(
    raw: str, text: str, *, places: PlaceCatalog, models: ModelCatalog
) -> Question:
    pairs, as_of = parse_key_values(text)
    if "model" not in pairs:
        raise QuestionError("unparsed", "Say which model, e.g. model=claude-sonnet-4-5.")
    place = pairs.get("country") or pairs.get("place")
    country = resolve_place(place, places) if place else None
    access = pairs.get("access", "api").lower()
    if access not in ACCESS_WORDS:
        raise QuestionError("unparsed", f"access must be api, weights or hosted, not '{access}'.")
    as_of_text = pairs.get("as_of") or pairs.get("date")
    if as_of_text:
        if as_of is not None:
            raise QuestionError("bad_date", "Give the date once: as_of= or 'as of', not both.")
        as_of = parse_date(as_of_text)
    model, candidates = resolve_model(pairs["model"], models)
    # A customer= value is explicit: "Customer Connect Ltd" keeps its first word.
    customer = pairs.get("customer", "").strip() or None
    # With hq= the country is the place of use only; without it the customer was put there.
    hq = resolve_place(pairs["hq"], places) if pairs.get("hq") else None
    reading = "stated" if hq is not None else ""
    if hq is None and country is not None:
        hq, reading = country, "placed"
    registered = pairs.get("registered", "").lower()
    if registered not in ("", "no", "yes"):
        raise QuestionError("unparsed", f"registered must be yes or no, not '{registered}'.")
    return Question(
        raw,
        customer,
        country,
        model,
        access,
        as_of,
        pairs["model"],
        candidates,
        access_stated="access" in pairs,
        hq=hq,
        hq_reading=reading,
        unregistered=registered == "no",
    )
