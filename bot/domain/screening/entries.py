"""A restricted-party list as parsed: entries with aliases, addresses, countries, programs and links."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

PARTY_TYPES = ("org", "person", "vessel", "aircraft")


@dataclass(frozen=True)
class Alias:
    """Another name of an entry: `aka`, `fka` or `nka`; a weak alias only ever makes a possible match."""

    name: str
    kind: str = "aka"
    weak: bool = False


@dataclass(frozen=True)
class Address:
    """One address of an entry, as the list writes it, with its ISO country code when known."""

    text: str
    country: str | None = None


@dataclass(frozen=True)
class Entry:
    """One listed party. `entry_id` is the list's own id (OFAC's `ent_num`); `source` a sub-list (CSL's `EL`)."""

    entry_id: str
    name: str
    type: str = "org"
    source: str = ""
    aliases: tuple[Alias, ...] = ()
    programs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    start_date: str | None = None
    end_date: str | None = None
    citation: str | None = None
    url: str | None = None
    remarks: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """Unique key inside a list version: sub-list and the list's id."""
        return f"{self.source}:{self.entry_id}" if self.source else self.entry_id

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the database)."""
        data = asdict(self)
        data.pop("extra")
        return data

    @property
    def fingerprint(self) -> str:
        """A hash of every field, to tell a changed entry from an unchanged one."""
        raw = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def entry_from_json(data: Mapping[str, Any]) -> Entry:
    """Rebuild an entry from `Entry.to_json`."""
    return Entry(
        entry_id=str(data["entry_id"]),
        name=str(data["name"]),
        type=str(data.get("type") or "org"),
        source=str(data.get("source") or ""),
        aliases=tuple(Alias(**a) for a in data.get("aliases") or ()),
        programs=tuple(data.get("programs") or ()),
        countries=tuple(data.get("countries") or ()),
        addresses=tuple(Address(**a) for a in data.get("addresses") or ()),
        start_date=data.get("start_date"),
        end_date=data.get("end_date"),
        citation=data.get("citation"),
        url=data.get("url"),
        remarks=data.get("remarks"),
    )


@dataclass(frozen=True)
class ParsedList:
    """The entries of one download, with the publication date the file states (if any)."""

    kind: str
    entries: tuple[Entry, ...]
    published: str | None = None
