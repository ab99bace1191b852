"""Fetching a policy source over HTTP: conditional GET, a total deadline and a maximum size.

Redirects are followed by hand, at most `MAX_REDIRECTS`, each to an http(s) URL; every
connection is checked by `bot.services.fetch_guard`. The size cap counts the bytes after
decompression, so a small gzip bomb cannot fill memory.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore

from bot.services.fetch_guard import SCHEMES, AddressRefused, GuardedBackend, Networks

log = logging.getLogger("clearance.fetching")
USER_AGENT = "Clearance/0.1 (policy tracker; +https://github.com/)"
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_BYTES = 5_000_000
MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Fetched:
    """The outcome of one fetch: a body, "not modified", or an error."""

    status: int
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None

    @property
    def not_modified(self) -> bool:
        """Return whether the server answered 304 Not Modified."""
        return self.status == 304


class _Unreadable(Exception):
    pass


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allowed: Networks = (),
) -> Fetched:
    """GET a URL with If-None-Match / If-Modified-Since; never raise for HTTP or network errors.

    `timeout` bounds the whole fetch (every hop, connect to last byte); `allowed` lists the
    non-public networks that may still be reached.
    """
    headers = [("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate")]
    if etag:
        headers.append(("If-None-Match", etag))
    if last_modified:
        headers.append(("If-Modified-Since", last_modified))
    deadline = time.monotonic() + timeout
    try:
        with httpcore.ConnectionPool(
            network_backend=GuardedBackend(deadline, allowed), max_connections=1
        ) as pool:
            for _hop in range(MAX_REDIRECTS + 1):
                if urlsplit(url).scheme not in SCHEMES:
                    return Fetched(0, error=f"refused: {url[:200]} is not http or https")
                with pool.stream("GET", url, headers=headers) as resp:
                    location = _header(resp.headers, b"location")
                    if resp.status in REDIRECTS and location:
                        url = urljoin(url, location)
                        continue
                    if resp.status == 304:
                        return Fetched(304, etag=etag, last_modified=last_modified)
                    if not 200 <= resp.status < 300:
                        return Fetched(resp.status, error=f"HTTP {resp.status}")
                    body = _read(
                        resp.iter_stream(), _header(resp.headers, b"content-encoding"), max_bytes
                    )
                    return Fetched(
                        resp.status,
                        body,
                        _header(resp.headers, b"etag"),
                        _header(resp.headers, b"last-modified"),
                    )
            return Fetched(0, error=f"more than {MAX_REDIRECTS} redirects")
    except Exception as exc:  # a failure of one source must never end a whole poll
        return _failed(exc, url, timeout)


def _failed(exc: Exception, url: str, timeout: float) -> Fetched:
    """Return a fetch's exception as a failed result whose error says what went wrong."""
    if isinstance(exc, AddressRefused):
        return Fetched(0, error=f"refused: {exc.message}")
    if isinstance(exc, _Unreadable):
        return Fetched(0, error=str(exc))
    if isinstance(exc, httpcore.TimeoutException):
        return Fetched(0, error=f"network error: no complete answer within {timeout:g} s")
    if isinstance(
        exc, httpcore.NetworkError | httpcore.ProtocolError | httpcore.UnsupportedProtocol
    ):
        return Fetched(0, error=f"network error: {str(exc)[:200]}")
    if isinstance(exc, zlib.error):
        return Fetched(0, error=f"bad compressed body: {exc}")
    if isinstance(exc, ValueError):  # a URL (or redirect) that can't be parsed: bad host, bad port
        return Fetched(0, error=f"not a valid URL: {str(exc)[:200]}")
    # Called from the caller's except block, so the log carries the traceback.
    log.exception("fetching %s failed", url[:200])
    return Fetched(0, error=f"could not fetch ({type(exc).__name__})")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _read(chunks: Iterable[bytes], encoding: str | None, max_bytes: int) -> bytes:
    """Return the decoded body, raising `_TooLarge` once it passes `max_bytes`."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif coding == "deflate":
        decoder = zlib.decompressobj()
    elif coding == "identity":
        decoder = None
    else:
        raise _Unreadable(f"unsupported Content-Encoding '{coding[:40]}'")
    out = bytearray()
    for chunk in chunks:
        if decoder is None:
            out += chunk
        else:
            data = chunk
            while data:
                # At most what still fits, plus one byte to notice going over.
                out += decoder.decompress(data, max_bytes - len(out) + 1)
                data = decoder.unconsumed_tail
                if len(out) > max_bytes:
                    break
        if len(out) > max_bytes:
            raise _Unreadable(f"response larger than {max_bytes} bytes")
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise _Unreadable(f"response larger than {max_bytes} bytes")
    return bytes(out)
