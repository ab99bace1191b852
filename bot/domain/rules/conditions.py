"""What a rule or license states about models, places and customers, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.domain.rules.entities import ModelInfo
from bot.domain.rules.file_form import drop_empty, num, str_tuple

ListedParty = Literal["customer", "owners", "either"]
LISTED_PARTIES: tuple[ListedParty, ...] = ("customer", "owners", "either")


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
        data: dict[str, Any] = drop_empty(
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
            str_tuple(d.get("ids")),
            str_tuple(d.get("families")),
            str_tuple(d.get("vendors")),
            str_tuple(d.get("tags")),
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
        return cls(str_tuple(d["in"]) if "in" in d else None, str_tuple(d.get("not_in")))


@dataclass(frozen=True)
class ControlSpec:
    """`controlled_from`: control from a place set above (or at) a percentage threshold."""

    places: PlaceSpec
    threshold: float = 50.0
    inclusive: bool = False  # True for `at_least`, False for `more_than`

    def describe(self) -> str:
        """Return the threshold as words, e.g. "more than 50%"."""
        word = "at least" if self.inclusive else "more than"
        return f"{word} {num(self.threshold)}%"

    def to_dict(self) -> dict[str, Any]:
        """Return the file form."""
        key = "at_least" if self.inclusive else "more_than"
        return {**self.places.to_dict(), key: num(self.threshold)}

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
            str_tuple(d["hq_in"]) if "hq_in" in d else None,
            str_tuple(d.get("hq_not_in")),
            str_tuple(d.get("tags")),
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
        return drop_empty(
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
            str_tuple(d.get("lists")),
            str_tuple(d.get("programs")),
            party if party in LISTED_PARTIES else "customer",
        )
