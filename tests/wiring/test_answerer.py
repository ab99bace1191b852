"""The worker's side of the answer process: framing, settling, losing it, and batched replies."""

from __future__ import annotations

import itertools
import socket
import threading
from concurrent.futures import Future

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answerer import Answerer, AnswersUnavailable, _frame, _Outbox, _read_frame, _Replies
from bot.services.held_answers import HeldAnswer
from bot.settings import Settings


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
    sock = answerer._sock = socket.socket()
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
    answerer._sock = socket.socket()
    old = socket.socket()
    try:
        _Replies(answerer, old).connection_lost(None)
        assert not futures[0].done() and answerer._sock is not None
    finally:
        old.close()
        answerer._sock.close()


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


def test_a_held_answer_calls_back_whether_its_future_came_before_or_after() -> None:
    seen: list[str] = []
    held = HeldAnswer(remote=True)
    held.when_done(lambda _f: seen.append("before"))
    assert not held.pending
    future: Future[bytes] = Future()
    held.attach(future)
    held.when_done(lambda _f: seen.append("after"))
    assert held.pending and seen == []
    future.set_result(b"{}")
    assert seen == ["before", "after"]
