"""A question's phrases: cleaned text, the as-of date, the access phrase, key=value pairs, names.

These read text only; nothing here looks a place or a model up (`bot.domain.asking.resolving`).
"""

from __future__ import annotations

import re
from datetime import date

from bot.domain.errors import QuestionError

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
ACCESS_WORDS = {"api": "api", "weights": "weights", "hosted": "hosted"}
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
# A quoted customer name, then nothing or a place part: "'Made in Italy' in France".
QUOTED = re.compile(r"""^(["'])(?P<name>.+?)\1(?:\s+(?P<rest>.*))?$""")
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


def clean_text(raw: str) -> str:
    """Straighten quotes, collapse spaces and drop a trailing question mark."""
    text = " ".join(raw.translate(_QUOTES).split())
    return text.rstrip("?!. ").strip()


def parse_date(value: str) -> date:
    """Read a YYYY-MM-DD date, or raise `bad_date` saying how to write it."""
    try:
        return date.fromisoformat(value.strip(".,;)"))
    except ValueError:
        raise QuestionError(
            "bad_date", f"'{value}' is not a date. Write it as YYYY-MM-DD, e.g. as of 2026-01-31."
        ) from None


def strip_name(name: str) -> str | None:
    """Drop a "customer"/"the client" lead-in and enclosing quotes; None for "someone" etc."""
    name = _CUSTOMER_PREFIX.sub("", name.strip().strip(",").strip()).strip()
    if len(name) > 1 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return None if not name or name.lower() in ANONYMOUS else name


def name_only(who: str) -> str | None:
    """Return the customer named by the whole phrase; a quoted name is taken as written."""
    quoted = QUOTED.match(who)
    if quoted and not quoted["rest"]:
        return quoted["name"].strip() or None
    return strip_name(who)


def trailing_parenthesis(text: str) -> tuple[str, str] | None:
    """Split "Acme (Sint Maarten (Dutch part))" into the head and the outermost last group."""
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[:i].strip(), text[i + 1 : -1].strip()
    return None


def take_as_of(text: str) -> tuple[str, date | None]:
    """Remove an "as of YYYY-MM-DD" phrase from anywhere in the text and parse its date."""
    m = _AS_OF.search(text)
    if m is None:
        return text, None
    if m[1] is None:
        raise QuestionError("bad_date", "Give a date after 'as of', e.g. as of 2026-01-31.")
    rest = text[: m.start()].rstrip(" ,") + " " + text[m.end() :].lstrip(" ,")
    return clean_text(rest), parse_date(m[1])


def take_access(text: str, *, anchored: bool = False) -> tuple[str, str | None]:
    """Remove an access phrase ("with weights access", "via API") and return its kind."""
    m = _ACCESS.match(text) if anchored else _ACCESS.search(text)
    if m is None:
        return text, None
    kind = ACCESS_WORDS[next(g for g in m.groups() if g).lower()]
    return clean_text(text[: m.start()] + " " + text[m.end() :].lstrip(" ,")), kind


def parse_key_values(text: str) -> tuple[dict[str, str], date | None]:
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
    leftover, as_of = take_as_of(" ".join(_KV.sub(" ", text).split()))
    if leftover:
        # `customer=Acme Inc` would otherwise silently become "Acme".
        raise QuestionError(
            "unparsed",
            f"I couldn't read '{leftover}'. Put quotes around values with spaces, "
            'e.g. customer="Acme Inc".',
        )
    return pairs, as_of
