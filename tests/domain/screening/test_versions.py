"""Sanity guards on a new download, and version diffs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.screening.entries import Address, Alias, Entry
from bot.domain.screening.versions import check_new_version, diff_versions, keyed, parts_held


def _entries(n: int) -> dict[str, Entry]:
    return keyed(tuple(Entry(str(i), f"Company {i}") for i in range(n)))


def test_guards() -> None:
    assert check_new_version(None, _entries(5), removed=0) is None
    assert check_new_version(100, {}, removed=100) == "the download has no entries"
    assert check_new_version(100, _entries(90), removed=10) is None  # exactly 10% is allowed
    reason = check_new_version(100, _entries(89), removed=11)
    assert reason is not None and "remove 11 of 100" in reason
    assert check_new_version(100, _entries(80), removed=20, max_removed_share=0.25) is None


def test_diff_names_added_removed_and_changed() -> None:
    before = _entries(3)
    after = dict(before)
    del after["0"]
    after["1"] = replace(after["1"], programs=("SDGT",))
    after["9"] = Entry("9", "New Co", citation="90 FR 1234")
    diff = diff_versions(before, after)
    assert [c.key for c in diff.added] == ["9"]
    assert [c.key for c in diff.removed] == ["0"]
    assert [c.key for c in diff.changed] == ["1"]
    assert "90 FR 1234" in diff.added[0].describe("US CSL")
    assert diff_versions(before, before).empty


def _with(aliases: int = 0, addresses: int = 0, weak: int = 0) -> dict[str, Entry]:
    e = Entry(
        "1",
        "ACME",
        aliases=tuple(Alias(f"A{i}") for i in range(aliases))
        + tuple(Alias(f"W{i}", weak=True) for i in range(weak)),
        addresses=tuple(Address(f"street {i}") for i in range(addresses)),
    )
    return {e.key: e}


@pytest.mark.parametrize(
    ("before", "after", "refused"),
    [
        (_with(aliases=2, addresses=1), _with(aliases=0, addresses=1), "no aliases"),
        (_with(aliases=2, addresses=1), _with(aliases=2, addresses=0), "no addresses"),
        (_with(aliases=2), _with(weak=3), "no aliases"),  # remarks' weak aliases are not alt.csv
        (_with(aliases=2, addresses=1), _with(aliases=1, addresses=1), None),  # fewer is a change
        (_with(), _with(), None),  # a list that never had them
        (_with(weak=1), _with(), None),
    ],
)
def test_a_version_never_loses_every_alias_or_address(
    before: dict[str, Entry], after: dict[str, Entry], refused: str | None
) -> None:
    reason = check_new_version(1, after, removed=0, previous_parts=parts_held(before.values()))
    assert (reason is None) == (refused is None)
    if refused is not None:
        assert reason is not None and refused in reason and "stored version stays" in reason
