"""YAML without anchors, built straight from the parser's events.

No node object of PyYAML's is made: each value is built as its event arrives, mappings and lists
with their line numbers, so a file costs little more than its data. A document whose shape this
builder leaves alone (anchors, merge keys, collection keys, several documents) goes to the
whole-document loader, which reads or refuses it as before.
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.domain.errors import InvalidFile
from bot.domain.rules.limits import MAX_DEPTH
from bot.domain.rules.yaml_lines import (
    Duplicates,
    LineDict,
    LineList,
    LineLoader,
    line_dict,
    load_composed,
    located,
    too_deep,
)

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# First characters after which a plain scalar may be something other than text (a number,
# null, a boolean, a merge key); every other plain scalar is text without asking the resolver.
_MAYBE_TYPED = frozenset(
    k for k, found in LineLoader.yaml_implicit_resolvers.items() if k and found
)
_PLAIN_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def load_yaml(text: str, name: str) -> tuple[Any, Duplicates]:
    """Build the document with line numbers; return it and its duplicate keys.

    Raises `InvalidFile` with a located message for any error, limits included.
    """
    if "&" not in text:
        # Without anchors nothing expands beyond the file's size: build it from the events.
        streaming = LineLoader(text)
        streaming.duplicates, streaming.file_name = [], name
        try:
            return _build_from_events(streaming), streaming.duplicates
        except _Unusual:
            pass
        except InvalidFile:
            raise
        except Exception as exc:
            raise located(name, text, exc) from None
        finally:
            streaming.dispose()
    return load_composed(text, name)


class _Unusual(Exception):
    """A document shape the event builder leaves to the whole-document loader."""


def _scalar(loader: LineLoader, event: yaml.ScalarEvent) -> Any:
    """Build a scalar from its event as the composer and constructor would."""
    value, tag = event.value, event.tag
    if tag is None or tag == "!":
        if not event.implicit[0] or (value and value[0] not in _MAYBE_TYPED):
            return value
        tag = loader.resolve(yaml.ScalarNode, value, event.implicit)
    if tag == _STR_TAG:
        return value
    if tag == _MERGE_TAG:
        raise _Unusual  # a merge key: the whole-document loader merges
    start: Any = event.start_mark  # libyaml's marks serve a node's errors as PyYAML's do
    end: Any = event.end_mark
    node = yaml.ScalarNode(tag, value, start, end, event.style)
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.constructed_objects.clear()


def _key(loader: LineLoader, value: Any, is_scalar: bool) -> str:
    """Return a mapping key as text: one string per distinct key, shared by every entry."""
    if not is_scalar:
        raise _Unusual  # a list or mapping as a key: the whole-document loader says so
    key = value if type(value) is str else str(value)
    return loader.keys.setdefault(key, key)


def _container(event: yaml.Event, line: int) -> LineDict | LineList:
    """Return the empty mapping or list an event opens."""
    if getattr(event, "tag", None) not in _PLAIN_TAGS or getattr(event, "anchor", None):
        raise _Unusual  # a tagged or anchored one: the whole-document loader reads it
    if type(event) is yaml.MappingStartEvent:
        return line_dict(line)
    if type(event) is yaml.SequenceStartEvent:
        out = LineList()
        out.line, out.lines = line, []
        return out
    raise _Unusual  # an alias (here undefined): the whole-document loader says so


def _build_from_events(loader: LineLoader) -> Any:  # one loop, flat for speed
    """Build a single document from the parser's events, keeping no node objects."""
    get = loader.get_event
    get()  # the stream starts
    if loader.check_event(yaml.StreamEndEvent):
        return None
    get()  # the document starts
    loader.keys = {}
    duplicates = loader.duplicates
    # The open mapping or list (`top`), and for a mapping the key waiting for its value;
    # `stack` holds the same for each enclosing one.
    top: Any = None
    key: str | None = None
    key_line = 0
    stack: list[tuple[Any, str | None, int]] = []
    mark_line, line = -1, 0
    while True:
        event = get()
        kind = type(event)
        if event.start_mark.line != mark_line:  # values on one line share its number
            mark_line = event.start_mark.line
            line = mark_line + 1
        if kind is yaml.ScalarEvent:
            if event.anchor is not None:
                raise _Unusual
            value = event.value
            if event.tag is not None or (
                event.implicit[0] and (not value or value[0] in _MAYBE_TYPED)
            ):
                value = _scalar(loader, event)
            if top is None:
                return _end(loader, value)
            is_scalar = True
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            if not stack:
                return _end(loader, top)
            top, key, key_line = stack.pop()
            continue
        else:
            if len(stack) >= MAX_DEPTH - 1:
                raise too_deep(loader.file_name, event.start_mark)
            value = _container(event, line)
            is_scalar = False
        if top is not None:
            if type(top) is LineList:
                top.append(value)
                top.lines.append(line)
            elif key is None:
                key, key_line = _key(loader, value, is_scalar), line
            else:
                if key in top:
                    duplicates.append((key_line, key, top, top.lines[key]))
                top[key] = value
                top.lines.setdefault(key, key_line)
                key = None
        if not is_scalar:
            if top is not None:
                stack.append((top, key, key_line))
            top, key, key_line = value, None, 0


def _end(loader: LineLoader, root: Any) -> Any:
    """Return the document once its root is complete, or leave a stream of several."""
    loader.get_event()  # the document ends
    if not loader.check_event(yaml.StreamEndEvent):
        raise _Unusual  # more than one document: the whole-document loader says so
    return root
