"""The UK Sanctions List (FCDO), XML form: `<Designations><Designation>…`."""

from __future__ import annotations

from bot.domain.screening.countries import country_code, country_codes
from bot.domain.screening.entries import Address, Alias, Entry, ParsedList
from bot.domain.screening.parsers.common import (
    ListFormatError,
    check_count,
    child,
    children,
    descendants,
    local,
    parse_xml,
    text_of,
)

URL = "https://www.gov.uk/government/publications/the-uk-sanctions-list"
_TYPES = {"individual": "person", "entity": "org", "ship": "vessel"}


def _full_name(name_elem: object) -> str:
    parts = [text_of(name_elem, f"Name{i}") for i in (1, 2, 3, 4, 5, 6)]  # type: ignore[arg-type]
    # Name6 is the family or entity name; Name1..5 the given names.
    return (
        " ".join(p for p in parts[:5] if p)
        + (" " if any(parts[:5]) and parts[5] else "")
        + parts[5]
    )


def parse_uk_sanctions(body: bytes) -> ParsedList:
    """Parse the UK Sanctions List XML."""
    root = parse_xml(body, "UK sanctions XML")
    if local(root.tag) != "Designations":
        raise ListFormatError(
            f"UK sanctions XML: root is <{local(root.tag)}>, expected <Designations>"
        )
    entries = []
    for d in children(root, "Designation"):
        names = child(d, "Names")
        primary = ""
        aliases: list[Alias] = []
        for n in children(names, "Name") if names is not None else ():
            full = _full_name(n).strip()
            if not full:
                continue
            if text_of(n, "NameType").lower() == "primary name" and not primary:
                primary = full
            else:
                aliases.append(Alias(full, weak=text_of(n, "AliasStrength").lower() == "weak"))
        aliases += [Alias(text_of(v)) for v in descendants(d, "NameNonLatinScript") if text_of(v)]
        if not primary and aliases:
            primary, aliases = aliases[0].name, aliases[1:]
        if not primary:
            continue
        addresses = []
        for a in descendants(d, "Address"):
            lines = [text_of(c) for c in a if text_of(c)]
            addresses.append(Address(", ".join(lines), country_code(text_of(a, "AddressCountry"))))
        nationalities = [text_of(v) for v in descendants(d, "Nationality") if text_of(v)]
        entries.append(
            Entry(
                entry_id=text_of(d, "UniqueID"),
                name=primary,
                type=_TYPES.get(text_of(d, "IndividualEntityShip").lower(), "org"),
                aliases=tuple(aliases),
                programs=(text_of(d, "RegimeName"),) if text_of(d, "RegimeName") else (),
                countries=country_codes([*(a.country for a in addresses), *nationalities]),
                addresses=tuple(addresses),
                start_date=text_of(d, "DateDesignated")[:10] or None,
                url=URL,
                remarks=text_of(d, "OtherInformation") or None,
                extra={"sanctions": text_of(d, "SanctionsImposed")},
            )
        )
    check_count(len(entries), "UK sanctions XML")
    return ParsedList("uk_sanctions", tuple(entries))
