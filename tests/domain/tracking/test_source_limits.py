"""Hostile bodies: parsed only as the bytes fetched, within bounds of depth, size and time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.tracking.html_limits import ParseLimits
from bot.domain.tracking.pages import html_text
from bot.domain.tracking.snapshots import SourceError, SourceSpec
from bot.domain.tracking.sources import extract

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>
<item><guid>secret-1</guid><title>Read from this machine</title></item></channel></rss>"""


def test_900000_nested_divs_are_refused_at_once() -> None:
    page = b"<html><body>" + b"<div>" * 900_000 + b"x" + b"</div>" * 900_000 + b"</body></html>"
    assert len(page) > 9_000_000
    started = time.monotonic()
    with pytest.raises(SourceError, match="more than 512 deep"):
        extract(SourceSpec("webpage"), page)
    assert time.monotonic() - started < 3


def test_a_page_with_too_many_elements_is_refused() -> None:
    page = b"<main>" + b"<p>a</p>" * 2_000 + b"</main>"
    with pytest.raises(SourceError, match="more than 1000 elements"):
        html_text(page, limits=ParseLimits(max_elements=1000))


def test_a_page_that_takes_too_long_is_refused() -> None:
    calls: list[int] = []

    def out_of_time() -> bool:
        calls.append(1)
        return len(calls) > 2

    page = b"<main>" + b"<p>a</p>" * 5_000 + b"</main>"
    with pytest.raises(SourceError, match="took longer"):
        html_text(page, limits=ParseLimits(out_of_time=out_of_time))


def test_nesting_within_the_limit_is_read() -> None:
    page = b"<main>" + b"<div>" * 400 + b"Germany" + b"</div>" * 400 + b"</main>"
    assert html_text(page).strip() == "Germany"


def test_a_feed_body_that_names_a_file_is_not_opened(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(RSS)
    assert extract(SourceSpec("feed"), RSS).items[0].id == "secret-1"
    with pytest.raises(SourceError):
        extract(SourceSpec("feed"), str(feed).encode())


@pytest.mark.parametrize("kind", ["json", "federal_register"])
def test_deeply_nested_json_is_a_source_error(kind: str) -> None:
    with pytest.raises(SourceError, match="not JSON"):
        extract(SourceSpec(kind, "a"), b"[" * 100_000)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["webpage", "feed", "json", "federal_register"]),
    st.binary(max_size=3000) | st.text(max_size=3000).map(str.encode),
)
def test_any_body_is_read_or_a_source_error(kind: str, body: bytes) -> None:
    try:
        extract(SourceSpec(kind, "data[*].name" if kind == "json" else None), body)
    except SourceError as exc:
        assert len(str(exc)) < 2000


def test_a_feed_entity_naming_a_file_is_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><item><guid>g</guid><title>&x;</title></item>'
        "</channel></rss>"
    ).encode()
    try:
        snapshot = extract(SourceSpec("feed"), body)
    except SourceError:
        return
    assert "SECRET" not in repr(snapshot)
