"""The server's audit writer: decisions committed in batches, each answer waiting for its own.

Under load many answers share one INSERT and one commit instead of queueing for their own. Each
caller still waits until its decision is committed, so no answer is shown that is not in the
audit log.

On SQLite the writer's connection commits with `synchronous=FULL` by default, so a decision shown
is on disk. `synchronous="NORMAL"` (WAL mode) drops the fsync per batch, which costs more than
the rest of an answer: a committed decision still survives any crash of the process, but an
operating-system crash or power loss can lose those not yet checkpointed. PostgreSQL is
unaffected.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bot.domain.asking.answers import Answer
from bot.services.workspace import current_workspace
from storage.decisions import DecisionInsert, decision_row
from storage.workspaces import Workspace

log = logging.getLogger("clearance.audit")
_Item = tuple[Answer, str, datetime, Workspace, "Future[None]"]
Synchronous = Literal["NORMAL", "FULL"]


class AuditWriter:
    """Writes decisions in batches on one thread, over one long-lived connection."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 256,
        synchronous: Synchronous = "FULL",
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.synchronous = synchronous
        # Called on the writer's thread once a batch's futures are all settled.
        self.after_batch = after_batch
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn: Connection | None = None
        self._statement = DecisionInsert.of(engine)

    def submit(self, answer: Answer, *, actor: str, now: datetime) -> Future[None]:
        """Queue one decision; the future completes when it is committed (or fails)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            self._start()
        done: Future[None] = Future()
        # The workspace of the request being answered, read here on the request's thread.
        self._queue.put((answer, actor, now, current_workspace(), done))
        return done

    def write(self, answer: Answer, *, actor: str, now: datetime, timeout: float = 10.0) -> None:
        """Record one decision; return once it is committed (raise if it could not be)."""
        self.submit(answer, actor=actor, now=now).result(timeout=timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except BaseException as exc:  # never leave a caller waiting, whatever happened
                for *_rest, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            if self.after_batch is not None:
                try:
                    self.after_batch()
                except Exception:
                    log.exception("could not finish a batch of decisions")

    def _write(self, batch: list[_Item]) -> None:
        """Commit a batch; if it fails, commit its decisions one by one so only a bad one fails."""
        try:
            self._insert(
                [
                    decision_row(a, actor=actor, now=now, workspace=w)
                    for a, actor, now, w, _ in batch
                ]
            )
        except Exception as exc:
            if len(batch) == 1 or getattr(exc, "connection_invalidated", False):
                # One decision, or the database is unreachable: every answer here fails.
                log.exception("could not write %d decision(s) to the audit log", len(batch))
                for *_rest, done in batch:
                    done.set_exception(exc)
                return
            for item in batch:
                self._write([item])
            return
        for *_rest, done in batch:
            done.set_result(None)

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert and commit, on a fresh connection once if the kept one was lost."""
        for attempt in (1, 2):
            conn = self._conn
            if conn is None:
                conn = self._conn = self._connect()
            try:
                # No ORM session, no statement to look up: the rows go to the driver.
                self._statement.execute(conn, rows)
                conn.commit()
                return
            except DBAPIError as exc:
                self._drop()
                # A connection lost after the commit went through makes the retry a duplicate
                # key: those answers are reported as failed, never shown unrecorded.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
            except Exception:
                self._drop()
                raise

    def _connect(self) -> Connection:
        conn = self.engine.connect()
        if conn.dialect.name == "sqlite":
            try:
                # Per connection: the CLI, imports and deliveries keep SQLite's FULL default.
                conn.exec_driver_sql(f"PRAGMA synchronous={self.synchronous}")
                conn.commit()
            except Exception:
                conn.invalidate()
                conn.close()
                raise
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                # Discarded, not pooled: it may hold a failed batch and the writer's pragma.
                conn.invalidate()
                conn.close()
            except Exception:
                log.exception("could not close the audit connection")
