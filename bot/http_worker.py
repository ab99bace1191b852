"""The gunicorn worker of HTTP mode: uvicorn's event loop, a header deadline, a connection cap.

uvicorn reads requests without any time limit until their headers are complete; a client that
never finishes them would hold its socket forever. Here every connection must deliver a request's
headers within `header_timeout_s` of connecting, and again after each response.

uvicorn also accepts every connection offered, so a flood of idle ones could use up the worker's
file descriptors. Here a worker holds at most `max_connections`: a connection beyond them closes
the one that has waited longest without a request in progress, or, when every connection is
answering a request, is itself answered 503 and closed at once. Either way the connection closed
gets a 503, so nothing waits on it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker

log = logging.getLogger("clearance.http")
_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
    b"content-length: 26\r\nconnection: close\r\n\r\ntoo many open connections\n"
)


class _OverCapLog:
    """Log connections closed over the cap at most once every `every_s` (a flood is many)."""

    every_s = 10.0

    def __init__(self) -> None:
        self.count = 0
        self.logged_at = float("-inf")

    def note(self, now: float, cap: int) -> None:
        """Count one closed connection; log the count if the last line is old enough."""
        self.count += 1
        if now - self.logged_at >= self.every_s:
            log.warning(
                "%d connection(s) closed with a 503: over the cap of %d open connections "
                "(CLEARANCE_HTTP_MAX_CONNECTIONS)",
                self.count,
                cap,
            )
            self.count, self.logged_at = 0, now


_closed_over_cap = _OverCapLog()


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers come too slowly."""

    header_timeout_s = 10.0
    max_connections = 512
    _deadline: asyncio.TimerHandle | None = None
    # When this connection began waiting for a request's headers; None while one is answered.
    _waiting_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers, within the cap on connections."""
        super().connection_made(transport)
        self._arm()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def handle_events(self) -> None:
        """Stop the clock once a new request's headers are in."""
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:
            self._disarm()
            self._waiting_since = None

    def on_response_complete(self) -> None:
        """Restart the clock for the next request on a kept-alive connection."""
        self._arm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def _make_room(self) -> None:
        """Close the connection waiting longest for a request, or refuse this one."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, HeaderDeadlineProtocol) and c._waiting_since is not None
        ]
        oldest = min(waiting, key=lambda c: c._waiting_since or 0.0, default=self)
        oldest._unavailable()
        _closed_over_cap.note(self.loop.time(), self.max_connections)

    def _unavailable(self) -> None:
        self._disarm()
        self._waiting_since = None
        if not self.transport.is_closing():
            self.transport.write(_UNAVAILABLE)
            self.transport.close()
        self.connections.discard(self)  # its slot is free now, not once the close completes

    def _arm(self) -> None:
        self._disarm()
        self._waiting_since = self.loop.time()
        self._deadline = self.loop.call_later(self.header_timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its body has its own deadline
        if not self.transport.is_closing():
            self.transport.close()


def worker_class(*, header_timeout_s: float, max_connections: int) -> type[Any]:
    """Return a gunicorn worker class serving ASGI with the given header deadline and cap."""
    protocol = type(
        "ClearanceH11Protocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout_s": header_timeout_s, "max_connections": max_connections},
    )
    return type(
        "ClearanceWorker",
        (UvicornWorker,),
        {"CONFIG_KWARGS": {"loop": "asyncio", "http": protocol, "lifespan": "on"}},
    )
