"""The shape guard (issue #13 section 1): error pages and lost shapes are failures, not changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.tracking.shape import Shape, page_problem, shape_problem

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "policy_pages"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("cloudflare-challenge.html", "title 'Just a moment...'"),
        ("access-denied.html", "title 'Access Denied'"),
        ("empty.html", "the response body is empty"),
    ],
)
def test_error_pages_are_recognised(name: str, reason: str) -> None:
    problem = page_problem((PAGES / name).read_bytes())
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "body",
    [
        b"  \n\t ",
        b"<html><body><h2>Checking if the site connection is secure</h2></body></html>",
        b"<html><body><p>Verifying you are human. This may take a few seconds.</p></body></html>",
        b"<html><head><title>503 Service Temporarily Unavailable</title></head></html>",
    ],
)
def test_small_challenge_bodies(body: bytes) -> None:
    assert page_problem(body) is not None


@pytest.mark.parametrize(
    "name",
    [
        "anthropic-supported-regions.html",
        "openai-supported-countries.html",
        "anthropic-supported-regions-cookie-banner.html",
        "anthropic-supported-regions-table.html",
    ],
)
def test_real_pages_pass(name: str) -> None:
    assert page_problem((PAGES / name).read_bytes()) is None


def test_json_bodies_are_not_read_as_pages() -> None:
    assert (
        page_problem(b'{"message": "access denied for this key? no: just a word"}', html_page=False)
        is None
    )


LIST = Shape(chars=2000, places=175, intro="Supported countries")


@pytest.mark.parametrize(
    ("before", "after", "removed", "failed"),
    [
        (LIST, Shape(2000, places=175), 0, None),
        (LIST, Shape(1900, places=171), 4, None),
        (LIST, Shape(1900, places=157), 17, None),  # 17 of 175 is under 10%
        (LIST, Shape(1800, places=156), 19, "19 of 175 places removed at once"),
        (LIST, Shape(0, places=0), 175, "no places found"),
        (None, Shape(40, places=0), 0, "no places found"),  # not even as a baseline
        (Shape(100, places=3), Shape(80, places=2), 1, None),  # one place may always go
        (Shape(100, places=3), Shape(60, places=1), 2, "2 of 3 places removed"),
        (Shape(5000), Shape(0), 0, "the text shrank from 5000 to 0 characters"),
        (Shape(5000), Shape(300), 0, "shrank"),
        (Shape(5000), Shape(800), 0, None),
        (Shape(120), Shape(3), 0, None),  # never a full text
        (Shape(500, items=50), Shape(0, items=0), 0, "an empty answer after one with 50"),
        (Shape(500, items=50), Shape(400, items=40), 0, None),
    ],
)
def test_shape_problem(
    before: Shape | None, after: Shape, removed: int, failed: str | None
) -> None:
    problem = shape_problem(before, after, removed=removed, max_removed_share=0.10)
    if failed is None:
        assert problem is None
    else:
        assert problem is not None and failed in problem


def test_share_is_configurable() -> None:
    assert shape_problem(LIST, Shape(1800, places=156), removed=19, max_removed_share=0.2) is None


def test_shape_round_trips() -> None:
    shape = Shape(10, 3, None, "main li", "Intro")
    assert Shape.from_dict(shape.to_dict()) == shape
