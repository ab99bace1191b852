"""YAML with line numbers: mappings and lists that remember where each entry is.

This module holds those containers and the whole-document loader: a document is composed whole,
measured as it would be with every alias expanded (`check_document`), and only then built. A
document without anchors is built faster from the parser's events (`yaml_events`). Either way
every error, the parser's included, is one `FILE:LINE` message.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from bot.domain.errors import FileError, InvalidFile
from bot.domain.rules.limits import MAX_DEPTH, check_document, cut

# (line, key, the mapping, line of the first occurrence)
Duplicates = list[tuple[int, str, "LineDict", int]]


class LineDict(dict[str, Any]):
    """A mapping that remembers the line of each key."""

    __slots__ = ("line", "lines")  # no instance dict: a large file holds a million of these
    line: int
    lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that remembers the line of each item."""

    __slots__ = ("line", "lines")
    line: int
    lines: list[int]


def line_dict(line: int) -> LineDict:
    """Return an empty mapping that starts on `line`."""
    out = LineDict()
    out.line, out.lines = line, {}
    return out


def line_of(data: Any, path: tuple[Any, ...], default: int) -> int:
    """Return the line of the deepest element of `path` that has one."""
    line = default
    for key in path:
        if isinstance(data, LineDict) and key in data:
            line = data.lines.get(key, line)
            data = data[key]
        elif isinstance(data, LineList) and isinstance(key, int) and 0 <= key < len(data):
            line = data.lines[key]
            data = data[key]
        else:
            break
    return line


class LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader with line numbers, duplicate-key errors, YAML 1.2 booleans and no timestamps.

    On libyaml's parser where PyYAML has it: parsing is then several times faster, and libyaml
    refuses nesting beyond 1,000 levels by itself.
    """

    duplicates: Duplicates
    keys: dict[str, str]  # each distinct mapping key, once
    depth: int = 0
    file_name: str = ""


# YAML 1.1 reads NO (Norway), yes, on and off as booleans; only true/false are booleans here.
# Dates stay strings so that the schema, not the YAML parser, judges them: 2025-13-01 becomes a
# located "not a real date" error instead of a crash, and `name: 2025-01-01` stays text.
LineLoader.yaml_implicit_resolvers = {
    ch: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_STR_TAG = "tag:yaml.org,2002:str"
_DEPTH_MESSAGE = f"nested more than {MAX_DEPTH} levels deep; a rule file needs about 6"


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cycle collector while a file's values are built and checked.

    They are a million containers without a reference cycle among them: the collector's passes
    over them find nothing and cost about a quarter of the time. Reference counting still frees
    every value as soon as it is dropped.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _value(loader: LineLoader, node: yaml.Node) -> Any:
    """Build one value; plain text directly (most of a file, and the generic path costs)."""
    if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
        return node.value
    return loader.construct_object(node, deep=True)


def too_deep(name: str, mark: Any) -> InvalidFile:
    """Return the error of a document nested deeper than a rule file is."""
    line = int(mark.line) + 1 if mark is not None else 1
    return InvalidFile([FileError(name, line, "yaml", _DEPTH_MESSAGE)])


def _nest(loader: LineLoader, node: yaml.Node) -> None:
    """Count one more level of nesting; refuse a document nested deeper than a rule file is."""
    loader.depth += 1
    if loader.depth > MAX_DEPTH:
        raise too_deep(loader.file_name, node.start_mark)


def _mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    _nest(loader, node)
    loader.flatten_mapping(node)
    out = line_dict(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = _value(loader, key_node)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "a key must be a plain word, not a list or mapping",
                key_node.start_mark,
            )
        # Keys are field names; `1:` or `null:` are typos that the schema reports as unknown keys.
        key = key if isinstance(key, str) else str(key)
        line = key_node.start_mark.line + 1
        if key in out:
            loader.duplicates.append((line, key, out, out.lines[key]))
        out[key] = _value(loader, value_node)
        out.lines.setdefault(key, line)
    loader.depth -= 1
    return out


def _sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    _nest(loader, node)
    out = LineList(_value(loader, child) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    loader.depth -= 1
    return out


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def located(name: str, text: str, exc: Exception) -> InvalidFile:
    """Return any error met while reading a document as one located message."""
    if isinstance(exc, yaml.YAMLError):
        return InvalidFile([syntax_error(name, exc, text)])
    # What the parser lets through unchecked (a number of 5,000 digits, text that is not
    # Unicode): still one located line, never a traceback.
    return InvalidFile([FileError(name, 1, "yaml", f"cannot read the YAML: {cut(str(exc))}")])


def load_composed(text: str, name: str) -> tuple[Any, Duplicates]:
    """Compose the whole document, measure it with its aliases expanded, then build it."""
    loader = LineLoader(text)
    loader.duplicates, loader.file_name = [], name
    try:
        node = loader.get_single_node()
        if node is not None:
            check_document(node, name)
        data = None if node is None else loader.construct_document(node)
    except InvalidFile:
        raise
    except Exception as exc:
        raise located(name, text, exc) from None
    finally:
        loader.dispose()
    return data, loader.duplicates


def syntax_error(name: str, exc: yaml.YAMLError, text: str = "") -> FileError:
    """Return the parser's error as one located line that says how to fix it."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 1
    position = getattr(exc, "position", None)  # a reader error: an unacceptable character
    if mark is None and isinstance(position, int):
        line = text.encode("utf-8", errors="surrogatepass")[:position].count(b"\n") + 1
    problem = cut(getattr(exc, "problem", None) or str(exc), 200)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        problem += f" ({context} on line {context_mark.line + 1})"
    return FileError(
        name,
        line,
        "yaml",
        f"syntax error: {problem}; check the indentation, colons, brackets and quotes",
    )
