"""The JSON columns' encoder: orjson, with the standard library for what orjson refuses."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.audit_chain import _sha256, plain_json
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


# Keys of every kind orjson takes with OPT_NON_STR_KEYS, so that some collide once made strings.
any_keys = st.text(max_size=3) | st.integers(-3, 3) | st.booleans() | st.none()
loose = st.recursive(
    scalars | st.floats() | st.tuples(scalars, scalars),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_keys, inner, max_size=4),
    max_leaves=20,
)


@given(loose)
def test_the_audit_chain_reads_json_back_as_the_database_does(value: Any) -> None:
    # A chained row's hash covers its JSON columns as they read back: old rows must still verify.
    assert _tagged(plain_json(value)) == _tagged(json.loads(dump_json(value)))


def _tagged(value: Any) -> Any:
    """Return a value with every part's type beside it (1 and 1.0, [] and (), NaN compare)."""
    if isinstance(value, dict):
        return ("dict", [(_tagged(k), _tagged(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_tagged(v) for v in value])
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 4095, 4096, 10_000])
def test_audit_rows_hash_to_plain_sha256_at_every_size(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    assert _sha256(data[:size]) == hashlib.sha256(data[:size]).hexdigest()
