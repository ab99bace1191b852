"""Reading a fetched body as its source kind says: Federal Register documents, a feed's entries,
a web page's main text, or the parts of a JSON document a JMESPath expression selects.

Each `read_*` function takes a `SourceSpec`, the body and the HTML limits and returns a `Snapshot`
or raises `SourceError`; the kinds registry (`bot.domain.tracking.kinds`) names which one a kind
uses. Everything here is pure: no network, no clock, no database.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.visitor import TreeInterpreter

from bot.domain.tracking.html_limits import ParseLimits
from bot.domain.tracking.pages import html_text_and_links
from bot.domain.tracking.snapshots import Item, Snapshot, SourceError, SourceSpec

MAX_ITEMS = 200


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


def kept_lines(text: str, ignore: Iterable[str]) -> list[str]:
    """Return the non-empty lines, whitespace collapsed, minus those an ignore pattern matches
    (case-insensitive `re.search`); an invalid pattern is a `SourceError`."""
    patterns = _patterns(ignore)
    out = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line and not any(p.search(line) for p in patterns):
            out.append(line)
    return out


def _scalar(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def compile_selector(selector: str) -> jmespath.parser.ParsedResult:
    """Return a JMESPath expression compiled; raise `SourceError` naming it when it is not valid."""
    try:
        return jmespath.compile(selector)
    except JMESPathError as exc:
        first = str(exc).splitlines()[0]
        raise SourceError(
            f"the JSON selector '{selector}' is not a valid JMESPath expression ({first})"
        ) from None


def check_jmespath(selector: str) -> None:
    """Raise `SourceError` when a JSON selector is not a valid JMESPath expression."""
    compile_selector(selector)


class _Projections(TreeInterpreter):
    """JMESPath's interpreter, noting a projection over a non-empty list that kept nothing:
    `countries[*].label` when no country has a label is a page that changed, not an empty list."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0  # elements of the largest projection that kept none of them

    def visit_projection(self, node: Any, value: Any) -> list[Any] | None:
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        kept = [v for v in (self.visit(node["children"][1], e) for e in base) if v is not None]
        if base and not kept:
            self.lost = max(self.lost, len(base))
        return kept


def select_json(data: Any, selector: str | None) -> list[str]:
    """Apply a JMESPath expression (e.g. `data.countries[*].name`) and return strings.

    Each selected value is one string (objects as compact JSON); a list gives one string per
    element, and a list of lists (a projection of lists) one per inner element. A selector that
    finds nothing at all (a missing key, an index past the end, a projection on a non-list, or a
    projection whose elements all lack the rest) raises `SourceError`; an empty list is empty.
    """
    value = data
    if selector:
        parsed = compile_selector(selector)
        interpreter = _Projections()
        try:
            value = interpreter.visit(parsed.parsed, data)
        except JMESPathError as exc:
            raise SourceError(f"the JSON selector '{selector}' failed: {exc}") from None
        if value is None:
            raise SourceError(f"the JSON selector '{selector}' matches nothing")
        if value == [] and interpreter.lost:
            raise SourceError(
                f"the JSON selector '{selector}' matches nothing in any of the "
                f"{interpreter.lost} elements it goes through"
            )
    out: list[str] = []
    for v in value if isinstance(value, list) else [value]:
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


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise SourceError(f"not JSON: {str(exc)[:200]}") from None


def read_federal_register(spec: SourceSpec, body: bytes, limits: ParseLimits) -> Snapshot:
    """Read a Federal Register documents response: its documents are the items."""
    items = _fr_items(_json(body))
    return Snapshot("\n".join(f"{i.id} {i.title}" for i in items), items)


def read_feed(spec: SourceSpec, body: bytes, limits: ParseLimits) -> Snapshot:
    """Read an RSS or Atom feed: its entries are the items."""
    items = _feed_items(body)
    return Snapshot("\n".join(f"{i.title}" for i in items), items)


def read_webpage(spec: SourceSpec, body: bytes, limits: ParseLimits) -> Snapshot:
    """Read a web page as its main text (or the selected part) and the links in it."""
    raw, links = html_text_and_links(body, spec.selector, spec.url or None, limits)
    return Snapshot("\n".join(kept_lines(raw, spec.ignore)), (), links)


def read_json(spec: SourceSpec, body: bytes, limits: ParseLimits) -> Snapshot:
    """Read a JSON document as the lines its selector picks."""
    picked = select_json(_json(body), spec.selector)
    return Snapshot("\n".join(kept_lines("\n".join(picked), spec.ignore)))
