"""The rule table as plain values: groups, vendors, models, customers, rules and licenses.

Each entity has the same shape as in a rule-table file (version 1), so `to_dict` and `from_dict`
round-trip exactly: export, then import, gives the same table. Nothing here validates; the file
loader in `bot.domain.rules.files` does that and reports line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Effect = Literal["allow", "review", "license_required", "deny"]
EFFECTS: tuple[Effect, ...] = ("allow", "review", "license_required", "deny")
ACCESS_KINDS = ("api", "weights", "hosted")
ListedParty = Literal["customer", "owners", "either"]
LISTED_PARTIES: tuple[ListedParty, ...] = ("customer", "owners", "either")
PartyType = Literal["org", "person"]
PARTY_TYPES: tuple[PartyType, ...] = ("org", "person")
KINDS = ("vendors", "groups", "models", "customers", "rules", "licenses")


def _opt_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose value says nothing, so exports stay as short as the files people write."""
    return {k: v for k, v in data.items() if v not in (None, (), [], {}, False) or k in _KEEP}


_KEEP = {"open_weights", "multimodal"}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Vendor:
    """A model vendor."""

    id: str
    name: str = ""
    hq: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return _drop_empty({"id": self.id, "name": self.name, "hq": self.hq})

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
        return _drop_empty(
            {
                "from": _iso(self.start),
                "to": _iso(self.end),
                "members": list(self.members),
                "citation": self.citation,
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupVersion:
        """Build from the file form."""
        return cls(
            _opt_date(d.get("from")),
            _opt_date(d.get("to")),
            _tuple(d.get("members")),
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
        return _drop_empty(
            {
                "id": self.id,
                "name": self.name,
                "members": list(self.members),
                "except": list(self.except_),
                "citation": self.citation,
                "url": self.url,
                "effective_from": _iso(self.effective_from),
                "effective_to": _iso(self.effective_to),
                "unverified": self.unverified,
                "notes": self.notes,
                "versions": [v.to_dict() for v in self.versions],
                "known_from": _iso(self.known_from),
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Group:
        """Build from the file form."""
        return cls(
            str(d["id"]),
            str(d.get("name") or d["id"]),
            _tuple(d.get("members")),
            d.get("citation"),
            d.get("url"),
            _opt_date(d.get("effective_from")),
            _opt_date(d.get("effective_to")),
            bool(d.get("unverified")),
            d.get("notes"),
            _tuple(d.get("except")),
            tuple(GroupVersion.from_dict(v) for v in d.get("versions") or ()),
            _opt_date(d.get("known_from")),
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
        return _drop_empty(
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
                "released": _iso(self.released),
                "license": self.license,
                "unverified": self.unverified,
                "retired": _iso(self.retired),
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
            _tuple(d.get("tags")),
            _tuple(d.get("aliases")),
            _tuple(d.get("api_ids")),
            _tuple(d.get("cloud_ids")),
            _opt_date(d.get("released")),
            d.get("license"),
            bool(d.get("unverified")),
            _opt_date(d.get("retired")),
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
        return _drop_empty(
            {
                "id": self.id,
                "name": self.name,
                "type": None if self.type == "org" else self.type,
                "aliases": list(self.aliases),
                "hq": self.hq,
                "tags": list(self.tags),
                "owners": [{"owner": o.owner, "share": _num(o.share)} for o in self.owners],
                "uses": [
                    _drop_empty(
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
            _tuple(d.get("aliases")),
            _tuple(d.get("tags")),
            tuple(Owner(str(o["owner"]), float(o["share"])) for o in d.get("owners") or ()),
            tuple(
                Usage(str(u["model"]), str(u["country"]).upper(), str(u.get("access") or "api"))
                for u in d.get("uses") or ()
            ),
            "person" if d.get("type") == "person" else "org",
        )


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class ModelSelector:
    """Which models a rule or license covers; an empty selector covers every model."""

    ids: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    open_weights: bool | None = None

    def matches(self, model: ModelInfo) -> bool:
        """Return whether every stated field holds for the model."""
        return (
            (not self.ids or model.id in self.ids)
            and (not self.families or model.family in self.families)
            and (not self.vendors or model.vendor in self.vendors)
            and (not self.tags or any(t in model.tags for t in self.tags))
            and (self.open_weights is None or model.open_weights == self.open_weights)
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        data: dict[str, Any] = _drop_empty(
            {
                "ids": list(self.ids),
                "families": list(self.families),
                "vendors": list(self.vendors),
                "tags": list(self.tags),
            }
        )
        if self.open_weights is not None:
            data["open_weights"] = self.open_weights
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ModelSelector | None:
        """Build from the file form."""
        if d is None:
            return None
        ow = d.get("open_weights")
        return cls(
            _tuple(d.get("ids")),
            _tuple(d.get("families")),
            _tuple(d.get("vendors")),
            _tuple(d.get("tags")),
            None if ow is None else bool(ow),
        )


@dataclass(frozen=True)
class PlaceSpec:
    """Places as written: `in` and `not_in` lists of codes and `group:ID` references."""

    in_: tuple[str, ...] | None = None
    not_in: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        data: dict[str, Any] = {}
        if self.in_ is not None:
            data["in"] = list(self.in_)
        if self.not_in:
            data["not_in"] = list(self.not_in)
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> PlaceSpec | None:
        """Build from the file form."""
        if d is None:
            return None
        return cls(_tuple(d["in"]) if "in" in d else None, _tuple(d.get("not_in")))


@dataclass(frozen=True)
class ControlSpec:
    """`controlled_from`: control from a place set above (or at) a percentage threshold."""

    places: PlaceSpec
    threshold: float = 50.0
    inclusive: bool = False  # True for `at_least`, False for `more_than`

    def describe(self) -> str:
        """Return the threshold as words, e.g. "more than 50%"."""
        word = "at least" if self.inclusive else "more than"
        return f"{word} {_num(self.threshold)}%"

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        key = "at_least" if self.inclusive else "more_than"
        return {**self.places.to_dict(), key: _num(self.threshold)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ControlSpec | None:
        """Build from the file form."""
        if d is None:
            return None
        places = PlaceSpec.from_dict({k: v for k, v in d.items() if k in ("in", "not_in")})
        assert places is not None
        if "at_least" in d:
            return cls(places, float(d["at_least"]), True)
        return cls(places, float(d.get("more_than", 50)), False)


@dataclass(frozen=True)
class CustomerSpec:
    """Conditions on the customer: headquarters, tags and control."""

    hq_in: tuple[str, ...] | None = None
    hq_not_in: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    controlled_from: ControlSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        data: dict[str, Any] = {}
        if self.hq_in is not None:
            data["hq_in"] = list(self.hq_in)
        if self.hq_not_in:
            data["hq_not_in"] = list(self.hq_not_in)
        if self.tags:
            data["tags"] = list(self.tags)
        if self.controlled_from:
            data["controlled_from"] = self.controlled_from.to_dict()
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> CustomerSpec | None:
        """Build from the file form."""
        if d is None:
            return None
        return cls(
            _tuple(d["hq_in"]) if "hq_in" in d else None,
            _tuple(d.get("hq_not_in")),
            _tuple(d.get("tags")),
            ControlSpec.from_dict(d.get("controlled_from")),
        )


@dataclass(frozen=True)
class ListedSpec:
    """`listed`: the customer, or owners holding 50% or more of it, is on one of these lists.

    `lists` are list codes (SDN, EL, FSE... see `bot.domain.rules.listed`); `programs`, when
    given, narrow them to entries under any of those programs. `owners` is the aggregate,
    direct or indirect ownership test of OFAC's 50 Percent Rule (and BIS's Affiliates Rule).
    """

    lists: tuple[str, ...]
    programs: tuple[str, ...] = ()
    party: ListedParty = "customer"

    def covers(self, code: str, programs: tuple[str, ...]) -> bool:
        """Return whether an entry of this list and programs is one the condition names."""
        return code in self.lists and (
            not self.programs or bool(set(programs) & set(self.programs))
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        return _drop_empty(
            {
                "lists": list(self.lists),
                "programs": list(self.programs),
                "party": None if self.party == "customer" else self.party,
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ListedSpec | None:
        """Build from the file form."""
        if d is None:
            return None
        party = d.get("party") or "customer"
        return cls(
            _tuple(d.get("lists")),
            _tuple(d.get("programs")),
            party if party in LISTED_PARTIES else "customer",
        )


@dataclass(frozen=True)
class Rule:
    """One rule: an effect, the conditions under which it applies, and its source."""

    id: str
    effect: Effect
    title: str
    models: ModelSelector | None = None
    places: PlaceSpec | None = None
    customer: CustomerSpec | None = None
    access: tuple[str, ...] | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    citation: str = ""
    url: str = ""
    explanation: str = ""
    unverified: bool = False
    everywhere: bool = False  # said explicitly: the rule has no conditions on purpose
    listed: ListedSpec | None = None  # restricted-party list membership

    def in_force(self, on: date) -> bool:
        """Return whether the rule applies on this date (both ends inclusive)."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        data: dict[str, Any] = {"id": self.id, "effect": self.effect, "title": self.title}
        if self.models is not None:
            data["models"] = self.models.to_dict()
        if self.places is not None:
            data["places"] = self.places.to_dict()
        if self.customer is not None:
            data["customer"] = self.customer.to_dict()
        if self.access is not None:
            data["access"] = list(self.access)
        if self.listed is not None:
            data["listed"] = self.listed.to_dict()
        data.update(
            _drop_empty(
                {
                    "effective_from": _iso(self.effective_from),
                    "effective_to": _iso(self.effective_to),
                    "citation": self.citation,
                    "url": self.url,
                    "explanation": self.explanation,
                    "unverified": self.unverified,
                    "everywhere": self.everywhere,
                }
            )
        )
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rule:
        """Build from the file form."""
        return cls(
            str(d["id"]),
            d["effect"],
            str(d.get("title") or d["id"]),
            ModelSelector.from_dict(d.get("models")),
            PlaceSpec.from_dict(d.get("places")),
            CustomerSpec.from_dict(d.get("customer")),
            _tuple(d["access"]) if d.get("access") is not None else None,
            _opt_date(d.get("effective_from")),
            _opt_date(d.get("effective_to")),
            str(d.get("citation") or ""),
            str(d.get("url") or ""),
            str(d.get("explanation") or ""),
            bool(d.get("unverified")),
            everywhere=bool(d.get("everywhere")),
            listed=ListedSpec.from_dict(d.get("listed")),
        )


@dataclass(frozen=True)
class License:
    """A license: lets `customer` pass the named `license_required` rules within its scope."""

    id: str
    customer: str
    rules: tuple[str, ...]
    models: ModelSelector | None = None
    places: tuple[str, ...] | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    reference: str | None = None

    def valid_on(self, on: date) -> bool:
        """Return whether the license is valid on this date (both ends inclusive)."""
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        data: dict[str, Any] = {"id": self.id, "customer": self.customer, "rules": list(self.rules)}
        if self.models is not None:
            data["models"] = self.models.to_dict()
        if self.places is not None:
            data["places"] = list(self.places)
        data.update(
            _drop_empty(
                {
                    "valid_from": _iso(self.valid_from),
                    "valid_to": _iso(self.valid_to),
                    "reference": self.reference,
                }
            )
        )
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> License:
        """Build from the file form."""
        return cls(
            str(d["id"]),
            str(d["customer"]),
            _tuple(d.get("rules")),
            ModelSelector.from_dict(d.get("models")),
            _tuple(d["places"]) if d.get("places") is not None else None,
            _opt_date(d.get("valid_from")),
            _opt_date(d.get("valid_to")),
            d.get("reference"),
        )


Entity = Vendor | Group | ModelInfo | Customer | Rule | License
ENTITY_TYPES: dict[str, Any] = {
    "vendors": Vendor,
    "groups": Group,
    "models": ModelInfo,
    "customers": Customer,
    "rules": Rule,
    "licenses": License,
}


@dataclass
class RuleTable:
    """A whole rule table at one revision."""

    vendors: dict[str, Vendor] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    models: dict[str, ModelInfo] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    licenses: dict[str, License] = field(default_factory=dict)
    revision: int = 0

    def section(self, kind: str) -> dict[str, Any]:
        """Return the entities of one kind by id."""
        section: dict[str, Any] = getattr(self, kind)
        return section

    def vendor_ids(self) -> set[str]:
        """Return every vendor id, declared or used by a model."""
        return set(self.vendors) | {m.vendor for m in self.models.values()}

    def to_dict(self) -> dict[str, Any]:
        """Return the whole table in file form."""
        data: dict[str, Any] = {"version": 1}
        for kind in KINDS:
            items = self.section(kind)
            if items:
                data[kind] = [items[k].to_dict() for k in sorted(items)]
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any], revision: int = 0) -> RuleTable:
        """Build from the file form (already validated)."""
        table = cls(revision=revision)
        for kind in KINDS:
            section = table.section(kind)
            for item in d.get(kind) or ():
                entity = ENTITY_TYPES[kind].from_dict(item)
                section[entity.id] = entity
        return table
