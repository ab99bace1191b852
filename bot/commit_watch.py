"""Awaiting audit commits on an event loop, woken once per batch rather than once per answer.

The audit writer completes a batch's futures one after another on its own thread. Waking the
loop for each (as `asyncio.wrap_future` does) costs a system call and a hand-over of the
interpreter lock per answer; here the first completion of a batch schedules one drain, and the
rest of the batch rides along. A future completed on the loop's own thread (a reply from the
answer process) releases its waiter at once.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from concurrent.futures import Future
from typing import Any


class CommitWatch:
    """Turn the futures of audit writes and answer-process replies into awaitables on a loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch on `loop`; made on the loop's own thread."""
        self.loop = loop
        self._loop_thread = threading.get_ident()
        self._waiters: dict[Future[Any], asyncio.Future[None]] = {}
        self._settled: collections.deque[Future[Any]] = collections.deque()
        self._drain_due = False

    async def wait(self, committed: Future[Any], timeout: float) -> bool:
        """Wait until `committed` completes; return False if `timeout` seconds pass first.

        A timeout leaves the write alone: its answer is delivered late, once it completes.
        """
        waiter = self.loop.create_future()
        self._waiters[committed] = waiter
        committed.add_done_callback(self._settle)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            return False
        finally:
            self._waiters.pop(committed, None)
        return True

    def _settle(self, committed: Future[Any]) -> None:
        """Note a completed write (on the writer's thread); wake the loop unless it is due."""
        if threading.get_ident() == self._loop_thread:
            # Completed on the loop itself (the answer process's replies are read there): no
            # wake-up to schedule, and no loop round to wait for.
            waiter = self._waiters.get(committed)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        self._settled.append(committed)
        if not self._drain_due:
            self._drain_due = True
            self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        """Release the waiters of every completed write (on the loop)."""
        self._drain_due = False  # first: a write settled from here on schedules a new drain
        while self._settled:
            waiter = self._waiters.get(self._settled.popleft())
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
