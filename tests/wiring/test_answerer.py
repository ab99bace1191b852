"""The worker's side of the answer process: framing, settling, losing it, and batched replies."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from concurrent.futures import Future
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answerer import _HEADER, MAX_QUESTION, Answerer, _frame, _Outbox, _read_frame, _Replies
from bot.services.held_answers import AnswersUnavailable, Question
from bot.settings import Settings
from storage.workspaces import Workspace


def _answerer(waiting: int) -> tuple[Answerer, list[Future[bytes]]]:
    answerer = Answerer(Settings.model_construct())
    futures: list[Future[bytes]] = [Future() for _ in range(waiting)]
    answerer._pending = {n + 1: f for n, f in enumerate(futures)}
    return answerer, futures


@given(
    bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=10),
)
def test_replies_split_anywhere_settle_their_own_questions(
    bodies: list[bytes], cuts: list[int]
) -> None:
    answerer, futures = _answerer(len(bodies))
    sock = socket.socket()
    try:
        replies = _Replies(answerer, sock)
        stream = b"".join(_frame(n + 1, body) for n, body in reversed(list(enumerate(bodies))))
        points = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
        for start, end in itertools.pairwise(points):
            replies.data_received(stream[start:end])
        assert [f.result(timeout=0) for f in futures] == bodies
        assert replies.buffer == bytearray() and answerer._pending == {}
    finally:
        sock.close()


def test_losing_the_process_fails_every_question_in_flight() -> None:
    answerer, futures = _answerer(3)
    answerer._closing = True  # a server stopping: nothing is started again
    sock = answerer._replies = socket.socket()
    try:
        _Replies(answerer, sock).connection_lost(None)
    finally:
        sock.close()
    for future in futures:
        with pytest.raises(AnswersUnavailable):
            future.result(timeout=0)
    assert not answerer.ready


def test_a_socket_already_replaced_is_not_mourned() -> None:
    answerer, futures = _answerer(1)
    answerer._replies = socket.socket()
    old = socket.socket()
    try:
        _Replies(answerer, old).connection_lost(None)
        assert not futures[0].done() and answerer._replies is not None
    finally:
        old.close()
        answerer._replies.close()


def test_a_question_goes_out_as_one_frame_and_waits_for_its_reply() -> None:
    answerer, _ = _answerer(0)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    answerer._questions = ours
    try:
        question = Question("can X use Y?", "U1", Workspace("T1", None), {"request_id": "r1"})
        done = answerer.ask(question)
        message = theirs.recv(MAX_QUESTION)  # one question, one message
        size, number = _HEADER.unpack_from(message)
        body = message[_HEADER.size :]
        assert len(body) == size
        assert orjson.loads(body) == ["can X use Y?", "U1", "T1", None, {"request_id": "r1"}]
        assert answerer._pending == {number: done} and not done.done()
        answerer._settle(number, b"{}")
        assert done.result(timeout=0) == b"{}"
    finally:
        ours.close()
        theirs.close()


def test_asking_a_process_that_is_gone_says_so_and_leaves_nothing_waiting() -> None:
    answerer, _ = _answerer(0)
    with pytest.raises(AnswersUnavailable):
        answerer.ask(Question("q", "U1"))  # never started
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.close()  # the process died
    answerer._questions = ours
    try:
        with pytest.raises(AnswersUnavailable):
            for _ in range(100):  # the first sends may still reach the kernel's buffer
                answerer.ask(Question("q", "U1"))
    finally:
        ours.close()
    assert len(answerer._pending) < 100


def test_a_process_that_takes_no_questions_is_given_up_and_the_worker_answers() -> None:
    answerer, _ = _answerer(0)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.settimeout(0.2)  # nobody reads `theirs`: a hung process
    answerer._questions = ours
    try:
        with pytest.raises(AnswersUnavailable, match="took no question"):
            for _ in range(10_000):
                answerer.ask(Question("x" * 10_000, "U1"))
        assert not answerer.ready  # later questions are answered in the worker, at once
        with pytest.raises(AnswersUnavailable, match="not running"):
            answerer.ask(Question("q", "U1"))
        theirs.setblocking(False)
        while theirs.recv(MAX_QUESTION):  # what was queued; then the end of its questions
            pass
    finally:
        ours.close()
        theirs.close()


def test_committed_replies_go_out_once_per_batch_and_others_at_once() -> None:
    ours, theirs = socket.socketpair()
    try:
        outbox = _Outbox(ours)  # made on this thread: the one that reads questions
        reader = theirs.makefile("rb")
        outbox.send(1, b"question error")
        assert _read_frame(reader) == (1, b"question error")
        outbox.after_commit(2, b"committed before its callback")  # on the reading thread
        assert _read_frame(reader) == (2, b"committed before its callback")

        def writer_batch() -> None:
            outbox.after_commit(3, b"a")
            outbox.after_commit(4, b"b")
            theirs.setblocking(False)
            with pytest.raises(BlockingIOError):
                theirs.recv(1)  # gathered, not sent, until the batch is done
            theirs.setblocking(True)
            outbox.flush()

        thread = threading.Thread(target=writer_batch)
        thread.start()
        thread.join(5)
        assert [_read_frame(reader), _read_frame(reader)] == [(3, b"a"), (4, b"b")]
    finally:
        ours.close()
        theirs.close()


def test_questions_sent_from_many_threads_at_once_arrive_whole() -> None:
    answerer, _ = _answerer(0)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    answerer._questions = ours
    received: list[bytes] = []

    def read() -> None:
        while len(received) < 8 * 50:
            received.append(theirs.recv(MAX_QUESTION))

    def ask_many(n: int) -> None:
        for i in range(50):
            answerer.ask(Question(f"question {n}-{i} " + "x" * 3000, "U1"))

    reader = threading.Thread(target=read)
    reader.start()
    askers = [threading.Thread(target=ask_many, args=(n,)) for n in range(8)]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join(10)
    reader.join(10)
    try:
        texts = set()
        for message in received:
            size, number = _HEADER.unpack_from(message)
            assert len(message) == _HEADER.size + size
            texts.add(orjson.loads(message[_HEADER.size :])[0].split()[1])
            assert number in answerer._pending
        assert texts == {f"{n}-{i}" for n in range(8) for i in range(50)}
    finally:
        ours.close()
        theirs.close()


def test_a_process_that_cannot_load_leaves_the_worker_answering(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database that cannot be opened: the process fails while loading, as on a bad deploy.
    settings = Settings.model_construct(
        database_url=f"sqlite:///{tmp_path / 'missing' / 'clearance.db'}",
        log_format="plain",
        sqlite_audit_synchronous="FULL",
    )
    answerer = Answerer(settings)
    try:
        with caplog.at_level(logging.ERROR, logger="clearance.answers"):
            answerer.start_beside()()  # returns: the worker goes on without it
        assert not answerer.ready
        with pytest.raises(AnswersUnavailable):
            answerer.ask(Question("q", "U1"))  # so the listener answers in the worker
        assert "could not start the answer process" in caplog.text
    finally:
        answerer.close()  # also ends the restarts it scheduled
