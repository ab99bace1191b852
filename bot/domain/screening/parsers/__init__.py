"""Parsers for restricted-party list files: pure functions from bytes to a `ParsedList`."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.screening.entries import ParsedList
from bot.domain.screening.parsers.common import ListFormatError
from bot.domain.screening.parsers.csl import parse_csl
from bot.domain.screening.parsers.eu import parse_eu_fsf
from bot.domain.screening.parsers.ofac import parse_ofac_sdn
from bot.domain.screening.parsers.opensanctions import parse_opensanctions
from bot.domain.screening.parsers.uk import parse_uk_sanctions
from bot.domain.screening.parsers.un import parse_un_sc

LIST_KINDS = ("ofac_sdn", "csl", "eu_fsf", "uk_sanctions", "un_sc", "opensanctions")
LIST_NAMES = {
    "ofac_sdn": "OFAC SDN",
    "csl": "US CSL",
    "eu_fsf": "EU Financial Sanctions",
    "uk_sanctions": "UK Sanctions List",
    "un_sc": "UN SC Consolidated",
    "opensanctions": "OpenSanctions",
}
_SINGLE: dict[str, Callable[[bytes], ParsedList]] = {
    "csl": parse_csl,
    "eu_fsf": parse_eu_fsf,
    "uk_sanctions": parse_uk_sanctions,
    "un_sc": parse_un_sc,
    "opensanctions": parse_opensanctions,
}

__all__ = ["LIST_KINDS", "LIST_NAMES", "ListFormatError", "parse_list"]


def parse_list(
    kind: str, body: bytes, *, alt: bytes | None = None, add: bytes | None = None
) -> ParsedList:
    """Parse a list file of the given kind; raise `ListFormatError` with what is wrong and where."""
    if kind == "ofac_sdn":
        return parse_ofac_sdn(body, alt=alt, add=add)
    parser = _SINGLE.get(kind)
    if parser is None:
        raise ListFormatError(f"unknown list kind '{kind}' (use {', '.join(LIST_KINDS)})")
    if alt is not None or add is not None:
        raise ListFormatError(f"--alt and --add belong to ofac_sdn, not {kind}")
    return parser(body)
