"""The UN Security Council Consolidated List (XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.domain.screening.countries import country_code, country_codes
from bot.domain.screening.entries import Address, Alias, Entry, ParsedList
from bot.domain.screening.parsers.common import (
    ListFormatError,
    attr,
    check_count,
    child,
    children,
    local,
    parse_xml,
    text_of,
)

URL = "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list"


def _entry(party: ET.Element, item: str, kind: str) -> Entry | None:
    """Return one INDIVIDUAL or ENTITY as a list entry, or None when it has no name."""
    parts = [text_of(party, p) for p in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not name:
        return None
    aliases = [
        Alias(text_of(a, "ALIAS_NAME"), weak=text_of(a, "QUALITY").lower() == "low")
        for a in children(party, f"{item}_ALIAS")
        if text_of(a, "ALIAS_NAME")
    ]
    original = text_of(party, "NAME_ORIGINAL_SCRIPT")
    if original:
        aliases.append(Alias(original))
    addresses = tuple(
        Address(
            ", ".join(
                v for v in (text_of(a, "STREET"), text_of(a, "CITY"), text_of(a, "COUNTRY")) if v
            ),
            country_code(text_of(a, "COUNTRY")),
        )
        for a in children(party, f"{item}_ADDRESS")
    )
    nationality = child(party, "NATIONALITY")
    nationalities = (
        [text_of(v) for v in children(nationality, "VALUE")] if nationality is not None else []
    )
    return Entry(
        entry_id=text_of(party, "REFERENCE_NUMBER") or text_of(party, "DATAID"),
        name=name,
        type=kind,
        aliases=tuple(aliases),
        programs=(text_of(party, "UN_LIST_TYPE"),) if text_of(party, "UN_LIST_TYPE") else (),
        countries=country_codes([*(a.country for a in addresses), *nationalities]),
        addresses=addresses,
        start_date=text_of(party, "LISTED_ON") or None,
        url=URL,
        remarks=text_of(party, "COMMENTS1") or None,
    )


def parse_un_sc(body: bytes) -> ParsedList:
    """Parse `<CONSOLIDATED_LIST><INDIVIDUALS>…<ENTITIES>…</CONSOLIDATED_LIST>`."""
    root = parse_xml(body, "UN consolidated XML")
    if local(root.tag) != "CONSOLIDATED_LIST":
        raise ListFormatError(
            f"UN consolidated XML: root is <{local(root.tag)}>, expected <CONSOLIDATED_LIST>"
        )
    entries = []
    for group, item, kind in (
        ("INDIVIDUALS", "INDIVIDUAL", "person"),
        ("ENTITIES", "ENTITY", "org"),
    ):
        holder = child(root, group)
        for party in children(holder, item) if holder is not None else ():
            entry = _entry(party, item, kind)
            if entry is not None:
                entries.append(entry)
    check_count(len(entries), "UN consolidated XML")
    return ParsedList("un_sc", tuple(entries), attr(root, "dateGenerated") or None)
