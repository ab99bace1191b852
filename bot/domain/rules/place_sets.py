"""Place sets: place conditions with their groups expanded, as the groups stood on a date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain.rules.conditions import PlaceSpec
from bot.domain.rules.dated_groups import Window, groups_read
from bot.domain.rules.table import RuleTable


@dataclass(frozen=True)
class PlaceSet:
    """An expanded place condition: codes included (None = everywhere) minus codes excluded."""

    include: frozenset[str] | None
    exclude: frozenset[str] = frozenset()
    # Subdivisions of an excluded country that the excluding group leaves out (`except`).
    holes: frozenset[str] = frozenset()

    def contains(self, code: str, parent: str | None) -> bool:
        """Return whether the place (or the country it belongs to) is in the set."""
        if code in self.exclude or (
            parent is not None and parent in self.exclude and code not in self.holes
        ):
            return False
        if self.include is None:
            return True
        return code in self.include or (parent is not None and parent in self.include)


def expand_places(refs: Iterable[str], table: RuleTable, on: date | None = None) -> frozenset[str]:
    """Expand codes and `group:ID` references into place codes (groups may nest).

    With `on`, a group with dated versions gives the members of the version in force that day.
    """
    out: set[str] = set()
    seen: set[str] = set()
    stack = list(refs)
    while stack:
        ref = stack.pop()
        if ref.startswith("group:"):
            gid = ref[len("group:") :]
            if gid in seen:
                continue
            seen.add(gid)
            group = table.groups.get(gid)
            if group is not None:
                stack.extend(group.members if on is None else group.members_on(on))
        else:
            out.add(ref.upper())
    return frozenset(out)


Expanded = dict[tuple[str, ...], frozenset[str]]


def expand_cached(
    refs: tuple[str, ...], table: RuleTable, cache: Expanded | None
) -> frozenset[str]:
    if cache is None:
        return expand_places(refs, table)
    hit = cache.get(refs)
    if hit is None:
        hit = cache[refs] = expand_places(refs, table)
    return hit


def group_holes(refs: Iterable[str], table: RuleTable, on: date | None = None) -> frozenset[str]:
    """Return the places the referenced groups leave out with `except` that nothing else in
    `refs` brings back: no reference names the place, and every reference that reaches its
    country leaves it out too. With `on`, dated groups are read as they stood that day."""
    return frozenset(_combine([_cover(r, frozenset(), table, on) for r in refs])[1])


# Module-level, not nested: a nested recursive function refers to itself through its closure,
# a reference cycle left for the cycle collector each time it is made (once per rule).
def _combine(parts: list[tuple[set[str], set[str]]]) -> tuple[set[str], set[str]]:
    codes = set().union(*(c for c, _ in parts)) if parts else set()
    holes = set()
    for h in set().union(*(hs for _, hs in parts)) if parts else set():
        country = h.split("-")[0]
        if h not in codes and all(h in hs for c, hs in parts if country in c):
            holes.add(h)
    return codes, holes


def _cover(
    ref: str, seen: frozenset[str], table: RuleTable, on: date | None
) -> tuple[set[str], set[str]]:
    if not ref.startswith("group:"):
        return {ref.upper()}, set()
    gid = ref[len("group:") :]
    group = table.groups.get(gid)
    if group is None or gid in seen:
        return set(), set()
    members = group.members if on is None else group.members_on(on)
    codes, holes = _combine([_cover(m, seen | {gid}, table, on) for m in members])
    own = {x.upper() for x in group.except_}
    return codes - own, holes | own


def place_set(
    spec: PlaceSpec | None, table: RuleTable, cache: Expanded | None = None
) -> PlaceSet | None:
    if spec is None:
        return None
    include = None if spec.in_ is None else expand_cached(spec.in_, table, cache)
    exclude = expand_cached(spec.not_in, table, cache)
    if not any(g.except_ for g in table.groups.values()):
        return PlaceSet(include, exclude)
    # A place a group in `in` leaves out is outside the rule; one a group in `not_in` leaves
    # out is not excluded by it.
    left_in = group_holes(spec.in_ or (), table)
    left_out = group_holes(spec.not_in, table)
    return PlaceSet(include, (exclude - left_out) | left_in, left_out - left_in)


def _reads_unknown(refs: tuple[str, ...], table: RuleTable, unknown: frozenset[str]) -> bool:
    return bool(unknown.intersection(groups_read(list(refs), table)))


def window_place_set(spec: PlaceSpec | None, table: RuleTable, window: Window) -> PlaceSet | None:
    """Expand a place condition as the groups stood in the window.

    A list not known in the window could hold any place: an `in` that reads one holds
    everywhere, and a `not_in` that reads one excludes nothing of its own.
    """
    if spec is None:
        return None
    unknown = window.unknown
    include = None
    if spec.in_ is not None and not _reads_unknown(spec.in_, table, unknown):
        include = expand_places(spec.in_, table, window.on)
    kept = tuple(r for r in spec.not_in if not _reads_unknown((r,), table, unknown))
    exclude = expand_places(kept, table, window.on)
    if not any(g.except_ for g in table.groups.values()):
        return PlaceSet(include, exclude)
    # As in `place_set`: what a group leaves out with `except` holds in every window.
    left_in = group_holes(spec.in_ or (), table, window.on) if include is not None else frozenset()
    left_out = group_holes(kept, table, window.on)
    return PlaceSet(include, (exclude - left_out) | left_in, left_out - left_in)
