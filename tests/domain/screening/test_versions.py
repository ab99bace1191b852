"""Sanity guards on a new download, and version diffs."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.screening.entries import Entry
from bot.domain.screening.versions import check_new_version, diff_versions, keyed


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
