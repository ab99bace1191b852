"""Source kinds: one registry entry per kind, from which the command line's choices, the checks on
a new source, the reading of a fetched body and the polling all follow.

A policy source (a Federal Register search, a feed, a web page, a JSON document) is read into a
snapshot; a restricted-party list file is parsed into entries and stored as list versions; the
rule table is the bot's own and never fetched: its revisions are its changes. A new kind is one
entry here (and its reader or parser).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.domain.errors import BotError
from bot.domain.screening.entries import ParsedList
from bot.domain.screening.parsers.common import ListFormatError
from bot.domain.screening.parsers.csl import parse_csl
from bot.domain.screening.parsers.eu import parse_eu_fsf
from bot.domain.screening.parsers.ofac import parse_ofac_sdn
from bot.domain.screening.parsers.opensanctions import parse_opensanctions
from bot.domain.screening.parsers.uk import parse_uk_sanctions
from bot.domain.screening.parsers.un import parse_un_sc
from bot.domain.tracking.html_limits import ParseLimits
from bot.domain.tracking.pages import check_css
from bot.domain.tracking.readers import (
    check_jmespath,
    read_federal_register,
    read_feed,
    read_json,
    read_webpage,
)
from bot.domain.tracking.snapshots import Snapshot, SourceError, SourceSpec

Reader = Callable[[SourceSpec, bytes, ParseLimits], Snapshot]


class ListParser(Protocol):
    """Parses a restricted-party list file (OFAC's with its alt.csv and add.csv companions)."""

    def __call__(
        self, body: bytes, *, alt: bytes | None = None, add: bytes | None = None
    ) -> ParsedList: ...


def _one_file(parse: Callable[[bytes], ParsedList]) -> ListParser:
    """Return a list parser for a kind that has no companion files (`parse_list` refuses them)."""

    def run(body: bytes, *, alt: bytes | None = None, add: bytes | None = None) -> ParsedList:
        return parse(body)

    return run


@dataclass(frozen=True)
class Selector:
    """What a source's selector means for its kind, and the check a new one must pass."""

    what: str
    check: Callable[[str], None]  # raises `SourceError` saying what is wrong


CSS = Selector("CSS selector", check_css)
JMESPATH = Selector("JMESPath expression", check_jmespath)


@dataclass(frozen=True)
class SourceKind:
    """One kind of source and everything the bot does differently for it."""

    name: str
    label: str  # for people; a restricted-party list's default name
    read: Reader | None = None  # a fetched body to a snapshot (policy sources)
    parse_list: ListParser | None = None  # a list file to its entries (restricted-party lists)
    companions: bool = False  # the list comes with alt.csv and add.csv (OFAC's legacy CSV set)
    items: tuple[str, str] | None = None  # new items are the changes: (one, many); else a text diff
    html: bool = False  # the body must be an HTML page (error and challenge pages are refused)
    selector: Selector | None = None  # what `--selector` means; None: the kind takes none
    country_list: bool = False  # may be marked a country list of a group
    own_links: bool = False  # the URL is an API's: a change links to its items, never to it
    size: Literal["page", "list"] = "page"  # which fetch limits apply: list files are far larger
    dataset: str | None = None  # the OpenSanctions dataset that mirrors this list

    @property
    def polled(self) -> bool:
        """Whether the scheduler fetches it (the rule table is never fetched)."""
        return self.read is not None or self.parse_list is not None

    @property
    def restricted_party_list(self) -> bool:
        """Whether a fetch is a list version to screen against rather than a snapshot."""
        return self.parse_list is not None


def _list(
    name: str, label: str, parse: ListParser, *, companions: bool = False, dataset: str = ""
) -> SourceKind:
    return SourceKind(
        name, label, parse_list=parse, companions=companions, size="list", dataset=dataset or None
    )


OPENSANCTIONS = _list("opensanctions", "OpenSanctions", _one_file(parse_opensanctions))
KINDS: tuple[SourceKind, ...] = (
    SourceKind(
        "federal_register",
        "Federal Register documents API",
        read=read_federal_register,
        items=("document", "documents"),
        own_links=True,
    ),
    SourceKind("feed", "RSS or Atom feed", read=read_feed, items=("entry", "entries")),
    SourceKind(
        "webpage", "web page", read=read_webpage, html=True, selector=CSS, country_list=True
    ),
    SourceKind("json", "JSON document", read=read_json, selector=JMESPATH, country_list=True),
    _list("ofac_sdn", "OFAC SDN", parse_ofac_sdn, companions=True, dataset="us_ofac_sdn"),
    _list("csl", "US CSL", _one_file(parse_csl), dataset="us_trade_csl"),
    _list("eu_fsf", "EU Financial Sanctions", _one_file(parse_eu_fsf)),
    _list("uk_sanctions", "UK Sanctions List", _one_file(parse_uk_sanctions)),
    _list("un_sc", "UN SC Consolidated", _one_file(parse_un_sc)),
    OPENSANCTIONS,
    SourceKind("rule_table", "the rule table's own revisions"),
)
BY_NAME = {k.name: k for k in KINDS}
KIND_NAMES = tuple(BY_NAME)
LIST_KIND_NAMES = tuple(k.name for k in KINDS if k.restricted_party_list)
POLLED_KIND_NAMES = tuple(k.name for k in KINDS if k.polled)
INTERNAL_KIND_NAMES = tuple(k.name for k in KINDS if not k.polled)  # the rule table


class UnknownKind(BotError):
    """A source kind the registry does not hold."""

    code = "unknown_kind"


def kind_named(name: str) -> SourceKind:
    """Return the kind called `name`; raise `UnknownKind` listing the registry's names."""
    kind = BY_NAME.get(name)
    if kind is None:
        raise UnknownKind(f"Unknown source kind '{name}'. Use one of: {', '.join(KIND_NAMES)}.")
    return kind


def is_polled(name: str) -> bool:
    """Whether sources of this kind are fetched (False for the rule table and unknown kinds)."""
    kind = BY_NAME.get(name)
    return kind is not None and kind.polled


def list_kind_of_dataset(dataset: str) -> str | None:
    """Return the list kind an OpenSanctions dataset mirrors, if any."""
    return next((k.name for k in KINDS if k.dataset is not None and k.dataset == dataset), None)


def parse_list(
    kind: str, body: bytes, *, alt: bytes | None = None, add: bytes | None = None
) -> ParsedList:
    """Parse a list file of the given kind; raise `ListFormatError` with what is wrong and where."""
    entry = BY_NAME.get(kind)
    if entry is None or entry.parse_list is None:
        raise ListFormatError(f"unknown list kind '{kind}' (use {', '.join(LIST_KIND_NAMES)})")
    if (alt is not None or add is not None) and not entry.companions:
        with_companions = ", ".join(k.name for k in KINDS if k.companions)
        raise ListFormatError(f"--alt and --add belong to {with_companions}, not {kind}")
    return entry.parse_list(body, alt=alt, add=add)


def check_source(
    *, name: str, kind: str, url: str, selector: str | None, country_list: bool
) -> SourceKind:
    """Return the kind of a new source after checking what its kind asks of it; raise `BotError`
    naming the source and what is wrong."""
    found = BY_NAME.get(kind)
    if found is None:
        raise UnknownKind(
            f"Source '{name}': unknown kind '{kind}'. Use one of: {', '.join(KIND_NAMES)}."
        )
    if found.polled and not url.startswith(("http://", "https://")):
        raise BotError(f"The URL must start with http:// or https:// (got '{url}').")
    if country_list and not found.country_list:
        kinds = " and ".join(k.name for k in KINDS if k.country_list)
        raise BotError(f"Only {kinds} sources can be country lists.")
    if selector:
        if found.selector is None:
            raise BotError(f"Source '{name}': a {kind} source takes no selector.")
        try:
            found.selector.check(selector)
        except SourceError as exc:
            raise BotError(f"Source '{name}': {exc}.") from None
    return found
