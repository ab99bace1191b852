"""Stopping Socket Mode cleanly on SIGTERM or SIGINT, as HTTP mode does."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Protocol

log = logging.getLogger("clearance.serve")


class Connectable(Protocol):
    """What Bolt's SocketModeHandler offers for a managed start and stop."""

    def connect(self) -> None: ...  # pragma: no cover - protocol

    def close(self) -> None: ...  # pragma: no cover - protocol


def run_until_stopped(handler: Connectable) -> None:
    """Connect, then wait for SIGTERM or SIGINT and close the socket; the process exits 0.

    `SocketModeHandler.start` waits forever, so SIGTERM killed the process (exit -15) with
    the WebSocket open and answers in flight.
    """
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    handler.connect()
    stop.wait()
    try:
        handler.close()
    except Exception:
        log.exception("could not close the Socket Mode connection cleanly")
    log.info("stopped")
