"""Checks of references: places, groups, models and vendors that a table entry names must exist."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.conditions import ModelSelector, PlaceSpec
from bot.domain.rules.place_sets import expand_places, group_holes
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import RuleTable

_PLACE_HELP = "use an ISO 3166-1 alpha-2 code such as DE, an ISO 3166-2 code such as UA-43"


def _place_hint(ref: str, places: PlaceCatalog) -> str:
    """Suggest the code for a place written as a name ("Germany", "UK")."""
    match = places.resolve(ref)
    if match.code is not None:
        return f" (did you mean {match.code}?)"
    if match.candidates:
        return f" (did you mean one of {', '.join(match.candidates)}?)"
    return ""


def check_refs(
    refs: Iterable[str], table: RuleTable, places: PlaceCatalog, *, groups: bool = True
) -> list[tuple[int, str, tuple[str, str] | None]]:
    """Return (index, message, missing entity) for every reference that does not resolve."""
    bad: list[tuple[int, str, tuple[str, str] | None]] = []
    for i, ref in enumerate(refs):
        # Customer codes are upper-cased on load, so "GROUP:" is a group reference there too.
        if not groups and ref.lower().startswith("group:"):
            bad.append((i, f"'{ref}' is a group, but this must be one place; {_PLACE_HELP}", None))
        elif ref.startswith("group:"):
            gid = ref[len("group:") :]
            if gid not in table.groups:
                bad.append(
                    (
                        i,
                        f"unknown group '{gid}'{did_you_mean(gid, table.groups)}; "
                        "define it under groups: or fix the id",
                        ("groups", gid),
                    )
                )
        elif ref.upper() not in places and places.ensure_subdivision(ref) is None:
            suffix = ", or group:ID" if groups else ""
            bad.append(
                (i, f"unknown place '{ref}'{_place_hint(ref, places)}; {_PLACE_HELP}{suffix}", None)
            )
    return bad


def _covered(include: frozenset[str], exclude: frozenset[str], places: PlaceCatalog) -> bool:
    """Return whether `exclude` removes every place of `include`."""
    return all(code in exclude or places.parent_of(code) in exclude for code in include)


def never_matches(spec: PlaceSpec, table: RuleTable, places: PlaceCatalog) -> bool:
    """Return whether `not_in` removes every place of `in` (or `in` is empty)."""
    if spec.in_ is None:
        return False
    include = expand_places(spec.in_, table)
    if group_holes(spec.not_in, table):
        return False  # the excluded groups leave places out, which the rule can still match
    return not include or _covered(include, expand_places(spec.not_in, table), places)


def _model_ids(table: RuleTable) -> dict[str, str]:
    """Map every name, alias and API id of a model (lower case) to the model id."""
    return {name.lower(): m.id for m in table.models.values() for name in m.identifiers()}


def selector_problems(
    sel: ModelSelector, table: RuleTable, what: str
) -> list[tuple[str, str, tuple[str, str] | None]]:
    """Return (field, message, missing entity) for what a model selector names wrongly."""
    out: list[tuple[str, str, tuple[str, str] | None]] = []
    # Built only when a selector names families or tags, or an unknown id: a large table checks
    # tens of thousands of rules against the same models.
    families = {m.family for m in table.models.values()} if sel.families else set()
    tags = {t for m in table.models.values() for t in m.tags} if sel.tags else set()
    for i, mid in enumerate(sel.ids):
        if mid in table.models:
            continue
        known = _model_ids(table).get(mid.lower())
        hint = (
            f" ('{mid}' is a name of model '{known}'; use the id)"
            if known
            else did_you_mean(mid, table.models)
        )
        out.append(
            (
                f"models.ids[{i}]",
                f"unknown model '{mid}'{hint}; use a model id from models:",
                ("models", mid),
            )
        )
    out += [
        (
            f"models.families[{i}]",
            f"unknown family '{f}'{did_you_mean(f, families)}; use the family: of a model",
            None,
        )
        for i, f in enumerate(sel.families)
        if f not in families
    ]
    vendors = table.vendor_ids()
    out += [
        (
            f"models.vendors[{i}]",
            f"unknown vendor '{v}'{did_you_mean(v, vendors)}; use a vendor id from vendors:",
            ("vendors", v),
        )
        for i, v in enumerate(sel.vendors)
        if v not in vendors
    ]
    out += [
        (f"models.tags[{i}]", f"no model has the tag '{t}'{did_you_mean(t, tags)}", None)
        for i, t in enumerate(sel.tags)
        if t not in tags
    ]
    if not out and not any(sel.matches(m) for m in table.models.values()):
        out.append(
            (
                "models",
                f"matches no model, so the {what}; check ids, families, vendors, "
                "tags and open_weights together (all of them must hold)",
                None,
            )
        )
    return out
