"""Web pages: HTML reduced to its main text, one line a block, and the links in that part."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from bot.domain.tracking.html_limits import (
    DEFAULT_LIMITS,
    HtmlLimitError,
    ParseLimits,
    parse_html,
)
from bot.domain.tracking.snapshots import SourceError

MAX_LINKS = 500
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


def check_css(selector: str) -> None:
    """Raise `SourceError` when a CSS selector is not valid."""
    import soupsieve

    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        first = str(exc).splitlines()[0]
        raise SourceError(f"the CSS selector '{selector}' is not valid ({first})") from None
