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
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from bot.domain.asking.places import PlaceCatalog
from bot.domain.screening.parsers import LIST_KINDS
from bot.domain.tracking.country_lists import compare_lists, describe_unresolved, read_country_list
from bot.domain.tracking.html_limits import (
    DEFAULT_LIMITS,
    HtmlLimitError,
    ParseLimits,
    parse_html,
)

# Restricted-party list kinds are polled like the others but stored as list versions
# (bot.services.screening_polls), never as snapshots.
KINDS = ("federal_register", "feed", "webpage", "json", *LIST_KINDS, "rule_table")
MAX_DIFF_LINES = 60
MAX_DIFF_CHARS = 6000
MAX_ITEMS = 200
_NOT_TEXT = ("script", "style", "noscript", "template", "svg", "iframe", "object")
_DROP_TAGS = (*_NOT_TEXT, "nav", "header", "footer", "form", "aside")
_BLOCK_TAGS = (
    "address",
    "article",
    "aside",
    "blockquote",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "main",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
)


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


def _patterns(ignore: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for p in ignore:
        try:
            out.append(re.compile(p, re.I))
        except re.error as exc:
            raise SourceError(
                f"the ignore pattern '{p}' is not a valid regular expression ({exc})"
            ) from None
    return out


def _lines(text: str, ignore: Iterable[str]) -> list[str]:
    """Return the non-empty lines, whitespace collapsed, minus those an ignore pattern matches
    (case-insensitive `re.search`); an invalid pattern is a `SourceError`."""
    patterns = _patterns(ignore)
    out = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line and not any(p.search(line) for p in patterns):
            out.append(line)
    return out


def _block_text(node: Any, limits: ParseLimits = DEFAULT_LIMITS) -> str:
    """Return a node's text with one line per block element and inline markup kept in its line.

    `get_text("\\n")` would break "Last updated: <time>…</time>" or "in <b>Germany</b> today" over
    several lines, so an ignore pattern could not remove the whole line and a diff would show
    fragments. The cells of one table row stay on one line, joined with " | ".
    """
    from bs4.element import NavigableString

    for br in node.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for n, tag in enumerate(node.find_all(list(_BLOCK_TAGS))):
        if n % 500 == 0:
            limits.check_time()
        if tag.name in ("td", "th"):
            if tag.find_previous_sibling(["td", "th"]) is not None:
                tag.insert_before(NavigableString(" | "))
        elif tag.parent is not None:
            tag.insert_before(NavigableString("\n"))
            tag.insert_after(NavigableString("\n"))
    return str(node.get_text())


def html_text(
    body: bytes, selector: str | None = None, limits: ParseLimits = DEFAULT_LIMITS
) -> str:
    """Reduce HTML to its main text: drop scripts, navigation and chrome; keep one line a block.

    Without a selector the text is that of `<main>`, else `<article>`, else `<body>`, with
    navigation, header, footer, forms and asides dropped. With a CSS selector it is the text of
    every matching element (only scripts, styles and the like are dropped first, so a selector may
    target a `<nav>` on purpose); an invalid selector or one that matches nothing is an error.
    """
    return html_text_and_links(body, selector, None, limits)[0]


def html_text_and_links(
    body: bytes,
    selector: str | None = None,
    base: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Return `html_text` and, when `base` is given, the links of the same part of the page:
    (link text, absolute URL), at most MAX_LINKS, parsing the page once within `limits`."""
    try:
        return _html_text(parse_html(body, limits), selector, base, limits)
    except HtmlLimitError as exc:
        raise SourceError(str(exc)) from None


def _html_text(
    soup: Any, selector: str | None, base: str | None, limits: ParseLimits
) -> tuple[str, tuple[tuple[str, str], ...]]:
    from soupsieve import SelectorSyntaxError

    for tag in soup(list(_NOT_TEXT if selector else _DROP_TAGS)):
        tag.decompose()
    nodes: list[Any]
    if selector:
        try:
            nodes = list(soup.select(selector))
        except SelectorSyntaxError as exc:
            first = str(exc).splitlines()[0]
            raise SourceError(f"the CSS selector '{selector}' is not valid ({first})") from None
        if not nodes:
            raise SourceError(f"the CSS selector '{selector}' matches nothing on the page")
    else:
        main = soup.find("main") or soup.find("article") or soup.body or soup
        nodes = [main]
    links: dict[str, str] = {}
    if base is not None:
        for node in nodes:
            for a in node.find_all("a", href=True):
                text = " ".join(a.get_text(" ").split())
                href = urljoin(base, str(a["href"]))
                if len(text) >= 4 and href.startswith(("http://", "https://")):
                    links.setdefault(text, href)
    text = "\n".join(_block_text(node, limits) for node in nodes)
    return text, tuple(list(links.items())[:MAX_LINKS])


MAX_LINKS = 500


def _scalar(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def select_json(data: Any, selector: str | None) -> list[str]:
    """Apply a dotted selector with `[*]` (e.g. `data.countries[*].name`) and return strings.

    Each selected value is one string (objects as compact JSON; a selected list gives one string
    per element). A selector step that finds nothing at all (a missing key, an index past the end,
    `[*]` on a non-list) raises `SourceError`; `[*]` on an empty list is simply empty.
    """
    values = [data]
    done = ""
    for part in [p for p in re.split(r"\.(?![^\[]*\])", selector or "") if p]:
        m = re.fullmatch(r"([^\[\]]*)(\[\*\]|\[\d+\])?", part)
        if not m:
            raise SourceError(
                f"can't read the JSON selector part '{part}' (use e.g. 'data.countries[*].name')"
            )
        key, index = m.group(1), m.group(2)
        nxt: list[Any] = []
        reached = 0
        for v in values:
            if key:
                if not isinstance(v, dict) or key not in v:
                    continue
                v = v[key]
            if index == "[*]":
                if isinstance(v, list):
                    reached += 1
                    nxt.extend(v)
            elif index:
                i = int(index[1:-1])
                if isinstance(v, list) and i < len(v):
                    reached += 1
                    nxt.append(v[i])
            else:
                reached += 1
                nxt.append(v)
        if values and not reached:
            where = f" after '{done}'" if done else ""
            raise SourceError(f"the JSON selector '{selector}' matches nothing: no '{part}'{where}")
        values = nxt
        done = f"{done}.{part}" if done else part
    out: list[str] = []
    for v in values:
        if isinstance(v, list):
            out.extend(_scalar(x) for x in v)
        else:
            out.append(_scalar(v))
    return out


def _unique(items: Iterable[Item]) -> tuple[Item, ...]:
    """Return the first item of each id, at most MAX_ITEMS of them."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return tuple(out[:MAX_ITEMS])


def _fr_items(data: Any) -> tuple[Item, ...]:
    """Return the documents of a Federal Register `documents.json` response, newest first.

    An empty search has `count: 0` and no `results`; an error response (`{"errors": ...}`) or
    JSON of another shape is a `SourceError`.
    """
    if isinstance(data, dict) and data.get("errors"):
        raise SourceError(
            f"the Federal Register API returned errors: {json.dumps(data['errors'])[:300]}"
        )
    if (
        not isinstance(data, dict)
        or not ("results" in data or "count" in data)
        or not isinstance(data.get("results", []), list)
    ):
        raise SourceError("not a Federal Register documents response (no 'results' list)")
    items = []
    for r in data.get("results") or []:
        if not isinstance(r, dict) or not r.get("document_number"):
            continue
        number = str(r["document_number"])
        items.append(
            Item(
                number,
                str(r.get("title") or ""),
                str(r.get("html_url") or ""),
                str(r.get("publication_date") or ""),
                str(r.get("abstract") or "")[:1000],
                str(r.get("type") or ""),
                str(r.get("effective_on") or ""),
                str(r.get("comments_close_on") or ""),
                number.upper().startswith("C") or bool(r.get("correction_of")),
            )
        )
    return _unique(items)


def _feed_items(body: bytes) -> tuple[Item, ...]:
    """Return the entries of an RSS or Atom feed; anything feedparser can't see as a feed (an
    HTML page, plain text) is a `SourceError`, while a real feed with no entries is empty."""
    import feedparser

    # Bytes, never the body itself: feedparser reads a string as a path or URL to open.
    parsed = feedparser.parse(io.BytesIO(body))
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise SourceError(f"not an RSS or Atom feed ({reason})")
    items = []
    for e in parsed.entries:
        ident = e.get("id") or e.get("link") or e.get("title")
        if not ident:
            continue
        items.append(
            Item(
                str(ident),
                str(e.get("title", "")),
                str(e.get("link", "")),
                str(e.get("published") or e.get("updated", "")),
                str(e.get("summary", ""))[:1000],
            )
        )
    return _unique(items)


def extract(spec: SourceSpec, body: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> Snapshot:
    """Read a fetched body as a snapshot of its kind; raise `SourceError` if it can't be read."""
    if spec.kind == "federal_register":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise SourceError(f"not JSON: {str(exc)[:200]}") from None
        items = _fr_items(data)
        return Snapshot("\n".join(f"{i.id} {i.title}" for i in items), items)
    if spec.kind == "feed":
        items = _feed_items(body)
        return Snapshot("\n".join(f"{i.title}" for i in items), items)
    if spec.kind == "webpage":
        raw, links = html_text_and_links(body, spec.selector, spec.url or None, limits)
        return Snapshot("\n".join(_lines(raw, spec.ignore)), (), links)
    if spec.kind == "json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise SourceError(f"not JSON: {str(exc)[:200]}") from None
        return Snapshot("\n".join(_lines("\n".join(select_json(data, spec.selector)), spec.ignore)))
    raise SourceError(f"unknown source kind '{spec.kind}' (use {', '.join(KINDS[:-1])})")


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


def diff_snapshots(
    spec: SourceSpec, before: Snapshot, after: Snapshot, places: PlaceCatalog
) -> Difference | None:
    """Return what changed from `before` to `after`, or None when nothing did.

    List sources (`federal_register`, `feed`) change only by new items: items that dropped off
    the list or were retitled are not news. Text sources give a bounded diff; `text` holds the
    added and removed lines (for severity). A country list also gives the countries added and
    removed, and then its summary names them. The spec's ignore patterns are applied to both
    snapshots, so lines they hide (even in a snapshot stored before the pattern was added) never
    count as a change.
    """
    if before.hash == after.hash:
        return None
    if spec.kind in ("federal_register", "feed"):
        seen = {i.id for i in before.items}
        new = [i for i in after.items if i.id not in seen]
        if not new:
            return None  # entries only dropped off the end of the list
        one, many = (
            ("document", "documents") if spec.kind == "federal_register" else ("entry", "entries")
        )
        titles = "; ".join(i.title for i in new[:3]) + ("; …" if len(new) > 3 else "")
        return Difference(
            f"{len(new)} new {one if len(new) == 1 else many}: {titles}",
            items=new,
            text="\n".join(f"{i.title}\n{i.summary}" for i in new),
        )
    # The ignore patterns apply to both sides, so adding one later does not report the lines it
    # now hides as a change.
    old_lines, new_lines = _lines(before.text, spec.ignore), _lines(after.text, spec.ignore)
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
        titles = "; ".join(i.title for i in linked[:3]) + ("; …" if len(linked) > 3 else "")
        change.summary = f"{len(linked)} new: {titles}"
    full = "\n".join(all_lines)
    if full != diff:
        change.full_diff = full
    if spec.country_list:
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
    return change
