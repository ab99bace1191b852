"""Polling sources independently: each due source on its own thread, none waiting for another.

`Jobs.poll` fetches a batch and returns when all of it is done, which the CLI wants. Inside
`serve`, a source that answers slowly would then hold back every other source until its deadline,
tick after tick. Here each tick hands every due source that is not already being polled to a pool
and returns at once.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bot.services.jobs import Jobs
from storage.db import session_scope
from storage.policies import due_sources

log = logging.getLogger("clearance.polling")


class SourcePoller:
    """Start a poll of each due source without waiting; at most one poll per source at a time."""

    def __init__(self, jobs: Jobs, *, threads: int = 16) -> None:
        self.jobs = jobs
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="poll")
        self._busy: set[int] = set()
        self._lock = threading.Lock()

    def tick(self, *, now: datetime) -> list[int]:
        """Start polling the due sources not being polled already; return their ids."""
        with session_scope(self.jobs.engine) as session:
            due = due_sources(session=session, now=now)
        started = []
        for source_id in due:
            with self._lock:
                if source_id in self._busy:
                    continue
                self._busy.add(source_id)
            self._pool.submit(self._poll_one, source_id, now)
            started.append(source_id)
        return started

    def busy(self) -> set[int]:
        """Return the ids of the sources being polled right now."""
        with self._lock:
            return set(self._busy)

    def _poll_one(self, source_id: int, now: datetime) -> None:
        try:
            self.jobs.poll(now=now, ids=[source_id])
        except Exception:
            log.exception("polling source %s failed", source_id)
        finally:
            with self._lock:
                self._busy.discard(source_id)

    def shutdown(self) -> None:
        """Stop taking work; polls under way finish within their fetch deadline."""
        self._pool.shutdown(wait=False, cancel_futures=True)
