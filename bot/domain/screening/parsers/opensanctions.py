"""OpenSanctions' FollowTheMoney `targets.nested.json` (one target a line).

Licence: OpenSanctions data is free for non-commercial use only; businesses need a data licence
(CC BY-NC 4.0). Never make it a default source for company users.
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain.screening.countries import country_codes
from bot.domain.screening.entries import Address, Alias, Entry, ParsedList
from bot.domain.screening.parsers.common import ListFormatError, check_count, decode

_TYPES = {"Person": "person", "Vessel": "vessel", "Airplane": "aircraft"}
URL = "https://www.opensanctions.org/entities/{}/"


def _values(props: dict[str, Any], key: str) -> list[str]:
    return [str(v) for v in props.get(key) or [] if isinstance(v, str | int | float)]


def _entity(line: str, number: int) -> dict[str, Any]:
    """Read one line as an FtM entity; raise `ListFormatError` when it is not one."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ListFormatError(
            f"targets.nested.json line {number} is not JSON ({exc.msg}); truncated download?"
        ) from exc
    if (
        not isinstance(data, dict)
        or "id" not in data
        or not isinstance(data.get("properties"), dict)
    ):
        raise ListFormatError(f"targets.nested.json line {number} is not an FtM entity")
    return data


def _entry(data: dict[str, Any]) -> Entry | None:
    """Return an entity as a list entry, or None when it has no name."""
    props: dict[str, Any] = data["properties"]
    names = _values(props, "name")
    caption = str(data.get("caption") or (names[0] if names else ""))
    if not caption:
        return None
    sanctions = [
        s.get("properties", {}) for s in props.get("sanctions") or [] if isinstance(s, dict)
    ]
    programs = [p for s in sanctions for p in _values(s, "program")]
    citation = next((a for s in sanctions for a in _values(s, "authority")), None)
    start = min((d for s in sanctions for d in _values(s, "startDate")), default=None)
    addresses = [
        Address(
            str(a.get("caption") or ""),
            next(iter(_values(a.get("properties", {}), "country")), None),
        )
        for a in props.get("addressEntity") or []
        if isinstance(a, dict)
    ]
    aliases = [Alias(n) for n in names if n != caption]
    aliases += [Alias(n) for n in _values(props, "alias")]
    aliases += [Alias(n, "fka") for n in _values(props, "previousName")]
    aliases += [Alias(n, weak=True) for n in _values(props, "weakAlias")]
    countries = [
        c.upper()
        for key in ("country", "jurisdiction", "nationality", "citizenship", "mainCountry")
        for c in _values(props, key)
    ]
    return Entry(
        entry_id=str(data["id"]),
        name=caption,
        type=_TYPES.get(str(data.get("schema")), "org"),
        aliases=tuple(aliases),
        programs=tuple(dict.fromkeys(programs)),
        countries=country_codes([*countries, *(a.country.upper() for a in addresses if a.country)]),
        addresses=tuple(
            Address(a.text, a.country.upper() if a.country else None) for a in addresses
        ),
        start_date=start,
        citation=citation,
        url=URL.format(data["id"]),
        extra={"datasets": data.get("datasets") or []},
    )


def parse_opensanctions(body: bytes) -> ParsedList:
    """Parse `targets.nested.json`: `{"id", "schema", "caption", "properties": {...}}` per line."""
    text = decode(body, "targets.nested.json")
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        entry = _entry(_entity(line, number))
        if entry is not None:
            entries.append(entry)
    check_count(len(entries), "targets.nested.json")
    return ParsedList("opensanctions", tuple(entries))
