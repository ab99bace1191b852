"""Policy sources: turn a fetched body into a snapshot, and two snapshots into a change.

How a body is read depends on its kind (`bot.domain.tracking.kinds`): Federal Register documents
and feed entries are items, and new items are the changes; a web page's main text or a JSON
document's selected parts are text, and a text diff is the change.

A `webpage` or `json` source marked as a country list also reports the countries added and removed,
resolved through the place catalog. Everything here is pure: no network, no clock, no database.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from bot.domain.names.places import PlaceCatalog
from bot.domain.tracking.country_lists import compare_lists, describe_unresolved, read_country_list
from bot.domain.tracking.html_limits import DEFAULT_LIMITS, ParseLimits
from bot.domain.tracking.kinds import UnknownKind, kind_named
from bot.domain.tracking.readers import kept_lines
from bot.domain.tracking.snapshots import Item, Snapshot, SourceError, SourceSpec

MAX_DIFF_LINES = 60
MAX_DIFF_CHARS = 6000


@dataclass
class Difference:
    """What changed between two snapshots."""

    summary: str
    diff: str = ""
    items: list[Item] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # country codes, for country lists
    removed: list[str] = field(default_factory=list)
    text: str = ""  # the new material, for severity keywords
    excluded: list[str] = field(default_factory=list)  # places newly excluded ("except Kherson")
    readmitted: list[str] = field(default_factory=list)  # exclusions lifted
    unresolved: list[str] = field(default_factory=list)  # new entries not readable as places
    full_diff: str = ""  # the whole diff when `diff` had to be cut

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form stored on a change."""
        return {
            "summary": self.summary,
            "diff": self.diff,
            "items": [i.to_dict() for i in self.items],
            "added": self.added,
            "removed": self.removed,
            "excluded": self.excluded,
            "readmitted": self.readmitted,
            "unresolved": self.unresolved,
        }


def extract(spec: SourceSpec, body: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> Snapshot:
    """Read a fetched body as a snapshot of its kind; raise `SourceError` if it can't be read."""
    try:
        kind = kind_named(spec.kind)
    except UnknownKind as exc:
        raise SourceError(exc.message) from None
    if kind.read is None:
        raise SourceError(f"a {kind.name} source is not read as a snapshot")
    return kind.read(spec, body, limits)


def countries_in(text: str, places: PlaceCatalog) -> set[str]:
    """Return the places a country-list text includes (see `country_lists.read_country_list`)."""
    return set(read_country_list(text, places).members)


def _bounded_diff(lines: list[str]) -> str:
    """Return a unified diff's lines cut to at most MAX_DIFF_LINES lines plus a note, and at
    most MAX_DIFF_CHARS characters in all."""
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more diff lines"]
    text = "\n".join(lines)
    return text if len(text) <= MAX_DIFF_CHARS else text[: MAX_DIFF_CHARS - 2] + "\n…"


def _linked_lines(
    lines: list[str], links: tuple[tuple[str, str], ...], old: tuple[tuple[str, str], ...]
) -> list[Item]:
    """Return the added lines that carry a link new to the page, each with its own page."""
    known = {url for _text, url in old}
    out = []
    for line in lines:
        for text, url in links:
            if url not in known and text in line:
                out.append(Item(url, line[:300], url))
                known.add(url)
                break
    return out


def _first_titles(items: list[Item]) -> str:
    """Join the first three items' titles, with an ellipsis when there are more."""
    return "; ".join(i.title for i in items[:3]) + ("; …" if len(items) > 3 else "")


def _new_items(nouns: tuple[str, str], before: Snapshot, after: Snapshot) -> Difference | None:
    """Return the items in `after` that `before` lacked, or None when there are none."""
    seen = {i.id for i in before.items}
    new = [i for i in after.items if i.id not in seen]
    if not new:
        return None  # entries only dropped off the end of the list
    one, many = nouns
    return Difference(
        f"{len(new)} new {one if len(new) == 1 else many}: {_first_titles(new)}",
        items=new,
        text="\n".join(f"{i.title}\n{i.summary}" for i in new),
    )


def _add_country_changes(
    change: Difference, old_lines: list[str], new_lines: list[str], places: PlaceCatalog
) -> None:
    """Record on `change` the places a country list added, removed, excluded or readmitted."""
    lists = compare_lists(
        read_country_list("\n".join(old_lines), places),
        read_country_list("\n".join(new_lines), places),
    )
    change.added, change.removed = lists.added, lists.removed
    change.excluded, change.readmitted = lists.excluded, lists.readmitted
    change.unresolved = lists.unresolved
    parts = []
    for verb, codes in (
        ("added", lists.added),
        ("removed", lists.removed),
        ("excluded", lists.excluded),
        ("no longer excluded", lists.readmitted),
    ):
        if codes:
            parts.append(f"{verb} " + ", ".join(places.label(c) for c in codes))
    if lists.unresolved:
        parts.append(describe_unresolved(lists.unresolved))
    if parts:
        change.summary = "; ".join(parts)
    else:
        change.summary += "; no place changed"


def diff_snapshots(
    spec: SourceSpec, before: Snapshot, after: Snapshot, places: PlaceCatalog
) -> Difference | None:
    """Return what changed from `before` to `after`, or None when nothing did.

    Sources of items (`federal_register`, `feed`) change only by new items: items that dropped off
    the list or were retitled are not news. Text sources give a bounded diff; `text` holds the
    added and removed lines (for severity). A country list also gives the countries added and
    removed, and then its summary names them. The spec's ignore patterns are applied to both
    snapshots, so lines they hide (even in a snapshot stored before the pattern was added) never
    count as a change.
    """
    if before.hash == after.hash:
        return None
    nouns = kind_named(spec.kind).items
    if nouns is not None:
        return _new_items(nouns, before, after)
    # The ignore patterns apply to both sides, so adding one later does not report the lines it
    # now hides as a change.
    old_lines, new_lines = kept_lines(before.text, spec.ignore), kept_lines(after.text, spec.ignore)
    if old_lines == new_lines:
        return None
    old_set, new_set = set(old_lines), set(new_lines)
    all_lines = list(
        difflib.unified_diff(old_lines, new_lines, "before", "after", n=1, lineterm="")
    )[2:]
    diff = _bounded_diff(all_lines)
    added_lines = [ln for ln in new_lines if ln not in old_set]
    removed_lines = [ln for ln in old_lines if ln not in new_set]
    change = Difference(
        f"text changed: {len(added_lines)} lines added, {len(removed_lines)} removed",
        diff=diff,
        text="\n".join(added_lines + removed_lines),
    )
    linked = _linked_lines(added_lines, after.links, before.links)
    if linked and not spec.country_list:
        change.items = linked
        change.summary = f"{len(linked)} new: {_first_titles(linked)}"
    full = "\n".join(all_lines)
    if full != diff:
        change.full_diff = full
    if spec.country_list:
        _add_country_changes(change, old_lines, new_lines, places)
    return change
