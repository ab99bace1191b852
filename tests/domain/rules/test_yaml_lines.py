"""The event builder (files without anchors) gives what the whole-document loader gives."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidFile
from bot.domain.rules.yaml_events import load_yaml
from bot.domain.rules.yaml_lines import LineDict, LineList, load_composed


def shape(value: Any) -> Any:
    """Return a value with every line number it carries, for comparison."""
    if isinstance(value, LineDict):
        return ("map", value.line, [(k, value.lines[k], shape(v)) for k, v in value.items()])
    if isinstance(value, LineList):
        return ("seq", value.line, list(zip(value.lines, map(shape, value), strict=True)))
    return (type(value).__name__, value)


def both(text: str) -> tuple[Any, Any]:
    fast, fast_dups = load_yaml(text, "f.yaml")
    slow, slow_dups = load_composed(text, "f.yaml")
    return (shape(fast), [(a, k, d) for a, k, _m, d in fast_dups]), (
        shape(slow),
        [(a, k, d) for a, k, _m, d in slow_dups],
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "version: 1\n",
        "version: 1\nrules:\n  - {id: a, effect: allow, places: {in: [DE, FR]}}\n",
        "rules:\n  - id: a\n    title: 'x: y'\n    url: \"https://e.org\"\n  - id: b\n",
        "a: 1\nb: 1.5\nc: true\nd: no\ne: null\nf: ~\ng:\nh: 2025-01-01\ni: '1'\nj: -3\n",
        "a: 1\na: 2\nb: {c: 1, c: 2}\n",
        "a: !!str 12\nb: !!int '7'\nc: !!float 1\n",
        "a: |\n  two\n  lines\nb: >\n  folded\n  text\n",
        "1: one\nnull: x\ntrue: y\n",
        "- a\n- [b, c]\n",
        "plain\n",
        "a: [[[[x]]]]\n",
        "on: off\nyes: Y\nNL: NO\n",
    ],
)
def test_events_build_what_the_whole_document_loader_builds(text: str) -> None:
    fast, slow = both(text)
    assert fast == slow


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\n",
        "a: b: c\n",
        "a: *nowhere\n",
        "--- 1\n--- 2\n",
        "<<: {a: 1}\nb: 2\n",
        "? [a]\n: 1\n",
        "a: !!binary 'not base64 ***'\n",
        "a: !custom 1\n",
        "a: 9" + "9" * 5000 + "\n",
    ],
)
def test_odd_documents_give_the_same_result_or_the_same_error(text: str) -> None:
    def outcome(load: Any) -> Any:
        try:
            data, dups = load(text, "f.yaml")
        except InvalidFile as exc:
            return [str(e) for e in exc.errors]
        return shape(data), [(a, k, d) for a, k, _m, d in dups]

    assert outcome(load_yaml) == outcome(load_composed)


scalars = st.one_of(
    st.text(max_size=12), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False)
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(documents, st.sampled_from([None, True, False]))
def test_any_dumped_document_builds_the_same_both_ways(data: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    fast, slow = both(text)
    assert fast == slow
