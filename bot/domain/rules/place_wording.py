"""Place conditions in words, with group names: "outside Supported regions", "EU except DE"."""

from __future__ import annotations

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.conditions import PlaceSpec
from bot.domain.rules.table import RuleTable


def describe_places(spec: PlaceSpec, table: RuleTable, catalog: PlaceCatalog) -> str:
    """Name a place condition for people, using group names ("outside Supported regions")."""

    def names(refs: tuple[str, ...]) -> str:
        out = []
        for ref in refs:
            group = table.groups.get(ref[len("group:") :]) if ref.startswith("group:") else None
            out.append(group.name if group else catalog.label(ref))
        return ", ".join(out)

    if spec.in_ is None:
        return f"outside {names(spec.not_in)}"
    if not spec.not_in:
        return names(spec.in_)
    return f"{names(spec.in_)} except {names(spec.not_in)}"
