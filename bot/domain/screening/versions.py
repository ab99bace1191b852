"""List versions: sanity guards on a new download, and the difference between two versions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.domain.screening.entries import Entry

DEFAULT_MAX_REMOVED_SHARE = 0.10


def parts_held(entries: Iterable[Entry]) -> dict[str, int]:
    """How many strong aliases and addresses the entries hold (what companion files bring)."""
    aliases = addresses = 0
    for e in entries:
        aliases += sum(1 for a in e.aliases if not a.weak)
        addresses += len(e.addresses)
    return {"aliases": aliases, "addresses": addresses}


def check_new_version(
    previous_count: int | None,
    entries: Mapping[str, Entry],
    *,
    removed: int,
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
    previous_parts: Mapping[str, int] | None = None,
) -> str | None:
    """Return why a parsed download must not replace the stored version, or None when it may."""
    if not entries:
        return "the download has no entries"
    if previous_count:
        share = removed / previous_count
        if share > max_removed_share:
            return (
                f"the download would remove {removed} of {previous_count} entries "
                f"({share:.0%}, more than the allowed {max_removed_share:.0%}); "
                "treated as a broken download, the stored version stays"
            )
    held = parts_held(entries.values())
    for part, before in (previous_parts or {}).items():
        if before and not held.get(part):
            return (
                f"the download has no {part} while the stored version has {before} "
                "(a companion file such as alt.csv or add.csv missing?); the stored version stays"
            )
    return None


@dataclass(frozen=True)
class EntryChange:
    """One entry added, removed or changed between two versions."""

    change: str  # added | removed | changed
    key: str
    entry: Entry
    before: Entry | None = None

    def describe(self, list_name: str) -> str:
        """One line: what happened to which entry, with programs and citation."""
        e = self.entry
        bits = [f"{list_name} entry '{e.name}' ({e.entry_id}) {self.change}"]
        if e.programs:
            bits.append(f"programs {', '.join(e.programs)}")
        if e.start_date:
            bits.append(f"listed {e.start_date}")
        if e.citation:
            bits.append(e.citation)
        return "; ".join(bits)


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions of a list."""

    added: tuple[EntryChange, ...]
    removed: tuple[EntryChange, ...]
    changed: tuple[EntryChange, ...]

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (self.added or self.removed or self.changed)

    def all(self) -> tuple[EntryChange, ...]:
        """Every change: added, removed, then changed."""
        return self.added + self.removed + self.changed


def diff_versions(before: Mapping[str, Entry], after: Mapping[str, Entry]) -> VersionDiff:
    """Compare two versions keyed by `Entry.key`."""
    added = tuple(EntryChange("added", k, after[k]) for k in sorted(after.keys() - before.keys()))
    removed = tuple(
        EntryChange("removed", k, before[k]) for k in sorted(before.keys() - after.keys())
    )
    changed = tuple(
        EntryChange("changed", k, after[k], before[k])
        for k in sorted(after.keys() & before.keys())
        if after[k].fingerprint != before[k].fingerprint
    )
    return VersionDiff(added, removed, changed)


def keyed(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    """Entries by key; a later duplicate key keeps the first (lists sometimes repeat a row)."""
    out: dict[str, Entry] = {}
    for e in entries:
        out.setdefault(e.key, e)
    return out
