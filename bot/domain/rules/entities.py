"""The rule table's entities as plain values: vendors, groups, models and customers.

Each has the same shape as in a rule-table file (version 1), so `to_dict` and `from_dict`
round-trip exactly. Nothing here validates; `bot.domain.rules.schema` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.domain.rules.file_form import drop_empty, iso, num, opt_date, str_tuple

PartyType = Literal["org", "person"]
PARTY_TYPES: tuple[PartyType, ...] = ("org", "person")


@dataclass(frozen=True)
class Vendor:
    """A model vendor."""

    id: str
    name: str = ""
    hq: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return drop_empty({"id": self.id, "name": self.name, "hq": self.hq})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vendor:
        """Build from the file form."""
        return cls(str(d["id"]), str(d.get("name") or d["id"]), d.get("hq"))


@dataclass(frozen=True)
class GroupVersion:
    """The members a group had from one date to another (both inclusive; None = open)."""

    start: date | None
    end: date | None
    members: tuple[str, ...]
    citation: str | None = None

    def in_force(self, on: date) -> bool:
        """Return whether this version is the group's contents on the date."""
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return drop_empty(
            {
                "from": iso(self.start),
                "to": iso(self.end),
                "members": list(self.members),
                "citation": self.citation,
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupVersion:
        """Build from the file form."""
        return cls(
            opt_date(d.get("from")),
            opt_date(d.get("to")),
            str_tuple(d.get("members")),
            d.get("citation"),
        )


@dataclass(frozen=True)
class Group:
    """A named set of places (codes or `group:ID` references) with its source and dates.

    `versions` hold dated member lists: on a date one of them covers, rules read its members
    instead of `members`. Before `known_from` the group's contents are not known, and rules that
    read it can at most give `review`.
    """

    id: str
    name: str
    members: tuple[str, ...]
    citation: str | None = None
    url: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    unverified: bool = False
    notes: str | None = None
    # Places inside the members that the group leaves out ("Ukraine except Crimea"): file `except`.
    except_: tuple[str, ...] = ()
    versions: tuple[GroupVersion, ...] = ()
    known_from: date | None = None

    def members_on(self, on: date) -> tuple[str, ...]:
        """Return the members in force on the date: its version's, else `members`."""
        for version in self.versions:
            if version.in_force(on):
                return version.members
        return self.members

    def is_dated(self) -> bool:
        """Return whether what the group holds depends on the date."""
        return bool(self.versions) or self.known_from is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return drop_empty(
            {
                "id": self.id,
                "name": self.name,
                "members": list(self.members),
                "except": list(self.except_),
                "citation": self.citation,
                "url": self.url,
                "effective_from": iso(self.effective_from),
                "effective_to": iso(self.effective_to),
                "unverified": self.unverified,
                "notes": self.notes,
                "versions": [v.to_dict() for v in self.versions],
                "known_from": iso(self.known_from),
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Group:
        """Build from the file form."""
        return cls(
            str(d["id"]),
            str(d.get("name") or d["id"]),
            str_tuple(d.get("members")),
            d.get("citation"),
            d.get("url"),
            opt_date(d.get("effective_from")),
            opt_date(d.get("effective_to")),
            bool(d.get("unverified")),
            d.get("notes"),
            str_tuple(d.get("except")),
            tuple(GroupVersion.from_dict(v) for v in d.get("versions") or ()),
            opt_date(d.get("known_from")),
        )


@dataclass(frozen=True)
class ModelInfo:
    """A model with every identifier it is known by."""

    id: str
    name: str
    vendor: str
    family: str
    open_weights: bool = False
    multimodal: bool = False
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    api_ids: tuple[str, ...] = ()
    cloud_ids: tuple[str, ...] = ()
    released: date | None = None
    license: str | None = None
    unverified: bool = False
    retired: date | None = None

    def identifiers(self) -> tuple[str, ...]:
        """Return every string this model may be called by."""
        return (self.id, self.name, *self.aliases, *self.api_ids, *self.cloud_ids)

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return drop_empty(
            {
                "id": self.id,
                "name": self.name,
                "vendor": self.vendor,
                "family": self.family,
                "open_weights": self.open_weights,
                "multimodal": self.multimodal,
                "tags": list(self.tags),
                "aliases": list(self.aliases),
                "api_ids": list(self.api_ids),
                "cloud_ids": list(self.cloud_ids),
                "released": iso(self.released),
                "license": self.license,
                "unverified": self.unverified,
                "retired": iso(self.retired),
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelInfo:
        """Build from the file form."""
        return cls(
            str(d["id"]),
            str(d.get("name") or d["id"]),
            str(d["vendor"]),
            str(d.get("family") or d["vendor"]),
            bool(d.get("open_weights")),
            bool(d.get("multimodal")),
            str_tuple(d.get("tags")),
            str_tuple(d.get("aliases")),
            str_tuple(d.get("api_ids")),
            str_tuple(d.get("cloud_ids")),
            opt_date(d.get("released")),
            d.get("license"),
            bool(d.get("unverified")),
            opt_date(d.get("retired")),
        )


@dataclass(frozen=True)
class Owner:
    """An ownership edge: `owner` holds `share` percent of the owned customer."""

    owner: str
    share: float


@dataclass(frozen=True)
class Usage:
    """A recorded use: the customer uses `model` in `country`."""

    model: str
    country: str
    access: str = "api"


@dataclass(frozen=True)
class Customer:
    """A registered customer."""

    id: str
    name: str
    hq: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    owners: tuple[Owner, ...] = ()
    uses: tuple[Usage, ...] = ()
    type: PartyType = "org"  # screening tells people from organizations

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return drop_empty(
            {
                "id": self.id,
                "name": self.name,
                "type": None if self.type == "org" else self.type,
                "aliases": list(self.aliases),
                "hq": self.hq,
                "tags": list(self.tags),
                "owners": [{"owner": o.owner, "share": num(o.share)} for o in self.owners],
                "uses": [
                    drop_empty(
                        {
                            "model": u.model,
                            "country": u.country,
                            "access": None if u.access == "api" else u.access,
                        }
                    )
                    for u in self.uses
                ],
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Customer:
        """Build from the file form."""
        return cls(
            str(d["id"]),
            str(d.get("name") or d["id"]),
            str(d["hq"]).upper(),
            str_tuple(d.get("aliases")),
            str_tuple(d.get("tags")),
            tuple(Owner(str(o["owner"]), float(o["share"])) for o in d.get("owners") or ()),
            tuple(
                Usage(str(u["model"]), str(u["country"]).upper(), str(u.get("access") or "api"))
                for u in d.get("uses") or ()
            ),
            "person" if d.get("type") == "person" else "org",
        )
