"""The 50 Percent Rule through ownership chains, and the Affiliates Rule's dates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.screening.ownership import affiliates_rule_status, blocked_by_ownership

LISTED = {"sdn-a": "OFAC SDN entry 1", "sdn-b": "OFAC SDN entry 2"}


@pytest.mark.parametrize(
    ("owners", "blocked", "share"),
    [
        ({"x": [("sdn-a", 50)]}, True, 50),  # exactly 50% counts
        ({"x": [("sdn-a", 49.9)]}, False, None),
        ({"x": [("sdn-a", 25), ("sdn-b", 25)]}, True, 50),  # in aggregate
        ({"x": [("sdn-a", 30), ("clean", 70)]}, False, None),
        (
            {"x": [("mid", 100)], "mid": [("sdn-a", 50)]},
            True,
            100,
        ),  # indirect, through a blocked entity
        (
            {"x": [("mid", 100)], "mid": [("sdn-a", 40)]},
            False,
            None,
        ),  # mid not blocked: nothing passes
        ({"x": [("mid", 30), ("sdn-b", 20)], "mid": [("sdn-a", 60)]}, True, 50),
        ({"x": [("y", 60)], "y": [("x", 60)]}, False, None),  # a cycle without listed owners
    ],
)
def test_fifty_percent_rule(
    owners: dict[str, list[tuple[str, float]]], blocked: bool, share: float | None
) -> None:
    found = blocked_by_ownership("x", owners, LISTED)
    assert (found is not None) == blocked
    if found is not None:
        assert found.share == share
        assert all(chain[-1].endswith("of x") for chain in found.chains)


def test_chain_is_shown() -> None:
    found = blocked_by_ownership("x", {"x": [("mid", 100)], "mid": [("sdn-a", 50)]}, LISTED)
    assert found is not None
    assert found.chains == (
        (
            "sdn-a (OFAC SDN entry 1) owns 50% of mid",
            "mid (blocked: 50% owned by blocked parties) owns 100% of x",
        ),
    )


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (date(2025, 9, 28), "not_yet"),
        (date(2025, 9, 29), "in_force"),
        (date(2025, 11, 9), "in_force"),
        (date(2025, 11, 10), "suspended"),
        (date(2026, 11, 9), "suspended"),
        (date(2026, 11, 10), "returned_unverified"),
    ],
)
def test_affiliates_rule_dates(on: date, status: str) -> None:
    assert affiliates_rule_status(on) == status
