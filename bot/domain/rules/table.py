"""The rule table at one revision: its rules, licenses and entities by kind and id.

Every entity has the same shape as in a rule-table file (version 1), so `to_dict` and `from_dict`
round-trip exactly: export, then import, gives the same table. Nothing here validates; the file
loader in `bot.domain.rules.files` does that and reports line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from bot.domain.rules.conditions import CustomerSpec, ListedSpec, ModelSelector, PlaceSpec
from bot.domain.rules.entities import Customer, Group, ModelInfo, Vendor
from bot.domain.rules.file_form import drop_empty, iso, opt_date, str_tuple

Effect = Literal["allow", "review", "license_required", "deny"]
EFFECTS: tuple[Effect, ...] = ("allow", "review", "license_required", "deny")
ACCESS_KINDS = ("api", "weights", "hosted")
KINDS = ("vendors", "groups", "models", "customers", "rules", "licenses")


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
            drop_empty(
                {
                    "effective_from": iso(self.effective_from),
                    "effective_to": iso(self.effective_to),
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
            str_tuple(d["access"]) if d.get("access") is not None else None,
            opt_date(d.get("effective_from")),
            opt_date(d.get("effective_to")),
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
            drop_empty(
                {
                    "valid_from": iso(self.valid_from),
                    "valid_to": iso(self.valid_to),
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
            str_tuple(d.get("rules")),
            ModelSelector.from_dict(d.get("models")),
            str_tuple(d["places"]) if d.get("places") is not None else None,
            opt_date(d.get("valid_from")),
            opt_date(d.get("valid_to")),
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
