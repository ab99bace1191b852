"""The JSON columns' encoder: orjson, with the standard library for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from storage.db import dump_json

# Any text, lone surrogates included (a YAML "\\ud83d" escape gives one), any integer.
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_every_value_comes_back_unchanged(value: Any) -> None:
    assert json.loads(dump_json(value)) == value  # the columns are read with `json.loads`


def test_values_orjson_refuses_are_stored_as_before() -> None:
    for value in ({"title": "x\ud83d"}, {"n": 2**70}):
        assert dump_json(value) == json.dumps(value)


def test_non_string_keys_become_strings_as_with_the_standard_library() -> None:
    assert json.loads(dump_json({1: "a", 2.5: "b"})) == json.loads(json.dumps({1: "a", 2.5: "b"}))
