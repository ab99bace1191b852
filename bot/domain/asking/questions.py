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
from dataclasses import dataclass, replace
from datetime import date

from bot.domain.asking.catalog import ModelCatalog
from bot.domain.errors import Candidate, QuestionError
from bot.domain.names.places import PlaceCatalog

MAX_LENGTH = 500

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u2013": "-",
        "\u2014": "-",
    }
)
# "as of" with no date after it is caught too, so it cannot end up in the model phrase.
_AS_OF = re.compile(r"\b(?:as\s+of|as\s+at|on\s+date)\b(?:\s+(\S+))?", re.I)
_ACCESS = re.compile(
    r"\b(?:(?:with|via|for|through|using|over)\s+(?:the\s+|its\s+)?(api|weights|hosted)"
    r"(?:\s+(?:access|use|deployment))?|(api|weights|hosted)\s+(?:access|use|deployment)"
    r"|with\s+access\s+to\s+(?:the\s+|its\s+)?(weights))\b",
    re.I,
)
_ACCESS_WORDS = {"api": "api", "weights": "weights", "hosted": "hosted"}
_KV = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_KV_FIELDS = {
    "customer",
    "country",
    "place",
    "model",
    "access",
    "as_of",
    "date",
    "hq",
    "registered",
}
# "Acme, a US company": the headquarters stated beside the name.
_STATED_HQ = re.compile(
    r"^(?P<name>.+?),\s*(?:(?:an?|the)\s+(?P<adj>.+?)\s+(?:company|firm|business|corporation|"
    r"entity|startup|group|customer|client|subsidiary|bank|organi[sz]ation)|(?:based|located|"
    r"headquartered|incorporated)\s+in\s+(?P<place>.+?))$",
    re.I,
)
_UNREGISTERED = re.compile(r"^unregistered\s+(?:customer\s+)?(?=\S)", re.I)
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
# The space after the preposition is a lookahead, so "in in" and "from in" both split.
_PREPOSITION = re.compile(
    r"\s(?:based\s+in|located\s+in|headquartered\s+in|incorporated\s+in|operating\s+in|"
    r"in|from)(?=\s)",
    re.I,
)
_LEADING_PREPOSITION = re.compile(
    r"^(?:(?:based|located|headquartered|incorporated|operating)\s+)?(?:in|from)\s+", re.I
)
# A quoted customer name, then nothing or a place part: "'Made in Italy' in France".
_QUOTED = re.compile(r"""^(["'])(?P<name>.+?)\1(?:\s+(?P<rest>.*))?$""")
_CUSTOMER_PREFIX = re.compile(r"^(?:the\s+)?(?:customer|client|company)\s+(?=\S)", re.I)
ANONYMOUS = {
    "a customer",
    "customer",
    "customers",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "any customer",
    "any company",
    "a company",
    "companies",
    "a user",
    "users",
    "an entity",
    "a business",
    "a firm",
    "we",
    "an organisation",
    "an organization",
    "a client",
    "people",
    "a person",
    "i",
    "you",
    "a startup",
    "a bank",
    "a university",
    "a government",
}
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


def _strip_name(name: str) -> str | None:
    """Drop a "customer"/"the client" lead-in and enclosing quotes; None for "someone" etc."""
    name = _CUSTOMER_PREFIX.sub("", name.strip().strip(",").strip()).strip()
    if len(name) > 1 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return None if not name or name.lower() in ANONYMOUS else name


def _name_only(who: str) -> str | None:
    """Return the customer named by the whole phrase; a quoted name is taken as written."""
    quoted = _QUOTED.match(who)
    if quoted and not quoted["rest"]:
        return quoted["name"].strip() or None
    return _strip_name(who)


def _trailing_parenthesis(text: str) -> tuple[str, str] | None:
    """Split "Acme (Sint Maarten (Dutch part))" into the head and the outermost last group."""
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[:i].strip(), text[i + 1 : -1].strip()
    return None


def _place_part(rest: str) -> str | None:
    """Return the place in "in Germany", "based in Germany" or "(Germany)", else None."""
    paren = _trailing_parenthesis(rest)
    if paren and not paren[0]:
        return _LEADING_PREPOSITION.sub("", paren[1])
    if _LEADING_PREPOSITION.match(rest):
        return _LEADING_PREPOSITION.sub("", rest)
    return None


def _is_place(phrase: str, places: PlaceCatalog) -> bool:
    """Whether the phrase names a place, or several (which `resolve_place` then reports)."""
    match = places.resolve(phrase)
    return bool(match.code or match.ambiguous)


def _split_who(who: str, places: PlaceCatalog) -> tuple[str | None, str | None, str | None]:
    """Split "Acme GmbH in Germany" into ("Acme GmbH", "DE", None); the place may be absent.

    The third value is the last "in"/"from" phrase when none was a place and it was kept in the
    name ("Kosovo" of "Acme in Kosovo"); None for quoted names and names in parentheses.
    """
    quoted = _QUOTED.match(who)
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
            return _strip_name(head), resolve_place(tail, places), None
    # "Acme (Germany)"; tried after the prepositions so that "Acme in Holy See (Vatican City
    # State)" keeps the whole place name.
    paren = _trailing_parenthesis(who)
    if paren and paren[0]:
        place = _LEADING_PREPOSITION.sub("", paren[1])
        if _is_place(place, places):
            return _strip_name(paren[0]), resolve_place(place, places), None
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
    return _strip_name(who), None, unplaced


def _stated_hq(who: str, places: PlaceCatalog) -> tuple[str | None, str | None]:
    """Split "Acme (US)" or "Acme, a US company" into the name and the stated headquarters."""
    who = who.rstrip(", ")
    paren = _trailing_parenthesis(who)
    if paren and paren[0]:
        phrase = _LEADING_PREPOSITION.sub("", paren[1])
        if _is_place(phrase, places):
            return _strip_name(paren[0]), resolve_place(phrase, places)
    m = _STATED_HQ.match(who)
    if m:
        phrase = (m["adj"] or m["place"] or "").strip()
        code = DEMONYMS.get(phrase.lower())
        if code is None and _is_place(phrase, places):
            code = resolve_place(phrase, places)
        if code is not None:
            return _strip_name(m["name"]), code
    return _name_only(who), None


def _split_model_place(
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


def _take_as_of(text: str) -> tuple[str, date | None]:
    """Remove an "as of YYYY-MM-DD" phrase from anywhere in the text and parse its date."""
    m = _AS_OF.search(text)
    if m is None:
        return text, None
    if m[1] is None:
        raise QuestionError("bad_date", "Give a date after 'as of', e.g. as of 2026-01-31.")
    rest = text[: m.start()].rstrip(" ,") + " " + text[m.end() :].lstrip(" ,")
    return clean_text(rest), _parse_date(m[1])


def _take_access(text: str, *, anchored: bool = False) -> tuple[str, str | None]:
    """Remove an access phrase ("with weights access", "via API") and return its kind."""
    m = _ACCESS.match(text) if anchored else _ACCESS.search(text)
    if m is None:
        return text, None
    kind = _ACCESS_WORDS[next(g for g in m.groups() if g).lower()]
    return clean_text(text[: m.start()] + " " + text[m.end() :].lstrip(" ,")), kind


def _parse_key_values(text: str) -> tuple[dict[str, str], date | None]:
    """Read `key=value` pairs and an "as of" phrase; other text or a repeated key is an error."""
    pairs: dict[str, str] = {}
    for m in _KV.finditer(text):
        key = m[1].lower()
        if key in pairs:
            raise QuestionError("unparsed", f"{key}= is given twice. Give each field once.")
        pairs[key] = next(g for g in m.groups()[1:] if g is not None)
    unknown = set(pairs) - _KV_FIELDS
    if unknown:
        raise QuestionError(
            "unparsed",
            f"Unknown field {', '.join(sorted(unknown))}. Use customer=, country=, "
            "model=, access= and as_of=.",
        )
    # "as of" is looked for outside the values, so customer="Known as of Old" keeps its name.
    leftover, as_of = _take_as_of(" ".join(_KV.sub(" ", text).split()))
    if leftover:
        # `customer=Acme Inc` would otherwise silently become "Acme".
        raise QuestionError(
            "unparsed",
            f"I couldn't read '{leftover}'. Put quotes around values with spaces, "
            'e.g. customer="Acme Inc".',
        )
    return pairs, as_of


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
    text, as_of = _take_as_of(text)
    # An access phrase is looked for only at the start and in the model part, so a customer
    # called "API Access Ltd" keeps its name.
    text, lead_access = _take_access(text, anchored=True)
    for form in _FORMS:
        if m := form.match(text):
            break
    else:
        raise QuestionError("unparsed", _UNPARSED)
    model_phrase, tail_access = _take_access(m["model"].strip())
    verb_access = m.groupdict().get("access")
    access = tail_access or lead_access or (verb_access.lower() if verb_access else "api")
    model_phrase, country = _split_model_place(model_phrase.strip().strip("\"'"), places, models)
    model_phrase = _MODEL_NOISE.sub("", model_phrase.strip().strip("\"'")).strip("\"'")
    who = _VERB_LEAD.sub("", m["who"].strip())
    unregistered = bool(_UNREGISTERED.match(who))
    who = _UNREGISTERED.sub("", who)
    unplaced = None
    hq: str | None = None
    if country is None:
        customer, country, unplaced = _split_who(who, places)
        hq = country  # "X in Y": the asker placed the customer in Y
    else:
        # "can X use Z in Y": the last place phrase is the place of use; the headquarters is
        # what X says ("Acme (US)", "Acme, a US company") or unknown.
        customer, hq = _stated_hq(who, places)
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


def with_options(
    question: Question,
    *,
    as_of: date | None = None,
    access: str | None = None,
    hq: str | None = None,
) -> Question:
    """Apply a command's --as-of, --access and --hq; raise if the question says otherwise."""
    if hq is not None and hq != question.hq:
        if question.hq_reading == "stated":
            raise QuestionError(
                "bad_hq",
                f"The question says headquartered in {question.hq} and --hq says {hq}: "
                "give the headquarters once.",
                (
                    Candidate(question.hq or "", f"{question.hq} (in the question)"),
                    Candidate(hq, f"{hq} (--hq)"),
                ),
            )
        question = replace(question, hq=hq, hq_reading="stated")
    if as_of is not None and as_of != question.as_of:
        if question.as_of is not None:
            stated = question.as_of.isoformat()
            raise QuestionError(
                "bad_date",
                f"The question says as of {stated} and --as-of says "
                f"{as_of.isoformat()}: give the date once.",
                (
                    Candidate(stated, f"as of {stated} (in the question)"),
                    Candidate(as_of.isoformat(), f"as of {as_of.isoformat()} (--as-of)"),
                ),
            )
        question = replace(question, as_of=as_of)
    if access is not None and access != question.access:
        if question.access_stated:
            raise QuestionError(
                "bad_access",
                f"The question asks about {question.access} access and --access "
                f"says {access}: give the access once.",
                (
                    Candidate(question.access, f"{question.access} access (in the question)"),
                    Candidate(access, f"{access} access (--access)"),
                ),
            )
        question = replace(question, access=access)
    return question


def _parse_structured(
    raw: str, text: str, *, places: PlaceCatalog, models: ModelCatalog
) -> Question:
    pairs, as_of = _parse_key_values(text)
    if "model" not in pairs:
        raise QuestionError("unparsed", "Say which model, e.g. model=claude-sonnet-4-5.")
    place = pairs.get("country") or pairs.get("place")
    country = resolve_place(place, places) if place else None
    access = pairs.get("access", "api").lower()
    if access not in _ACCESS_WORDS:
        raise QuestionError("unparsed", f"access must be api, weights or hosted, not '{access}'.")
    as_of_text = pairs.get("as_of") or pairs.get("date")
    if as_of_text:
        if as_of is not None:
            raise QuestionError("bad_date", "Give the date once: as_of= or 'as of', not both.")
        as_of = _parse_date(as_of_text)
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
