"""The schema of a version-1 rule-table file: one pydantic model per entity and part of one."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.domain.rules.limits import cut


def _iso_date(value: Any) -> Any:
    """Accept only YYYY-MM-DD (a bare number would otherwise be read as Unix seconds)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = value.strip() if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(
            f"'{cut(str(value))}' is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31"
        )
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"'{cut(str(value))}' is not a real date ({exc}); write it as YYYY-MM-DD"
        ) from None


Code = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$", max_length=200)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class VendorIn(_Strict):
    id: Id
    name: str | None = None
    hq: str | None = None


class GroupVersionIn(_Strict):
    from_: IsoDate | None = Field(default=None, alias="from")
    to: IsoDate | None = None
    members: list[Code]
    citation: str | None = None


class GroupIn(_Strict):
    id: Id
    name: str
    members: list[Code]
    citation: str | None = None
    url: str | None = None
    effective_from: IsoDate | None = None
    effective_to: IsoDate | None = None
    unverified: bool = False
    notes: str | None = None
    except_: list[Code] = Field(default_factory=list, alias="except")
    versions: list[GroupVersionIn] = []
    known_from: IsoDate | None = None


class ModelIn(_Strict):
    id: Id
    name: str
    vendor: str
    family: str
    open_weights: bool = False
    multimodal: bool = False
    tags: list[str] = []
    aliases: list[str] = []
    api_ids: list[str] = []
    cloud_ids: list[str] = []
    released: IsoDate | None = None
    license: str | None = None
    unverified: bool = False
    retired: IsoDate | None = None


class OwnerIn(_Strict):
    owner: Id
    share: float


class UsageIn(_Strict):
    model: str
    country: str
    access: Literal["api", "weights", "hosted"] = "api"


class CustomerIn(_Strict):
    id: Id
    name: str
    type: Literal["org", "person"] = "org"
    hq: str
    aliases: list[str] = []
    tags: list[str] = []
    owners: list[OwnerIn] = []
    uses: list[UsageIn] = []


class ModelSelectorIn(_Strict):
    ids: list[str] = []
    families: list[str] = []
    vendors: list[str] = []
    tags: list[str] = []
    open_weights: bool | None = None


class PlacesIn(_Strict):
    in_: list[Code] | None = Field(default=None, alias="in")
    not_in: list[Code] = []


class ControlIn(_Strict):
    in_: list[Code] | None = Field(default=None, alias="in")
    not_in: list[Code] = []
    more_than: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> ControlIn:
        if self.more_than is not None and self.at_least is not None:
            raise ValueError("give either more_than or at_least, not both")
        if self.in_ is None and not self.not_in:
            raise ValueError("say where control comes from: add in: [...] or not_in: [...]")
        return self


class CustomerCondIn(_Strict):
    hq_in: list[Code] | None = None
    hq_not_in: list[Code] = []
    tags: list[str] = []
    controlled_from: ControlIn | None = None


class ListedIn(_Strict):
    lists: list[Code] = Field(min_length=1)
    programs: list[Code] = []
    party: Literal["customer", "owners", "either"] = "customer"


class RuleIn(_Strict):
    id: Id
    effect: Literal["allow", "review", "license_required", "deny"]
    title: str
    models: ModelSelectorIn | None = None
    places: PlacesIn | None = None
    customer: CustomerCondIn | None = None
    access: list[str] | None = None
    effective_from: IsoDate | None = None
    effective_to: IsoDate | None = None
    citation: str = ""
    url: str = ""
    explanation: str = ""
    unverified: bool = False
    everywhere: bool = False
    listed: ListedIn | None = None


class LicenseIn(_Strict):
    id: Id
    customer: Id
    rules: list[Id] = Field(min_length=1)
    models: ModelSelectorIn | None = None
    places: list[Code] | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    reference: str | None = None


SCHEMAS: dict[str, type[_Strict]] = {
    "vendors": VendorIn,
    "groups": GroupIn,
    "models": ModelIn,
    "customers": CustomerIn,
    "rules": RuleIn,
    "licenses": LicenseIn,
}
