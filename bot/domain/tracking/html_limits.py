"""Bounds on reading an HTML page: how deep it nests, how many elements it has, how long it takes.

A hostile page (900,000 nested `<div>`s, or a flat page of hundreds of thousands of elements)
would otherwise hold a worker for minutes. The time bound is the caller's: the domain has no
clock, so the caller passes a function saying whether its time is up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

# Browsers' HTML parsers stop nesting elements at 512 levels (Blink's tree-builder limit).
MAX_DEPTH = 512
MAX_ELEMENTS = 100_000
_CHECK_EVERY = 500  # elements between two looks at the clock


class HtmlLimitError(ValueError):
    """A page beyond a limit; the message names it."""


def _never() -> bool:
    return False


@dataclass(frozen=True)
class ParseLimits:
    """The limits on reading one page; `out_of_time` says whether the caller's time is up."""

    max_depth: int = MAX_DEPTH
    max_elements: int = MAX_ELEMENTS
    out_of_time: Callable[[], bool] = _never

    def check_time(self) -> None:
        """Raise `HtmlLimitError` when the caller's time is up."""
        if self.out_of_time():
            raise HtmlLimitError("reading the page took longer than the fetch deadline")


@cache
def _soup_class() -> type[Any]:
    # bs4 is imported on first use only: `clearance ask` never reads a page.
    from bs4 import BeautifulSoup

    class BoundedSoup(BeautifulSoup):
        """BeautifulSoup with `html.parser`, stopping at the first element beyond a limit."""

        def __init__(self, markup: bytes | str, limits: ParseLimits) -> None:
            # Set before parsing starts (in the base constructor), and never looked up as a tag.
            self.clearance_limits = limits
            self.clearance_elements = 0
            super().__init__(markup, "html.parser")

        def pushTag(self, tag: Any) -> None:  # BeautifulSoup's name
            """Open an element, unless it is one too deep or one too many."""
            super().pushTag(tag)
            limits = self.clearance_limits
            if len(self.tagStack) > limits.max_depth + 1:  # + the document itself
                raise HtmlLimitError(f"the page nests elements more than {limits.max_depth} deep")
            self.clearance_elements += 1
            if self.clearance_elements > limits.max_elements:
                raise HtmlLimitError(f"the page has more than {limits.max_elements} elements")
            if self.clearance_elements % _CHECK_EVERY == 0:
                limits.check_time()

    return BoundedSoup


def parse_html(body: bytes | str, limits: ParseLimits) -> Any:
    """Parse a page with `html.parser` within `limits`; raise `HtmlLimitError` beyond one."""
    return _soup_class()(body, limits)


DEFAULT_LIMITS = ParseLimits()
