"""What the list parsers share: the error, text decoding and namespace-free XML reading."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

MAX_ENTRIES = 2_000_000  # no real list is near this; a file claiming more is not a list


class ListFormatError(ValueError):
    """A list file that is empty, truncated or not in the format its kind says."""


def decode(body: bytes, what: str) -> str:
    """Decode UTF-8 (with or without BOM), falling back to Windows-1252 as OFAC's CSV uses."""
    if not body or not body.strip(b" \r\n\t\x1a"):
        raise ListFormatError(f"{what} is empty")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def parse_xml(body: bytes, what: str) -> ET.Element:
    """Parse XML, refusing entity declarations (no billion laughs) and naming the error's line."""
    if not body.strip():
        raise ListFormatError(f"{what} is empty")
    if b"<!ENTITY" in body[:65536].upper():
        raise ListFormatError(f"{what} declares XML entities; refusing to expand them")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise ListFormatError(
            f"{what} is not well-formed XML ({exc}); truncated download?"
        ) from exc


def local(tag: str) -> str:
    """A tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def children(elem: ET.Element, name: str) -> Iterator[ET.Element]:
    """Direct children with this local name, whatever the namespace."""
    return (c for c in elem if local(c.tag) == name)


def child(elem: ET.Element, name: str) -> ET.Element | None:
    """The first direct child with this local name."""
    return next(children(elem, name), None)


def descendants(elem: ET.Element, name: str) -> Iterator[ET.Element]:
    """All descendants with this local name."""
    return (c for c in elem.iter() if local(c.tag) == name)


def text_of(elem: ET.Element | None, name: str | None = None) -> str:
    """Stripped text of an element (or of its first child with this name); empty when absent."""
    if elem is not None and name is not None:
        elem = child(elem, name)
    if elem is None or elem.text is None:
        return ""
    return elem.text.strip()


def attr(elem: ET.Element, name: str) -> str:
    """An attribute by local name, whatever the namespace; empty when absent."""
    for key, value in elem.attrib.items():
        if local(key) == name:
            return value.strip()
    return ""


def check_count(n: int, what: str) -> None:
    """Refuse a file with no entries or absurdly many."""
    if n == 0:
        raise ListFormatError(f"{what} has no entries")
    if n > MAX_ENTRIES:
        raise ListFormatError(f"{what} has {n} entries, more than {MAX_ENTRIES}")
