"""An answer held back from Slack until its decision is committed to the audit log.

In HTTP mode a request's response goes out once its listener returns. A listener whose answer
still waits on its audit write can hold the answer here instead of blocking a request thread:
the front awaits the commit on its event loop, then sends the answer, or what to say instead if
the write failed or did not finish in time. No answer is sent before its decision is committed.

When the front has an answer process (`bot.answerer`), the listener sends the question there
(`ask_elsewhere`) and holds its future: the process replies, once the decision is committed,
with the ack's body already encoded.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from storage.workspaces import NONE, Workspace

Reply = dict[str, Any]
# A Bolt request context's key for the request's `HeldAnswer` (HTTP mode's front sets it).
HELD_ANSWER = "clearance_held_answer"


class AnswersUnavailable(RuntimeError):
    """The answer process could not take a question, or stopped before replying."""


@dataclass(frozen=True)
class Question:
    """A question for the answer process: who asked what, from which workspace, in which request."""

    text: str
    actor: str
    workspace: Workspace = NONE
    request: dict[str, str] | None = None  # the request's log context (id, team)


# Send a question to the answer process; the future completes with its encoded reply.
Ask = Callable[[Question], "Future[bytes]"]


@dataclass
class HeldAnswer:
    """One request's slot: the audit write its answer waits on, and what to send otherwise.

    `committed` completes when the answer may be sent: with None when `reply` is the answer, or
    with the encoded reply (bytes) from the answer process, when `reply` is None.
    """

    committed: Future[Any] | None = None
    reply: Reply | None = None
    budget_s: float = 0.0
    ask_elsewhere: Ask | None = None  # the front's answer process, while it runs
    _failed: Callable[[BaseException], Reply] | None = None
    _late: Callable[[], Reply] | None = None

    def hold(
        self,
        committed: Future[Any],
        reply: Reply | None,
        *,
        budget_s: float,
        failed: Callable[[BaseException], Reply],
        late: Callable[[], Reply],
    ) -> None:
        """Send `reply` (or the future's bytes) once `committed` completes, within `budget_s`."""
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
