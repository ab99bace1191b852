"""OFAC SDN: the legacy CSV set (`sdn.csv` with optional `alt.csv` and `add.csv`) and `SDN_ADVANCED.XML`."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from bot.domain.screening.countries import country_code, country_codes
from bot.domain.screening.entries import Address, Alias, Entry, ParsedList
from bot.domain.screening.parsers.common import (
    ListFormatError,
    attr,
    check_count,
    child,
    children,
    decode,
    descendants,
    local,
    parse_xml,
    text_of,
)

DETAILS_URL = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}"
_TYPES = {"individual": "person", "vessel": "vessel", "aircraft": "aircraft", "entity": "org"}
# Remarks' aliases: "a.k.a. 'BNC'", "f.k.a. 'OLD NAME'". OFAC structures these as weak aliases.
_REMARK_ALIAS = re.compile(r"\b([afn])\.k\.a\.,?\s*'(.+?)'(?=\s*(?:[;,.)]|$))", re.IGNORECASE)
_NATIONALITY = re.compile(
    r"\b(?:nationality|citizen)\s+([A-Za-z ,.'-]+?)(?:;|\.$|$)", re.IGNORECASE
)
# An organization's registration or tax number names the country that issued it: "(Russia)".
_REGISTERED = re.compile(
    r"(?:Registration (?:Number|ID)|Tax ID No\.|Company Number|Business Registration Number)"
    r"[^;(]*\(([A-Za-z ,.'-]+)\)",
    re.IGNORECASE,
)


def _null(value: str) -> str:
    value = value.strip()
    return "" if value == "-0-" else value


def _rows(body: bytes, what: str, width: int) -> list[list[str]]:
    text = decode(body, what).rstrip("\x1a \r\n\t")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ListFormatError(f"{what} is not valid CSV ({exc}); truncated download?") from exc
    out = []
    for number, row in enumerate(rows, start=1):
        if not row or (len(row) == 1 and not row[0].strip(" \x1a")):
            continue
        if len(row) != width or not row[0].strip().isdigit():
            raise ListFormatError(
                f"{what} line {number}: expected {width} fields starting with an entry number, "
                f"got {len(row)} ({','.join(row)[:80]!r}); truncated or not an OFAC file"
            )
        out.append([_null(v) for v in row])
    return out


def _remark_aliases(remarks: str) -> list[Alias]:
    return [
        Alias(name.strip(), f"{kind.lower()}ka", weak=True)
        for kind, name in _REMARK_ALIAS.findall(remarks)
    ]


def parse_ofac_sdn(
    body: bytes, *, alt: bytes | None = None, add: bytes | None = None
) -> ParsedList:
    """Parse `sdn.csv` (or `SDN_ADVANCED.XML`), joined with `alt.csv` and `add.csv` when given."""
    if body.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        if alt is not None or add is not None:
            raise ListFormatError("alt.csv and add.csv go with sdn.csv, not with SDN_ADVANCED.XML")
        return parse_sdn_advanced(body)
    sdn = _rows(body, "sdn.csv", 12)
    aliases: dict[str, list[Alias]] = defaultdict(list)
    for row in _rows(alt, "alt.csv", 5) if alt is not None else []:
        aliases[row[0].strip()].append(Alias(row[3], (row[2] or "aka").lower().replace(".", "")))
    addresses: dict[str, list[Address]] = defaultdict(list)
    for row in _rows(add, "add.csv", 6) if add is not None else []:
        text = ", ".join(v for v in (row[2], row[3], row[4]) if v)
        addresses[row[0].strip()].append(Address(text, country_code(row[4])))
    entries = []
    for row in sdn:
        ent_num, name, sdn_type, program, title = row[0].strip(), row[1], row[2], row[3], row[4]
        remarks = row[11]
        own = [*aliases.get(ent_num, []), *_remark_aliases(remarks)]
        adds = tuple(addresses.get(ent_num, []))
        nationalities = [m.strip() for m in _NATIONALITY.findall(remarks)]
        nationalities += [m.strip() for m in _REGISTERED.findall(remarks)]
        entries.append(
            Entry(
                entry_id=ent_num,
                name=name,
                type=_TYPES.get(sdn_type.lower(), "org") if sdn_type else "org",
                aliases=tuple(own),
                programs=tuple(p.strip() for p in program.split("] [") if p.strip()),
                countries=country_codes([a.country for a in adds] + nationalities),
                addresses=adds,
                url=DETAILS_URL.format(ent_num),
                remarks=remarks or None,
                extra={"title": title} if title else {},
            )
        )
    check_count(len(entries), "sdn.csv")
    return ParsedList("ofac_sdn", tuple(entries))


def _reference(root: ET.Element, set_name: str) -> dict[str, ET.Element]:
    sets = child(root, "ReferenceValueSets")
    holder = child(sets, set_name) if sets is not None else None
    return {attr(e, "ID"): e for e in holder} if holder is not None else {}


def _name_of(alias: ET.Element) -> tuple[str, bool]:
    """The Latin-script documented name of an alias, with parts joined in document order."""
    best = ""
    for documented in descendants(alias, "DocumentedName"):
        parts = [text_of(v) for v in descendants(documented, "NamePartValue")]
        latin = all(
            attr(v, "ScriptID") in ("", "215") for v in descendants(documented, "NamePartValue")
        )
        name = " ".join(p for p in parts if p)
        if name and (latin or not best):
            best = name
            if latin:
                break
    return best, attr(alias, "LowQuality").lower() == "true"


def _locations(root: ET.Element, countries: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Each location's ID mapped to its joined address text and country code."""
    locations: dict[str, tuple[str, str | None]] = {}
    for loc in descendants(root, "Location"):
        parts = [text_of(v) for v in descendants(loc, "Value") if text_of(v)]
        cc = None
        for lc in descendants(loc, "LocationCountry"):
            cc = country_code(countries.get(attr(lc, "CountryID"), ""))
        locations[attr(loc, "ID")] = (", ".join(parts), cc)
    return locations


def _programs_and_dates(root: ET.Element) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each profile's sanctions programs and the date of its first dated entry event."""
    programs: dict[str, list[str]] = defaultdict(list)
    dates: dict[str, str] = {}
    for entry in descendants(root, "SanctionsEntry"):
        profile_id = attr(entry, "ProfileID")
        for measure in children(entry, "SanctionsMeasure"):
            comment = text_of(measure, "Comment")
            if comment and attr(measure, "SanctionsTypeID") == "1":
                programs[profile_id].append(comment)
        for event in children(entry, "EntryEvent"):
            date = child(event, "Date")
            if date is not None and profile_id not in dates:
                ymd = [text_of(date, p) for p in ("Year", "Month", "Day")]
                if all(ymd):
                    dates[profile_id] = f"{int(ymd[0]):04d}-{int(ymd[1]):02d}-{int(ymd[2]):02d}"
    return programs, dates


def _profile_names(profile: ET.Element, alias_types: dict[str, str]) -> tuple[str, list[Alias]]:
    """A profile's first primary name and its other names as aliases."""
    primary = ""
    aliases = []
    for identity in children(profile, "Identity"):
        for alias in children(identity, "Alias"):
            name, weak = _name_of(alias)
            if not name:
                continue
            if attr(alias, "Primary").lower() == "true" and not primary:
                primary = name
            else:
                aliases.append(
                    Alias(name, alias_types.get(attr(alias, "AliasTypeID"), "aka"), weak)
                )
    return primary, aliases


def _profile_addresses(
    profile: ET.Element, locations: dict[str, tuple[str, str | None]]
) -> list[Address]:
    """The addresses a profile's version locations point at."""
    adds = []
    for version_location in descendants(profile, "VersionLocation"):
        found = locations.get(attr(version_location, "LocationID"))
        if found is not None:
            adds.append(Address(*found))
    return adds


def parse_sdn_advanced(body: bytes) -> ParsedList:
    """Parse OFAC's `SDN_ADVANCED.XML` (the Sanctions Data Model), resolving its reference values."""
    root = parse_xml(body, "SDN_ADVANCED.XML")
    if local(root.tag) != "Sanctions":
        raise ListFormatError(
            f"SDN_ADVANCED.XML: root is <{local(root.tag)}>, expected <Sanctions>"
        )
    party_types = {k: text_of(v).lower() for k, v in _reference(root, "PartyTypeValues").items()}
    subtypes = {
        k: (text_of(v).lower(), party_types.get(attr(v, "PartyTypeID"), ""))
        for k, v in _reference(root, "PartySubTypeValues").items()
    }
    alias_types = {
        k: text_of(v).lower().replace(".", "")
        for k, v in _reference(root, "AliasTypeValues").items()
    }
    countries = {
        k: attr(v, "ISO2") or text_of(v) for k, v in _reference(root, "CountryValues").items()
    }
    locations = _locations(root, countries)
    programs, dates = _programs_and_dates(root)
    entries = []
    for party in descendants(root, "DistinctParty"):
        profile = child(party, "Profile")
        if profile is None:
            continue
        pid = attr(profile, "ID") or attr(party, "FixedRef")
        sub, ptype = subtypes.get(attr(profile, "PartySubTypeID"), ("", ""))
        kind = (
            sub if sub in ("vessel", "aircraft") else ("person" if ptype == "individual" else "org")
        )
        primary, aliases = _profile_names(profile, alias_types)
        if not primary:
            continue
        adds = _profile_addresses(profile, locations)
        entries.append(
            Entry(
                entry_id=pid,
                name=primary,
                type=kind,
                aliases=tuple(aliases),
                programs=tuple(programs.get(pid, ())),
                countries=tuple(dict.fromkeys(a.country for a in adds if a.country)),
                addresses=tuple(adds),
                start_date=dates.get(pid),
                url=DETAILS_URL.format(pid),
            )
        )
    check_count(len(entries), "SDN_ADVANCED.XML")
    return ParsedList("ofac_sdn", tuple(entries))
