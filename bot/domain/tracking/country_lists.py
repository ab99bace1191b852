"""Reading a vendor's country list the way a person does.

One entry per list item (a line of the snapshot text, a table row's first cell, or one item of a
comma-separated paragraph), never split inside parentheses or on the comma of an inverted name
("Congo, Republic of the", "Korea, Republic of"). An entry resolves by its exact whole name first
(on a list "Guinea" is Guinea, GN), then by an alternative name in parentheses ("Congo (DRC)").
"X (except A, B and C)" is member X with A, B and C excluded; "X (with certain exceptions)" is
member X with exceptions the list does not name. An entry that does not resolve is kept and
reported, never dropped. Pure: no network, no clock, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain.names.places import AMBIGUOUS_NAMES, PlaceCatalog, normalize_place

# Names the vendor lists use that are neither ISO names nor catalog aliases.
LIST_ALIASES: dict[str, str] = {
    "congo drc": "CD",
    "congo kinshasa": "CD",
    "drc congo": "CD",
    "congo brazzaville": "CG",
    "congo republic": "CG",
    "vatican city": "VA",
    "holy see vatican city": "VA",
    "timor leste east timor": "TL",
    "czechia czech republic": "CZ",
    "eswatini swaziland": "SZ",
    "cabo verde": "CV",
    "turkiye turkey": "TR",
    "myanmar burma": "MM",
    "burma myanmar": "MM",
}
# Words people use for more than one country: unresolved (and reported) even where one of them
# has the word as its ISO name. "Guinea" is not among them: the others are always named in full.
LIST_AMBIGUOUS = frozenset(
    {"congo", "korea", "virgin islands", "saint martin", "sudan and south sudan"}
)
_EXCEPT = re.compile(
    r"^(?:except(?:\s+for)?|excluding|other\s+than|with\s+the\s+exceptions?\s+of|but\s+not)\s+",
    re.I,
)
_UNNAMED_EXCEPTIONS = re.compile(
    r"^(?:with\s+)?(?:certain|some)\s+(?:exceptions|restrictions)$", re.I
)
_REGION_WORD = re.compile(r"\s+(?:regions?|oblasts?|provinces?|territories)$", re.I)
_INVERSION_TAIL = re.compile(
    r"^(?:the\s+)?(?:(?:democratic|federated|islamic|united|plurinational|bolivarian|people'?s|"
    r"federal|socialist|arab)\s+)*(?:republic|state|states|kingdom|federation|commonwealth|"
    r"principality|sultanate|emirate|grand\s+duchy)(?:\s+of(?:\s+the)?)?$",
    re.I,
)
_HEADING_WORDS = re.compile(
    r"countr|region|territor|support|availab|\blist\b|updated|\bpage\b|cookie|\|", re.I
)
_SENTENCE_END = (".", ":", "?", "!")
MAX_ENTRY_WORDS = 12


@dataclass(frozen=True)
class Entry:
    """One list entry as written, and what it says: a place, its exclusions, or nothing known."""

    text: str
    code: str | None
    excluded: tuple[str, ...] = ()
    unnamed_exceptions: bool = False  # "with certain exceptions": the list does not say which
    unread: tuple[str, ...] = ()  # parts of an exclusion that did not resolve


@dataclass(frozen=True)
class CountryList:
    """The entries of a country list, with the text before them (its intro)."""

    entries: tuple[Entry, ...]
    intro: str = ""

    @property
    def members(self) -> frozenset[str]:
        """Return the places the list includes."""
        return frozenset(e.code for e in self.entries if e.code)

    @property
    def excluded(self) -> frozenset[str]:
        """Return the places the list excludes from its members ("except Crimea")."""
        return frozenset(x for e in self.entries if e.code for x in e.excluded)

    @property
    def unresolved(self) -> tuple[str, ...]:
        """Return the entries (or parts of exclusions) that could not be read as places."""
        out = [e.text for e in self.entries if e.code is None]
        out += [f"{e.text}: {u}" for e in self.entries for u in e.unread]
        return tuple(out)

    @property
    def qualified(self) -> tuple[str, ...]:
        """Return the entries that have exceptions the list does not name."""
        return tuple(e.text for e in self.entries if e.unnamed_exceptions)


@dataclass
class CountryListChange:
    """What changed between two readings of a list, in places."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # newly excluded places
    readmitted: list[str] = field(default_factory=list)  # exclusions lifted
    unresolved: list[str] = field(default_factory=list)  # new entries that could not be read

    @property
    def places_changed(self) -> bool:
        """Return whether any place was added, removed, excluded or readmitted."""
        return bool(self.added or self.removed or self.excluded or self.readmitted)


def _exact_index(places: PlaceCatalog) -> dict[str, set[str]]:
    """Return normalized exact names (ISO names, official names, aliases) to codes."""
    index: dict[str, set[str]] = {}
    for place in places.places.values():
        for name in (place.name, *place.aliases, place.code if place.kind == "country" else ""):
            key = normalize_place(name)
            if key:
                index.setdefault(key, set()).add(place.code)
    return index


class _Reader:
    """Resolves names against one catalog (the index is built once per list)."""

    def __init__(self, places: PlaceCatalog) -> None:
        self.places = places
        self.index = _exact_index(places)

    def exact(self, text: str) -> str | None:
        """Return the one place whose exact name (ISO, official or alias) this is, else None.

        Known-ambiguous words ("Korea", "Congo") that are not themselves an ISO name stay
        unresolved; "Guinea", the ISO short name of GN, resolves.
        """
        key = normalize_place(text)
        if not key or key in LIST_AMBIGUOUS:
            return None
        if len(key) <= 3 and not text.strip().isupper():
            return None  # "in", "can", "No" are words, not India, Canada or Norway
        if key in LIST_ALIASES:
            return LIST_ALIASES[key]
        codes = self.index.get(key, set())
        countries = {c for c in codes if "-" not in c}
        if len(codes) == 1:
            code = next(iter(codes))
            iso_short = self.places.places[code].name
            if key in AMBIGUOUS_NAMES and normalize_place(iso_short) != key:
                return None
            return code
        if len(countries) == 1:
            return next(iter(countries))
        return None

    def inverted(self, text: str) -> str | None:
        """Return the place an inverted name means ("Congo, Republic of the"), else None."""
        head, sep, tail = text.partition(",")
        if not sep or "," in tail or "(" in text:
            return None
        return self.exact(f"{tail.strip()} {head.strip()}")

    def subdivision(self, text: str, country: str) -> str | None:
        """Return the subdivision of `country` a name means ("Luhansk regions" is UA-09)."""
        for candidate in (text, _REGION_WORD.sub("", text), f"{_REGION_WORD.sub('', text)} region"):
            code = self.exact(candidate)
            if code and (code == country or self.places.parent_of(code) == country):
                return code
        return None

    def entry(self, text: str) -> Entry:
        """Read one entry."""
        clean = text.strip(" \t*•·-\u2013\u2014;,")
        clean = re.sub(r"\[\d+\]$|\*+$", "", clean).strip()
        code = self.exact(clean) or self.inverted(clean)
        if code:
            return Entry(text, code)
        m = re.fullmatch(r"(.*?)\s*\((.*)\)\s*", clean)
        if not m:
            return Entry(text, None)
        head, inner = m.group(1).strip(), " ".join(m.group(2).split())
        ex = _EXCEPT.match(inner)
        if ex:
            country = self.exact(head)
            if country is None:
                return Entry(text, None)
            excluded, unread = [], []
            for part in _split_names(inner[ex.end() :]):
                sub = self.subdivision(part, country)
                if sub:
                    excluded.append(sub)
                else:
                    unread.append(part)
            return Entry(text, country, tuple(excluded), False, tuple(unread))
        if _UNNAMED_EXCEPTIONS.match(inner):
            country = self.exact(head)
            return Entry(text, country, (), country is not None)
        code = self.exact(f"{head} {inner}") or self.exact(head) or self.exact(inner)
        if code is None:
            ambiguous = AMBIGUOUS_NAMES.get(normalize_place(head), ())
            alt = self.places.resolve(inner).code
            if alt in ambiguous:
                code = alt
        return Entry(text, code)


def _split_names(text: str) -> list[str]:
    """Split "Crimea, Donetsk, and Luhansk regions" into its names."""
    parts = re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", text.strip().rstrip("."))
    return [p.strip() for p in parts if p.strip()]


def _top_level_split(line: str, separators: str) -> list[str]:
    """Split a line at separators that are not inside parentheses."""
    out: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in line:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        if ch in separators and depth == 0:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return [p.strip() for p in out if p.strip()]


def _entries_of_line(line: str, reader: _Reader) -> list[str]:
    """Return the entries one line holds: itself, a table row's first cell, or a comma list."""
    if " | " in line:
        cells = [c.strip() for c in line.split(" | ") if c.strip()]
        return cells[:1]
    parts = _top_level_split(line, ";•·")
    out: list[str] = []
    for part in parts:
        if reader.exact(part.strip(" .")) or "," not in part:
            out.append(part)
            continue
        pieces = [re.sub(r"^(?:and|or)\s+", "", p) for p in _top_level_split(part, ",")]
        i = 0
        while i < len(pieces):
            a = pieces[i]
            if i + 1 < len(pieces):
                b = pieces[i + 1]
                joined = f"{a}, {b}"
                inverted = f"{b} {a}"
                if (
                    reader.exact(joined)
                    or reader.exact(inverted)
                    or (not reader.exact(b) and _INVERSION_TAIL.match(b))
                ):
                    out.append(joined)
                    i += 2
                    continue
            out.append(a)
            i += 1
    return out


def _looks_like_entry(text: str) -> bool:
    """Return whether unresolved text is shaped like a list entry rather than a sentence."""
    words = text.split()
    return 0 < len(words) <= MAX_ENTRY_WORDS and not text.rstrip().endswith(_SENTENCE_END)


def _edge_entry(text: str, reader: _Reader) -> bool:
    """Return whether a line just before or after the list is an entry that did not resolve
    (shaped like one, no heading words, and like a place name) rather than intro or notes."""
    if not _looks_like_entry(text) or _HEADING_WORDS.search(text):
        return False
    key = normalize_place(text)
    return key in LIST_AMBIGUOUS or "(" in text or bool(reader.places.suggest(text))


def read_country_list(text: str, places: PlaceCatalog) -> CountryList:
    """Read a country list from snapshot text (one block per line).

    The list runs from the first line that names a place to the last one; lines before it are
    the intro, lines after it are left out, and sentence-like lines inside it are prose. Every
    other line inside it is an entry, resolved or reported.
    """
    reader = _Reader(places)
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    read: list[list[Entry]] = []
    for line in lines:
        read.append([reader.entry(part) for part in _entries_of_line(line, reader)])
    hits = [i for i, entries in enumerate(read) if any(e.code for e in entries)]
    if not hits:
        return CountryList((), "\n".join(lines[:3]))
    first, last = hits[0], hits[-1]
    # An unreadable entry at either end of the list still belongs to it: extend the list over
    # entry-shaped lines that are not headings.
    while first > 0 and all(_edge_entry(e.text, reader) for e in read[first - 1]):
        first -= 1
    while last + 1 < len(read) and all(_edge_entry(e.text, reader) for e in read[last + 1]):
        last += 1
    entries: list[Entry] = []
    for entries_of_line in read[first : last + 1]:
        for e in entries_of_line:
            if e.code or _looks_like_entry(e.text):
                entries.append(e)
    intro = "\n".join(lines[max(0, first - 3) : first])
    return CountryList(tuple(entries), intro)


def compare_lists(before: CountryList, after: CountryList) -> CountryListChange:
    """Return the places added, removed, newly excluded and readmitted, and new unread entries."""
    old_unread = set(before.unresolved)
    return CountryListChange(
        added=sorted(after.members - before.members),
        removed=sorted(before.members - after.members),
        excluded=sorted(after.excluded - before.excluded),
        readmitted=sorted((before.excluded - after.excluded) - (before.members - after.members)),
        unresolved=[u for u in after.unresolved if u not in old_unread],
    )


def describe_unresolved(entries: Iterable[str]) -> str:
    """Return e.g. "1 entry I could not read as a place: 'Ukraine (with certain exceptions)'"."""
    items = list(entries)
    if not items:
        return ""
    one = len(items) == 1
    shown = ", ".join(f"'{e}'" for e in items[:10]) + (", …" if len(items) > 10 else "")
    return f"{len(items)} {'entry' if one else 'entries'} I could not read as a place: {shown}"
