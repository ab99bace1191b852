"""What a source said at one fetch: its items and normalized text; and how to read a source."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


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
    # Federal Register documents: type (Rule, Proposed Rule, Notice), effective date, comment
    # deadline, and whether the document corrects another ("C1-" numbers, `correction_of`).
    type: str = ""
    effective: str = ""
    comments_close: str = ""
    correction: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "link": self.link,
            "date": self.date,
            "summary": self.summary,
        }
        for key, value in (
            ("type", self.type),
            ("effective", self.effective),
            ("comments_close", self.comments_close),
            ("correction", self.correction),
        ):
            if value:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        """Build from the JSON form."""
        return cls(
            str(d["id"]),
            str(d.get("title", "")),
            str(d.get("link", "")),
            str(d.get("date", "")),
            str(d.get("summary", "")),
            str(d.get("type") or ""),
            str(d.get("effective") or ""),
            str(d.get("comments_close") or ""),
            bool(d.get("correction")),
        )


@dataclass(frozen=True)
class Snapshot:
    """What a source said at one fetch: its normalized text, its items, and their hash."""

    text: str
    items: tuple[Item, ...] = ()
    # A webpage's links (text, absolute URL), to name new entries with their own pages; not
    # part of the hash: a link that moves is no change of the text.
    links: tuple[tuple[str, str], ...] = ()

    @property
    def hash(self) -> str:
        """Return the content hash (of the normalized, filtered text and item ids)."""
        h = hashlib.sha256(self.text.encode())
        for item in self.items:
            h.update(b"\0" + item.id.encode())
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form stored with the snapshot."""
        out: dict[str, Any] = {"text": self.text, "items": [i.to_dict() for i in self.items]}
        if self.links:
            out["links"] = [list(link) for link in self.links]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Snapshot:
        """Build from the JSON form."""
        return cls(
            str(d.get("text", "")),
            tuple(Item.from_dict(i) for i in d.get("items") or ()),
            tuple((str(t), str(u)) for t, u in d.get("links") or ()),
        )


@dataclass(frozen=True)
class SourceSpec:
    """How to read one source."""

    kind: str
    selector: str | None = None
    ignore: tuple[str, ...] = ()
    country_list: bool = False
    url: str = ""  # where the body came from, to make a page's links absolute
