"""An answer held back from Slack until its decision is committed to the audit log.

In HTTP mode a request's response goes out once its listener returns. A listener whose answer
still waits on its audit write can hold the answer here instead of blocking a request thread:
the front awaits the commit on its event loop, then sends the answer, or what to say instead if
the write failed or did not finish in time. No answer is sent before its decision is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

Reply = dict[str, Any]
# A Bolt request context's key for the request's `HeldAnswer` (HTTP mode's front sets it).
HELD_ANSWER = "clearance_held_answer"


@dataclass
class HeldAnswer:
    """One request's slot: the audit write its answer waits on, and what to send otherwise."""

    committed: Future[None] | None = None
    reply: Reply | None = None
    budget_s: float = 0.0
    _failed: Callable[[BaseException], Reply] | None = None
    _late: Callable[[], Reply] | None = None

    def hold(
        self,
        committed: Future[None],
        reply: Reply,
        *,
        budget_s: float,
        failed: Callable[[BaseException], Reply],
        late: Callable[[], Reply],
    ) -> None:
        """Send `reply` once `committed` completes (waiting at most `budget_s` seconds)."""
        self.committed, self.reply, self.budget_s = committed, reply, budget_s
        self._failed, self._late = failed, late

    def failed(self, exc: BaseException) -> Reply:
        """Return the reply to send instead of the answer: its decision was not recorded."""
        assert self._failed is not None
        return self._failed(exc)

    def late(self) -> Reply:
        """Return the reply to send now; the answer follows once its decision is committed."""
        assert self._late is not None
        return self._late()
