"""The gunicorn worker of HTTP mode: uvicorn's event loop, with a deadline on request headers.

uvicorn reads requests without any time limit until their headers are complete; a client that
never finishes them would hold its socket forever. Here every connection must deliver a request's
headers within `header_timeout_s` of connecting, and again after each response.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers come too slowly."""

    header_timeout_s = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        """Stop the clock once a new request's headers are in."""
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:
            self._disarm()

    def on_response_complete(self) -> None:
        """Restart the clock for the next request on a kept-alive connection."""
        self._arm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
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


def worker_class(*, header_timeout_s: float) -> type[Any]:
    """Return a gunicorn worker class serving ASGI with the given header deadline."""
    protocol = type(
        "ClearanceH11Protocol", (HeaderDeadlineProtocol,), {"header_timeout_s": header_timeout_s}
    )
    return type(
        "ClearanceWorker",
        (UvicornWorker,),
        {"CONFIG_KWARGS": {"loop": "asyncio", "http": protocol, "lifespan": "on"}},
    )
