"""Fetching hostile sources: deadlines, size caps after decompression, and only public addresses."""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections.abc import Iterator
from ipaddress import ip_address, ip_network

import pytest

from bot.services.fetch_guard import AddressRefused, check_url, refusal
from bot.services.fetching import fetch
from tests.support.hostile_sources import HostileServer, answer, trickle

LOCAL = (ip_network("127.0.0.1/32"),)
PAGE = b"<html><body><main><p>Policy</p></main></body></html>"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def test_a_page_is_fetched(hostile: HostileServer) -> None:
    hostile.routes["/p"] = answer("200 OK", PAGE, {"ETag": '"v1"'})
    got = fetch(hostile.url("/p"), timeout=5, allowed=LOCAL)
    assert (got.status, got.body, got.etag, got.error) == (200, PAGE, '"v1"', None)


def test_not_modified(hostile: HostileServer) -> None:
    hostile.routes["/p"] = answer("304 Not Modified")
    got = fetch(hostile.url("/p"), etag='"v1"', timeout=5, allowed=LOCAL)
    assert got.not_modified and got.etag == '"v1"'


@pytest.mark.parametrize("headers_too", [False, True])
def test_a_slow_loris_source_is_cut_off_at_the_total_deadline(
    hostile: HostileServer, headers_too: bool
) -> None:
    hostile.routes["/slow"] = trickle(every_s=0.2, headers_too=headers_too, stop=hostile.stop)
    started = time.monotonic()
    got = fetch(hostile.url("/slow"), timeout=1.5, allowed=LOCAL)
    elapsed = time.monotonic() - started
    assert got.error is not None and "within 1.5 s" in got.error, got
    assert 1.4 < elapsed < 2.5


def test_a_gzip_bomb_counts_its_decompressed_bytes(hostile: HostileServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # ~50 KB on the wire
    hostile.routes["/bomb"] = answer("200 OK", bomb, {"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        got = fetch(hostile.url("/bomb"), timeout=5, max_bytes=1_000_000, allowed=LOCAL)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.body is None and got.error == "response larger than 1000000 bytes"
    assert peak < 10_000_000


def test_a_gzipped_page_is_decompressed(hostile: HostileServer) -> None:
    hostile.routes["/gz"] = answer("200 OK", gzip.compress(PAGE), {"Content-Encoding": "gzip"})
    assert fetch(hostile.url("/gz"), timeout=5, allowed=LOCAL).body == PAGE


def test_a_plain_body_over_the_cap_is_refused(hostile: HostileServer) -> None:
    hostile.routes["/big"] = answer("200 OK", b"x" * 2000)
    got = fetch(hostile.url("/big"), timeout=5, max_bytes=1000, allowed=LOCAL)
    assert got.error == "response larger than 1000 bytes"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("ftp://127.0.0.1/etc/passwd", "is not http or https"),
        ("file:///etc/passwd", "is not http or https"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.2:{port}/internal", "loopback"),
        ("http://[::1]:22/", "loopback"),
        ("http://10.0.0.1/", "private"),
    ],
)
def test_redirects_are_checked_at_every_hop(
    hostile: HostileServer, target: str, reason: str
) -> None:
    hostile.routes["/r"] = answer(
        "302 Found", headers={"Location": target.format(port=hostile.port)}
    )
    hostile.routes["/internal"] = answer("200 OK", b"secret")
    got = fetch(hostile.url("/r"), timeout=5, allowed=LOCAL)
    assert got.body is None and got.error is not None and reason in got.error, got
    assert hostile.requests == ["/r"]


def test_a_redirect_to_an_allowed_page_is_followed(hostile: HostileServer) -> None:
    hostile.routes["/r"] = answer("301 Moved", headers={"Location": "/p"})
    hostile.routes["/p"] = answer("200 OK", PAGE)
    assert fetch(hostile.url("/r"), timeout=5, allowed=LOCAL).body == PAGE


def test_endless_redirects_stop(hostile: HostileServer) -> None:
    hostile.routes["/r"] = answer("302 Found", headers={"Location": "/r"})
    got = fetch(hostile.url("/r"), timeout=5, allowed=LOCAL)
    assert got.error == "more than 5 redirects" and len(hostile.requests) == 6


def test_this_machine_is_refused_unless_allowed(hostile: HostileServer) -> None:
    hostile.routes["/p"] = answer("200 OK", PAGE)
    for url in (hostile.url("/p"), f"http://localhost:{hostile.port}/p"):
        got = fetch(url, timeout=5)
        assert got.error is not None and "loopback" in got.error, got
    assert hostile.requests == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("fe80::1", "link-local (cloud metadata)"),
        ("fd00:ec2::254", "private"),
        ("100.100.100.200", "non-public"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_which_addresses_are_refused(address: str, reason: str | None) -> None:
    assert refusal(ip_address(address)) == reason


def test_the_allow_list_opens_named_networks_only() -> None:
    allowed = (ip_network("127.0.0.1/32"), ip_network("10.1.0.0/16"))
    assert refusal(ip_address("127.0.0.1"), allowed) is None
    assert refusal(ip_address("10.1.2.3"), allowed) is None
    assert refusal(ip_address("10.2.0.1"), allowed) == "private"
    assert refusal(ip_address("127.0.0.2"), allowed) == "loopback"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:22/",
        "http://10.0.0.1/",
        "http://localhost/",
        "ftp://example.org/feed",
        "javascript:alert(1)",
        "http:///nohost",
        "http://[::1/",
    ],
)
def test_sources_add_refuses_what_a_fetch_would(url: str) -> None:
    with pytest.raises(AddressRefused):
        check_url(url)


def test_sources_add_accepts_a_public_address() -> None:
    check_url("https://93.184.216.34/policy")
    check_url("http://127.0.0.1:8000/x", LOCAL)


@pytest.mark.parametrize("url", ["http://[::1/", "http://127.0.0.1:99999/"])
def test_a_url_that_cannot_be_parsed_is_a_failure_not_a_crash(url: str) -> None:
    got = fetch(url, timeout=1, allowed=LOCAL)
    assert got.body is None and (got.error or "").startswith("not a valid URL")


def test_a_redirect_to_a_broken_url_is_a_failure(hostile: HostileServer) -> None:
    hostile.routes["/r"] = answer("302 Found", headers={"Location": "http://127.0.0.1:99999/x"})
    got = fetch(hostile.url("/r"), timeout=5, allowed=LOCAL)
    assert (got.error or "").startswith("not a valid URL")
