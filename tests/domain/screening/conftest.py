"""Shared fixtures for screening domain tests: the committed samples and the full SDN file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "screening"
# The shared reference folder sits beside the checkout; a worktree elsewhere names it with
# CLEARANCE_REFERENCE_DIR.
REFERENCE = Path(
    os.environ.get("CLEARANCE_REFERENCE_DIR")
    or Path(__file__).resolve().parents[3].parent / "shared" / "reference"
)
FULL_SDN = REFERENCE / "screening" / "ofac-sdn-2024-04-15.csv"


def fixture_bytes(name: str) -> bytes:
    """A committed sample file."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def full_sdn() -> bytes:
    """The real SDN file from the shared reference (skips when it is not reachable)."""
    if not FULL_SDN.exists():
        pytest.skip(f"{FULL_SDN} is not present (set CLEARANCE_REFERENCE_DIR)")
    return FULL_SDN.read_bytes()
