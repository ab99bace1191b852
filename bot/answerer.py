"""The answer process: in HTTP mode, `/clearance` questions are answered beside the worker.

One CPython process runs Python on one core at a time. A worker that read, verified and
dispatched every request and also parsed, screened, decided, rendered and audited every answer
spent most of its interpreter on the answers. Here a process of its own does the answering, on
another core. A request's listener sends it the question over one socket pair; the process
answers, commits the decision to the audit log (in batches, as the worker did) and only then
replies over another, which the worker's event loop reads, so no answer is sent before its
decision is recorded. The reply is the ack's body as it goes out.

If the process stops, the questions in flight get an error id (each decision may or may not be
recorded; none was shown unrecorded), the worker answers questions itself, and the process is
started again. It stops when its worker closes the sockets, or exits, after finishing the
writes it has begun.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import itertools
import logging
import multiprocessing
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any, BinaryIO

import orjson

from bot.app import build_deps, load_knowledge
from bot.services.change_counter import SharedGeneration
from bot.services.held_answers import AnswersUnavailable, HeldAnswer, Question
from bot.services.logs import REQUEST, configure_logging
from bot.services.workspace import use_workspace
from bot.settings import Settings
from handlers.deps import Deps, answer_in_ack, failure_payload
from storage.db import create_db_engine
from storage.workspaces import Workspace

log = logging.getLogger("clearance.answers")
# A frame: its length and the question's number, then the question, or the reply's body.
_HEADER = struct.Struct("!IQ")
_READY = 0  # the number of the frame that says the process has loaded and is ready
MAX_FRAME = 64 * 1024 * 1024
BOOT_TIMEOUT_S = 300.0  # loading 100,000 customers and the restricted-party lists takes a while
RESTART_DELAYS_S = (1.0, 2.0, 5.0, 15.0, 60.0)
STABLE_S = 300.0  # a process that ran this long is restarted after the first pause only
SEND_TIMEOUT_S = 2.0  # a process that takes no question for this long is treated as stopped
MAX_QUESTION = 64 * 1024  # one message of the questions socket; Slack's commands are far shorter


def _frame(number: int, body: bytes) -> bytes:
    return _HEADER.pack(len(body), number) + body


class Answerer:
    """The worker's side: start the answer process, send it questions, settle their replies.

    Request threads send questions (`ask`); the front's event loop reads the replies.
    """

    def __init__(self, settings: Settings, *, shared: SharedGeneration | None = None) -> None:
        self.settings = settings
        self.shared = shared
        self._questions: socket.socket | None = None  # written by request threads
        self._replies: socket.socket | None = None  # read on the event loop
        self._process: Any = None
        self._transport: asyncio.BaseTransport | None = None
        self._reading: socket.socket | None = None  # the replies socket the loop reads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, Future[bytes]] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()  # the sockets, the process and what waits on them
        self._closing = False
        self._restarts = 0  # restarts since the process last ran for STABLE_S
        self._started = 0.0
        self._launched: tuple[socket.socket, socket.socket, Any] | None = None  # still loading

    @property
    def ready(self) -> bool:
        """Return whether questions can go to the answer process now."""
        return self._questions is not None and not self._closing

    @property
    def reading(self) -> bool:
        """Return whether the event loop reads the running process's replies (or none runs)."""
        return self._reading is self._replies

    def start(self, timeout_s: float = BOOT_TIMEOUT_S) -> None:
        """Start the answer process and wait until it has loaded (raise if it cannot)."""
        self._adopt(*_ready(*_launch(self.settings, self.shared), timeout_s))

    def start_beside(self) -> Callable[[], None]:
        """Start the process loading now, beside the worker's own loading; return the wait.

        The wait returns once the process is ready. If it cannot start, the wait logs why, the
        worker answers by itself, and the process is started again in the background.
        """
        launched = _launch(self.settings, self.shared)
        with self._lock:
            self._launched = launched

        def wait() -> None:
            try:
                self._adopt(*_ready(*launched, BOOT_TIMEOUT_S))
            except Exception:
                log.exception("could not start the answer process; the worker answers meanwhile")
                threading.Thread(target=self._restart, args=(None,), daemon=True).start()
            finally:
                with self._lock:
                    self._launched = None

        return wait

    def _adopt(self, questions: socket.socket, replies: socket.socket, process: Any) -> None:
        """Take a ready process's sockets: questions go to it from now on."""
        with self._lock:
            closing = self._closing
            if not closing:
                self._questions, self._replies, self._process = questions, replies, process
                self._started = time.monotonic()
            loop = self._loop
        if closing:  # the worker stopped while it loaded
            _stop([questions, replies], process)
            return
        log.info("answer process %s ready", process.pid)
        if loop is not None:  # started again: read its replies, and notice its end, at once
            asyncio.run_coroutine_threadsafe(self.connect(), loop)

    def ask(self, question: Question) -> Future[bytes]:
        """Send a question (from any thread); the future completes with the reply's body.

        Raise `AnswersUnavailable` if the process is not running: the caller answers itself.
        """
        body = orjson.dumps(
            [
                question.text,
                question.actor,
                question.workspace.team_id,
                question.workspace.enterprise_id,
                question.request,
            ]
        )
        done: Future[bytes] = Future()
        # No lock: each question is one message of a SOCK_SEQPACKET socket, sent whole or not
        # at all, so threads sending at once cannot interleave; the dict's operations are atomic.
        sock, pending = self._questions, self._pending
        if sock is None or self._closing:
            raise AnswersUnavailable("the answer process is not running")
        number = next(self._numbers)
        frame = _frame(number, body)
        if len(frame) > MAX_QUESTION:
            raise AnswersUnavailable("the question is too long for the answer process")
        pending[number] = done  # before sending: the reply may come at once
        try:
            sock.send(frame)
        except OSError as exc:
            pending.pop(number, None)
            # A process that takes no question within the timeout is treated as stopped:
            # ending its questions ends it (it reads their end), and it is started again;
            # meanwhile the worker answers.
            with self._lock:
                if self._questions is sock:
                    self._questions = None
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)  # not close: other threads may be sending on it
            raise AnswersUnavailable(f"the answer process took no question: {exc}") from None
        return done

    async def connect(self) -> None:
        """Read the process's replies on the running loop (at start-up, and after a restart)."""
        with self._lock:
            sock = self._replies
            if sock is None or self._reading is sock:
                return
            self._reading = sock
        loop = self._loop = asyncio.get_running_loop()
        try:
            sock.setblocking(False)
            transport, _ = await loop.create_unix_connection(
                lambda: _Replies(self, sock), sock=sock
            )
        except Exception:
            log.exception("could not read the answer process's replies")
            self._lost(sock)
            return
        with self._lock:
            if self._replies is sock:
                self._transport = transport
                return
        transport.close()  # the process stopped meanwhile

    def _settle(self, number: int, body: bytes) -> None:
        done = self._pending.pop(number, None)
        if done is not None and not done.done():
            done.set_result(body)

    def _lost(self, sock: socket.socket) -> None:
        """The process stopped or its socket closed: fail what waits, start it again."""
        with self._lock:
            if sock is not self._replies:
                return
            questions, process, closing = self._questions, self._process, self._closing
            self._questions = self._replies = self._transport = self._reading = None
            pending, self._pending = self._pending, {}
        if questions is not None:
            questions.close()
        for done in pending.values():
            if not done.done():
                done.set_exception(AnswersUnavailable("the answer process stopped"))
        if closing:
            return
        if time.monotonic() - self._started > STABLE_S:
            self._restarts = 0  # a process that ran a while: start the next without a long pause
        log.error(
            "answer process %s stopped (exit code %s); answering in the worker until it is back",
            getattr(process, "pid", None),
            _exit_code(process),
        )
        threading.Thread(target=self._restart, args=(process,), daemon=True).start()

    def _restart(self, old: Any) -> None:
        """Start the process again, after a pause that grows while it keeps failing."""
        if old is not None:
            old.join(5)
        while not self._closing:
            delay = RESTART_DELAYS_S[min(self._restarts, len(RESTART_DELAYS_S) - 1)]
            self._restarts += 1
            time.sleep(delay)
            try:
                self.start()
                return
            except Exception:
                log.exception("could not start the answer process again")

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the process once it has finished the writes it began (or one still loading)."""
        with self._lock:
            self._closing = True
            sockets = [self._questions, self._replies]
            process, transport, launched = self._process, self._transport, self._launched
            self._questions = self._replies = self._transport = self._reading = None
        if transport is not None:
            transport.close()
        _stop([s for s in sockets if s is not None], process, timeout_s)
        if launched is not None:
            _stop([launched[0], launched[1]], launched[2], timeout_s)


class _Replies(asyncio.Protocol):
    """Read reply frames on the worker's event loop."""

    def __init__(self, answerer: Answerer, sock: socket.socket) -> None:
        self.answerer, self.sock = answerer, sock
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= _HEADER.size:
            size, number = _HEADER.unpack_from(buffer)
            end = _HEADER.size + size
            if len(buffer) < end:
                break
            body = bytes(buffer[_HEADER.size : end])
            del buffer[:end]
            self.answerer._settle(number, body)

    def connection_lost(self, exc: Exception | None) -> None:
        self.answerer._lost(self.sock)


def _launch(
    settings: Settings, shared: SharedGeneration | None
) -> tuple[socket.socket, socket.socket, Any]:
    """Start an answer process loading; return its two sockets and the process."""
    # Questions: one message each, so request threads can send without a lock.
    questions, their_questions = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    replies, their_replies = socket.socketpair()
    # Spawned, not forked: the worker has threads, and a fork copies their locks mid-use.
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=serve_answers,
        args=(their_questions, their_replies, settings, shared),
        name="clearance-answers",
        daemon=True,
    )
    try:
        process.start()
    except BaseException:
        questions.close()
        replies.close()
        raise
    finally:
        their_questions.close()
        their_replies.close()
    return questions, replies, process


def _ready(
    questions: socket.socket, replies: socket.socket, process: Any, timeout_s: float
) -> tuple[socket.socket, socket.socket, Any]:
    """Wait until a launched process says it is ready; stop it and raise if it does not."""
    try:
        replies.settimeout(timeout_s)
        with replies.makefile("rb") as reader:  # closed here: it reads nothing past this frame
            frame = _read_frame(reader)
        if frame is None or frame[0] != _READY:
            raise AnswersUnavailable(
                f"the answer process stopped while loading (exit code {_exit_code(process)})"
            )
        replies.settimeout(None)
        questions.settimeout(SEND_TIMEOUT_S)
        return questions, replies, process
    except BaseException:
        _stop([questions, replies], process, 1.0)
        raise


def _stop(sockets: list[socket.socket], process: Any, timeout_s: float = 10.0) -> None:
    for sock in sockets:
        sock.close()
    if process is not None:
        process.join(timeout_s)
        if process.is_alive():
            log.warning("answer process %s did not stop in %.0f s", process.pid, timeout_s)
            process.terminate()
            process.join(1)


def _exit_code(process: Any) -> int | None:
    return getattr(process, "exitcode", None)


def _read_frame(reader: BinaryIO) -> tuple[int, bytes] | None:
    """Read one frame; None at the end of the stream."""
    header = reader.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size, number = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes")
    body = reader.read(size)
    if len(body) < size:
        return None
    return number, body


def serve_answers(
    questions: socket.socket,
    replies: socket.socket,
    settings: Settings,
    shared: SharedGeneration | None,
) -> None:
    """The answer process: answer each question read, replying once its decision is committed."""
    # Ctrl-C reaches the whole terminal's process group: the worker decides when this stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(settings.log_format, settings.secrets())
    outbox = _Outbox(replies)
    deps = _load(settings, shared, after_batch=outbox.flush)
    outbox.send(_READY, b"ready")
    writes: set[Future[Any]] = set()
    while True:
        try:
            message = questions.recv(MAX_QUESTION)
        except OSError:
            log.exception("could not read a question from the worker")
            message = b""
        if len(message) < _HEADER.size:
            break  # the worker closed its end
        size, number = _HEADER.unpack_from(message)
        body = message[_HEADER.size : _HEADER.size + size]
        contextvars.Context().run(_answer, deps, number, body, outbox, writes)
    # The worker stopped: let the decisions already queued commit before leaving.
    wait(list(writes), timeout=30)


class _Outbox:
    """The answer process's replies: sent at once, or gathered for a whole audit batch."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._reader = threading.get_ident()  # the thread that reads questions and answers them
        self._lock = threading.Lock()
        self._gathered: list[bytes] = []

    def send(self, number: int, body: bytes) -> None:
        """Send one reply now (it waited on no audit write)."""
        self._write(_frame(number, body))

    def after_commit(self, number: int, body: bytes) -> None:
        """Send a committed answer's reply: on the writer's thread, with the rest of its batch."""
        if threading.get_ident() == self._reader:
            self.send(number, body)  # committed before its callback was added: nothing to wait for
        else:
            self._gathered.append(_frame(number, body))

    def flush(self) -> None:
        """Send a batch's replies in one write: the worker wakes once for all of them."""
        gathered, self._gathered = self._gathered, []
        if gathered:
            self._write(b"".join(gathered))

    def _write(self, data: bytes) -> None:
        try:
            with self._lock:
                self.sock.sendall(data)
        except OSError:
            pass  # the worker is gone; its requests went with it


def _load(
    settings: Settings, shared: SharedGeneration | None, *, after_batch: Callable[[], None]
) -> Deps:
    """Build what answering needs and load the rule table and lists (as a worker does)."""
    deps = build_deps(
        settings, create_db_engine(settings.database_url), shared=shared, after_batch=after_batch
    )
    load_knowledge(deps)
    gc.collect()
    gc.freeze()  # the loaded tables stay: later collections need not walk them
    return deps


def _answer(
    deps: Deps,
    number: int,
    body: bytes,
    outbox: _Outbox,
    writes: set[Future[Any]],
) -> None:
    """Answer one question in its own context (its request's log id and workspace)."""
    try:
        text, actor, team, enterprise, request = orjson.loads(body)
        REQUEST.set(request)
        use_workspace(Workspace(team, enterprise))
        held = HeldAnswer()
        payload = answer_in_ack(deps, text, actor=actor, on_late=_never, held=held)
    except Exception as exc:
        outbox.send(number, orjson.dumps({**failure_payload(exc), "response_type": "ephemeral"}))
        return
    committed = held.committed
    if committed is None or held.reply is None:
        outbox.send(number, orjson.dumps({**(payload or {}), "response_type": "ephemeral"}))
        return
    answer = held.reply
    writes.add(committed)

    def settled(done: Future[Any]) -> None:
        writes.discard(done)
        exc = done.exception()
        outbox.after_commit(number, orjson.dumps(answer if exc is None else held.failed(exc)))

    committed.add_done_callback(settled)


def _never(_payload: Any) -> None:
    """The worker, not this process, delivers answers that come late."""
