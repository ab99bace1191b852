"""An answer held back from Slack until its decision is committed to the audit log.

In HTTP mode a request's response goes out once its listener returns. A listener whose answer
still waits on its audit write can hold the answer here instead of blocking a request thread:
the front awaits the commit on its event loop, then sends the answer, or what to say instead if
the write failed or did not finish in time. No answer is sent before its decision is committed.

When the front has an answer process (`bot.answerer`), the listener leaves the question itself
here (`ask`): the front sends it to that process, whose reply, the answer already committed or
the message to show instead, is the response's body.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from storage.workspaces import NONE, Workspace

Reply = dict[str, Any]
# A Bolt request context's key for the request's `HeldAnswer` (HTTP mode's front sets it).
HELD_ANSWER = "clearance_held_answer"


@dataclass(frozen=True)
class Question:
    """A question for the answer process: who asked what, from which workspace, in which request."""

    text: str
    actor: str
    workspace: Workspace = NONE
    request: dict[str, str] | None = None  # the request's log context (id, team)


@dataclass
class HeldAnswer:
    """One request's slot: the audit write its answer waits on, and what to send otherwise.

    `committed` completes when the answer may be sent: with None when `reply` is the answer, or
    with the encoded reply (bytes) from the answer process.
    """

    committed: Future[Any] | None = None
    reply: Reply | None = None
    budget_s: float = 0.0
    remote: bool = False  # the front can send this request's question to its answer process
    question: Question | None = None
    _failed: Callable[[BaseException], Reply] | None = None
    _late: Callable[[], Reply] | None = None
    _waiting: list[Callable[[Future[Any]], object]] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """Return whether the front, not the listener's ack, sends this request's answer."""
        return self.committed is not None or self.question is not None

    def hold(
        self,
        committed: Future[Any],
        reply: Reply,
        *,
        budget_s: float,
        failed: Callable[[BaseException], Reply],
        late: Callable[[], Reply],
    ) -> None:
        """Send `reply` once `committed` completes (waiting at most `budget_s` seconds)."""
        self.reply, self.budget_s = reply, budget_s
        self._failed, self._late = failed, late
        self.attach(committed)

    def ask(
        self,
        question: Question,
        *,
        budget_s: float,
        failed: Callable[[BaseException], Reply],
        late: Callable[[], Reply],
    ) -> None:
        """Have the front answer `question` in its answer process (waiting at most `budget_s`)."""
        self.question, self.budget_s = question, budget_s
        self._failed, self._late = failed, late

    def attach(self, committed: Future[Any]) -> None:
        """Set the future the answer waits on; callbacks given to `when_done` follow it."""
        self.committed = committed
        for callback in self._waiting:
            committed.add_done_callback(callback)
        self._waiting.clear()

    def when_done(self, callback: Callable[[Future[Any]], object]) -> None:
        """Call `callback` once the answer may be sent (its future completed)."""
        if self.committed is not None:
            self.committed.add_done_callback(callback)
        else:
            self._waiting.append(callback)

    def failed(self, exc: BaseException) -> Reply:
        """Return the reply to send instead of the answer: its decision was not recorded."""
        assert self._failed is not None
        return self._failed(exc)

    def late(self) -> Reply:
        """Return the reply to send now; the answer follows once its decision is committed."""
        assert self._late is not None
        return self._late()
