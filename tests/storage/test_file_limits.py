"""Files that try to exhaust the loader: each fails fast with one located message.

The billion-laughs file is the classic one (nine levels of nine aliases), byte for byte the size
the issue measured; the rest are the other shapes of hostile input a rule file can take.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.domain.errors import InvalidFile
from bot.domain.rules.files import parse_text, read_file
from bot.domain.rules.limits import MAX_DEPTH, SIZE_SETTING, read_limited
from bot.services.rule_changes import import_entity_text
from storage.db import session_scope
from storage.rules import current_revision


def billion_laughs() -> str:
    """Nine levels of nine aliases: 9**9 values once expanded, 363 bytes as written."""
    lines = ["version: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("rules: *i")
    return "\n".join(lines) + "\n"


def errors(text: str) -> list[str]:
    with pytest.raises(InvalidFile) as exc:
        parse_text(text, "f.yaml")
    return [str(e) for e in exc.value.errors]


def test_billion_laughs_fails_at_once_with_a_located_message() -> None:
    text = billion_laughs()
    assert len(text.encode()) == 363
    start = time.perf_counter()
    [message] = errors(text)
    assert time.perf_counter() - start < 2
    assert message.startswith("f.yaml:") and "expands to more than" in message


def test_an_alias_cycle_is_refused() -> None:
    [message] = errors("version: 1\nrules: &r [*r]\n")
    assert message.startswith("f.yaml:2: yaml:")


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_is_a_located_message_not_a_recursion_error(opening: str) -> None:
    depth = 5000
    closing = "]" if opening == "[" else "}"
    [message] = errors("version: 1\nrules: " + opening * depth + "x" + closing * depth + "\n")
    assert message.startswith("f.yaml:2: yaml:")


def test_nesting_just_past_the_limit_is_refused_and_names_the_limit() -> None:
    depth = MAX_DEPTH + 1
    [message] = errors("version: 1\nrules: " + "[" * depth + "x" + "]" * depth + "\n")
    assert f"more than {MAX_DEPTH} levels" in message


def test_a_nul_character_is_located() -> None:
    [message] = errors("version: 1\nrules:\n  - id: a\0b\n")
    assert message.startswith("f.yaml:3: yaml:"), message


def test_a_number_of_5000_digits_is_a_message() -> None:
    [message] = errors("version: 1\nrules: " + "9" * 5000 + "\n")
    assert message.startswith("f.yaml:") and len(message) < 400


def test_values_in_messages_are_cut_to_about_80_characters() -> None:
    long = "x" * 10_000
    found = errors(
        f"version: 1\nrules:\n  - {{id: a, effect: {long}, title: T, everywhere: true}}\n"
    )
    assert any("unknown effect" in m for m in found)
    assert all(len(m) < 400 for m in found), [len(m) for m in found]


def test_size_cap_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\n" + "# padding\n" * 200)
    with pytest.raises(InvalidFile) as exc:
        read_file(path, max_bytes=1000)
    [error] = exc.value.errors
    assert error.line == 1 and SIZE_SETTING in error.message and "over the limit" in error.message


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    with pytest.raises(InvalidFile) as exc:
        read_limited(fifo)
    assert time.perf_counter() - start < 2
    assert "not a regular file" in exc.value.errors[0].message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_and_folders_are_refused(device: str, tmp_path: Path) -> None:
    for path in (Path(device), tmp_path):
        with pytest.raises(InvalidFile) as exc:
            read_limited(path)
        assert "not a regular file" in exc.value.errors[0].message


def test_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nrules:\n  - id: caf\xe9\n")
    with pytest.raises(InvalidFile) as exc:
        read_limited(path)
    assert exc.value.errors[0].line == 3 and "UTF-8" in exc.value.errors[0].message


def test_the_modal_takes_the_same_limits(engine: Engine) -> None:
    # The same bomb typed into a modal, as the keys of one rule.
    bomb = billion_laughs().replace("version: 1\n", "").replace("rules: *i", "title: *i")
    with session_scope(engine) as session:
        before = current_revision(session=session)
        start = time.perf_counter()
        with pytest.raises(InvalidFile) as exc:
            import_entity_text(
                session=session,
                kind="rules",
                text="id: bomb\n" + bomb,
                mode="add",
                expected_id=None,
                author="UADMIN",
                now=datetime(2026, 11, 26, tzinfo=UTC),
                reason="test",
            )
        assert time.perf_counter() - start < 2
        assert "expands to more than" in exc.value.errors[0].message
        assert current_revision(session=session) == before


@settings(
    max_examples=300,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400).map(lambda b: b.decode("latin-1"))))
def test_any_text_gives_a_result_or_located_errors(text: str) -> None:
    try:
        parse_text("version: 1\n" + text, "f.yaml")
    except InvalidFile as exc:
        assert exc.errors
        for e in exc.errors:
            assert str(e).startswith("f.yaml:") and e.line >= 1
            assert len(e.message) < 1000
