"""Limits on what a rule file may cost: its size, its kind, its values, their nesting, and aliases.

A file is read only when it is a regular file no larger than the size cap. A YAML document with
anchors is composed by libyaml and then measured as it would be once every alias is expanded,
before any Python object is built from it, so a few hundred bytes of nested aliases (a "billion
laughs") fail at once with a FILE:LINE message instead of filling memory; without anchors the
size cap bounds it. Values quoted in messages are cut to about 80 characters.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from bot.domain.errors import FileError, InvalidFile

DEFAULT_MAX_FILE_BYTES = 20_000_000
SIZE_SETTING = "CLEARANCE_MAX_FILE_BYTES"
# Values (scalars, lists, mappings) a document may hold with its aliases expanded: a rule is
# about 25, so this is some 200,000 rules, more than the size cap lets through without aliases.
MAX_VALUES = 5_000_000
MAX_DEPTH = 40  # a rule file nests 6 deep; parsing deeper nests recursion
SHOWN_CHARS = 80


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """Return a value's repr as quoted in an error message, cut to about `limit` characters."""
    return cut(repr(value), limit)


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """Return text cut to about `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_limited(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """Read a regular text file of at most `max_bytes`; raise `InvalidFile` otherwise."""
    name = str(path)

    def refuse(message: str) -> InvalidFile:
        return InvalidFile([FileError(name, 1, "file", message)])

    try:
        # Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}; check the path") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise refuse(
            "not a regular file (a directory, pipe or device); give the path of a YAML or CSV file"
        )
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > max_bytes:
            raise refuse(_too_big(info.st_size, max_bytes))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise refuse(_too_big(len(data), max_bytes))
    try:
        # utf-8-sig: spreadsheets often save CSV with a byte-order mark before the header.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidFile(
            [
                FileError(
                    name,
                    line,
                    "file",
                    f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                )
            ]
        ) from None


def check_text_size(text: str, name: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
    """Refuse text (a Slack modal's, say) longer than the size cap."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise InvalidFile([FileError(name, 1, "file", _too_big(size, max_bytes))])


def _too_big(size: int, limit: int) -> str:
    return (
        f"the file is {size:,} bytes, over the limit of {limit:,}; split it into smaller "
        f"files, or raise the limit with {SIZE_SETTING}"
    )


def check_document(root: yaml.Node, name: str) -> None:
    """Raise `InvalidFile` when a composed document nests too deep or expands too far.

    Walks each distinct node once: a node an alias repeats counts as often as it is repeated,
    but is not visited again.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values when expanded, nesting depth)
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            total, depth = 1, 1
            for child in children:
                child_total, child_depth = sizes[id(child)]
                total += child_total
                depth = max(depth, child_depth + 1)
            if total > MAX_VALUES:
                raise _limit_error(
                    name,
                    node,
                    f"this part expands to more than {MAX_VALUES:,} values (counting what "
                    "each alias repeats); write the entries out, or use fewer nested aliases",
                )
            if depth > MAX_DEPTH:
                raise _limit_error(
                    name,
                    _deepest(node, sizes),
                    f"nested more than {MAX_DEPTH} levels deep; a rule file needs about 6",
                )
            sizes[key] = (total, depth)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _limit_error(name, node, "an alias refers to the entry that contains it")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _deepest(node: yaml.Node, sizes: dict[int, tuple[int, int]]) -> yaml.Node:
    """Follow the deepest branch down to the level where the limit is crossed."""
    for _ in range(MAX_DEPTH):
        children = [c for c in _children(node) if id(c) in sizes]
        if not children:
            break
        node = max(children, key=lambda c: sizes[id(c)][1])
    return node


def _limit_error(name: str, node: yaml.Node, message: str) -> InvalidFile:
    return InvalidFile([FileError(name, node.start_mark.line + 1, "yaml", message)])
