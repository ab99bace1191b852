"""Shared fixtures for screening domain tests: the committed samples and the full SDN file."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "screening"
FULL_SDN = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "reference"
    / "screening"
    / "ofac-sdn-2024-04-15.csv"
)


def fixture_bytes(name: str) -> bytes:
    """A committed sample file."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def full_sdn() -> bytes:
    """The real SDN file from the shared reference (skips when the checkout has no ../shared)."""
    if not FULL_SDN.exists():
        pytest.skip("../shared/reference/screening/ofac-sdn-2024-04-15.csv is not present")
    return FULL_SDN.read_bytes()
