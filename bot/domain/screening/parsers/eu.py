"""The EU's Financial Sanctions Files: the consolidated list as XML (`xmlFullSanctionsList_1_1`)."""

from __future__ import annotations

from bot.domain.screening.countries import country_code, country_codes
from bot.domain.screening.entries import Address, Alias, Entry, ParsedList
from bot.domain.screening.parsers.common import (
    ListFormatError,
    attr,
    check_count,
    children,
    local,
    parse_xml,
)


def parse_eu_fsf(body: bytes) -> ParsedList:
    """Parse `<export><sanctionEntity>…</sanctionEntity></export>`."""
    root = parse_xml(body, "EU sanctions XML")
    if local(root.tag) != "export":
        raise ListFormatError(f"EU sanctions XML: root is <{local(root.tag)}>, expected <export>")
    entries = []
    for entity in children(root, "sanctionEntity"):
        subject = next(children(entity, "subjectType"), None)
        code = attr(subject, "code") if subject is not None else ""
        names = [
            (attr(n, "wholeName"), attr(n, "strong").lower() != "false")
            for n in children(entity, "nameAlias")
            if attr(n, "wholeName")
        ]
        if not names:
            continue
        regulations = list(children(entity, "regulation"))
        programs = tuple(
            dict.fromkeys(attr(r, "programme") for r in regulations if attr(r, "programme"))
        )
        addresses = tuple(
            Address(
                ", ".join(
                    v
                    for v in (attr(a, "street"), attr(a, "city"), attr(a, "countryDescription"))
                    if v
                ),
                country_code(attr(a, "countryIso2Code")),
            )
            for a in children(entity, "address")
        )
        citizenships = [attr(c, "countryIso2Code") for c in children(entity, "citizenship")]
        first = regulations[0] if regulations else None
        entries.append(
            Entry(
                entry_id=attr(entity, "logicalId") or attr(entity, "euReferenceNumber"),
                name=names[0][0],
                type="person" if code == "person" else "org",
                aliases=tuple(Alias(n, weak=not strong) for n, strong in names[1:]),
                programs=programs,
                countries=country_codes([*(a.country for a in addresses), *citizenships]),
                addresses=addresses,
                start_date=attr(entity, "designationDate") or None,
                citation=(attr(first, "numberTitle") or None) if first is not None else None,
                url=(attr(first, "publicationUrl") or None) if first is not None else None,
                extra={"eu_reference": attr(entity, "euReferenceNumber")},
            )
        )
    check_count(len(entries), "EU sanctions XML")
    return ParsedList("eu_fsf", tuple(entries), attr(root, "generationDate") or None)
