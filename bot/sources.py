"""Policy sources: turn a fetched body into a snapshot, and two snapshots into a change.

Kinds:
- `federal_register`: the Federal Register documents API (JSON); new documents are the changes;
- `feed`: RSS or Atom (feedparser); new entries are the changes;
- `webpage`: HTML reduced to its main text (optional CSS selector, ignore patterns); a text diff;
- `json`: a JSON document reduced by a dotted selector (`data.countries[*].name`); a text diff.

A `webpage` or `json` source marked as a country list also reports the countries added and removed,
resolved through the place catalog. Everything here is pure: no network, no clock, no database.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.places import PlaceCatalog

KINDS = ("federal_register", "feed", "webpage", "json", "rule_table")
MAX_DIFF_LINES = 60
MAX_DIFF_CHARS = 6000
MAX_ITEMS = 200
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form")


class SourceError(ValueError):
    """A body that can't be read as its source kind says."""


@dataclass(frozen=True)
class Item:
    """One entry of a list source: a Federal Register document or a feed entry."""

    id: str
    title: str
    link: str = ""
    date: str = ""
    summary: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form."""
        return {"id": self.id, "title": self.title, "link": self.link, "date": self.date,
                "summary": self.summary}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        """Build from the JSON form."""
        return cls(str(d["id"]), str(d.get("title", "")), str(d.get("link", "")),
                   str(d.get("date", "")), str(d.get("summary", "")))


@dataclass(frozen=True)
class Snapshot:
    """What a source said at one fetch: its normalized text, its items, and their hash."""

    text: str
    items: tuple[Item, ...] = ()

    @property
    def hash(self) -> str:
        """Return the content hash (of the normalized, filtered text and item ids)."""
        h = hashlib.sha256(self.text.encode())
        for item in self.items:
            h.update(b"\0" + item.id.encode())
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form stored with the snapshot."""
        return {"text": self.text, "items": [i.to_dict() for i in self.items]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Snapshot:
        """Build from the JSON form."""
        return cls(str(d.get("text", "")), tuple(Item.from_dict(i) for i in d.get("items") or ()))


@dataclass(frozen=True)
class SourceSpec:
    """How to read one source."""

    kind: str
    selector: str | None = None
    ignore: tuple[str, ...] = ()
    country_list: bool = False


@dataclass
class Difference:
    """What changed between two snapshots."""

    summary: str
    diff: str = ""
    items: list[Item] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # country codes, for country lists
    removed: list[str] = field(default_factory=list)
    text: str = ""  # the new material, for severity keywords

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form stored on a change."""
        return {"summary": self.summary, "diff": self.diff,
                "items": [i.to_dict() for i in self.items], "added": self.added,
                "removed": self.removed}


def _lines(text: str, ignore: Iterable[str]) -> list[str]:
    patterns = [re.compile(p, re.I) for p in ignore]
    out = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line and not any(p.search(line) for p in patterns):
            out.append(line)
    return out


def html_text(body: bytes, selector: str | None = None) -> str:
    """Reduce HTML to its main text: drop scripts, navigation and chrome; keep one line a block."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    for tag in soup(list(_DROP_TAGS)):
        tag.decompose()
    nodes: list[Any]
    if selector:
        nodes = list(soup.select(selector))
        if not nodes:
            raise SourceError(f"the CSS selector '{selector}' matches nothing on the page")
    else:
        main = soup.find("main") or soup.find("article") or soup.body or soup
        nodes = [main]
    return "\n".join(node.get_text("\n") for node in nodes)


def select_json(data: Any, selector: str | None) -> list[str]:
    """Apply a dotted selector with `[*]` (e.g. `data.countries[*].name`) and return strings."""
    values = [data]
    for part in [p for p in re.split(r"\.(?![^\[]*\])", selector or "") if p]:
        m = re.fullmatch(r"([^\[\]]*)(\[\*\]|\[\d+\])?", part)
        if not m:
            raise SourceError(f"can't read the JSON selector part '{part}'")
        key, index = m.group(1), m.group(2)
        nxt: list[Any] = []
        for v in values:
            if key:
                if not isinstance(v, dict) or key not in v:
                    continue
                v = v[key]
            if index == "[*]":
                nxt.extend(v if isinstance(v, list) else [])
            elif index:
                i = int(index[1:-1])
                if isinstance(v, list) and i < len(v):
                    nxt.append(v[i])
            else:
                nxt.append(v)
        values = nxt
    out: list[str] = []
    for v in values:
        if isinstance(v, list):
            out.extend(json.dumps(x, sort_keys=True) if isinstance(x, dict | list) else str(x)
                       for x in v)
        elif isinstance(v, dict):
            out.append(json.dumps(v, sort_keys=True))
        else:
            out.append(str(v))
    return out


def _fr_items(data: Any) -> tuple[Item, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
        raise SourceError("not a Federal Register documents response (no 'results' list)")
    items = []
    for r in data.get("results") or []:
        if not isinstance(r, dict) or not r.get("document_number"):
            continue
        items.append(Item(str(r["document_number"]), str(r.get("title") or ""),
                          str(r.get("html_url") or ""), str(r.get("publication_date") or ""),
                          str(r.get("abstract") or "")[:1000]))
    return tuple(items[:MAX_ITEMS])


def _feed_items(body: bytes) -> tuple[Item, ...]:
    import feedparser

    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"not an RSS or Atom feed ({parsed.get('bozo_exception')})")
    items = []
    for e in parsed.entries:
        ident = e.get("id") or e.get("link") or e.get("title")
        if not ident:
            continue
        items.append(Item(str(ident), str(e.get("title", "")), str(e.get("link", "")),
                          str(e.get("published", e.get("updated", ""))),
                          str(e.get("summary", ""))[:1000]))
    return tuple(items[:MAX_ITEMS])


def extract(spec: SourceSpec, body: bytes) -> Snapshot:
    """Read a fetched body as a snapshot of its kind; raise `SourceError` if it can't be read."""
    if spec.kind == "federal_register":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SourceError(f"not JSON: {exc}") from None
        items = _fr_items(data)
        return Snapshot("\n".join(f"{i.id} {i.title}" for i in items), items)
    if spec.kind == "feed":
        items = _feed_items(body)
        return Snapshot("\n".join(f"{i.title}" for i in items), items)
    if spec.kind == "webpage":
        return Snapshot("\n".join(_lines(html_text(body, spec.selector), spec.ignore)))
    if spec.kind == "json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SourceError(f"not JSON: {exc}") from None
        return Snapshot("\n".join(_lines("\n".join(select_json(data, spec.selector)),
                                         spec.ignore)))
    raise SourceError(f"unknown source kind '{spec.kind}' (use {', '.join(KINDS[:-1])})")


def countries_in(text: str, places: PlaceCatalog) -> set[str]:
    """Return the countries a country-list text names, one per line (exact names only)."""
    codes = set()
    for line in text.splitlines():
        for part in re.split(r"[;,•·|]\s*|\s+-\s+", line):
            match = places.resolve(part.strip(" *•-\u2013\t"))
            if match.code:
                codes.add(match.code)
    return codes


def _bounded_diff(before: list[str], after: list[str]) -> str:
    lines = list(difflib.unified_diff(before, after, "before", "after", n=1, lineterm=""))[2:]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more diff lines"]
    text = "\n".join(lines)
    return text if len(text) <= MAX_DIFF_CHARS else text[:MAX_DIFF_CHARS] + "\n…"


def diff_snapshots(spec: SourceSpec, before: Snapshot, after: Snapshot,
                   places: PlaceCatalog) -> Difference | None:
    """Return what changed from `before` to `after`, or None when nothing did."""
    if before.hash == after.hash:
        return None
    if spec.kind in ("federal_register", "feed"):
        seen = {i.id for i in before.items}
        new = [i for i in after.items if i.id not in seen]
        if not new:
            return None  # entries only dropped off the end of the list
        one, many = ("document", "documents") if spec.kind == "federal_register" else \
            ("entry", "entries")
        titles = "; ".join(i.title for i in new[:3]) + ("; …" if len(new) > 3 else "")
        return Difference(f"{len(new)} new {one if len(new) == 1 else many}: {titles}", items=new,
                          text="\n".join(f"{i.title}\n{i.summary}" for i in new))
    old_lines, new_lines = before.text.splitlines(), after.text.splitlines()
    diff = _bounded_diff(old_lines, new_lines)
    added_lines = [ln for ln in new_lines if ln not in set(old_lines)]
    removed_lines = [ln for ln in old_lines if ln not in set(new_lines)]
    change = Difference(f"text changed: {len(added_lines)} lines added, "
                        f"{len(removed_lines)} removed", diff=diff,
                        text="\n".join(added_lines + removed_lines))
    if spec.country_list:
        old_c, new_c = countries_in(before.text, places), countries_in(after.text, places)
        change.added, change.removed = sorted(new_c - old_c), sorted(old_c - new_c)
        parts = []
        if change.added:
            parts.append("added " + ", ".join(places.label(c) for c in change.added))
        if change.removed:
            parts.append("removed " + ", ".join(places.label(c) for c in change.removed))
        if parts:
            change.summary = "; ".join(parts)
    return change
