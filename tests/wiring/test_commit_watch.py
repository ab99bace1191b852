"""Awaiting the audit writer's futures on an event loop, one wake-up per batch."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from bot.commit_watch import CommitWatch


def _counting_drains(watch: CommitWatch) -> tuple[CommitWatch, list[int]]:
    """Return the watch, and a list that counts the drains it runs (in its one item)."""
    drains = [0]
    drain = watch._drain

    def counted() -> None:
        drains[0] += 1
        drain()

    watch._drain = counted  # type: ignore[method-assign]
    return watch, drains


def test_a_batch_completed_on_another_thread_wakes_every_waiter_with_one_drain() -> None:
    async def scenario() -> tuple[list[bool], int]:
        loop = asyncio.get_running_loop()
        watch, drains = _counting_drains(CommitWatch(loop))
        writes: list[Future[None]] = [Future() for _ in range(20)]
        waits = [asyncio.ensure_future(watch.wait(w, 5.0)) for w in writes]
        await asyncio.sleep(0)  # every waiter registered
        # The writer's thread completes the batch's futures one after another.
        thread = threading.Thread(target=lambda: [w.set_result(None) for w in writes])
        thread.start()
        results = await asyncio.gather(*waits)
        thread.join()
        return results, drains[0]

    results, drains = asyncio.run(scenario())
    assert results == [True] * 20
    assert 1 <= drains < 20  # the batch rode along on few wake-ups, not one each


def test_a_write_already_done_and_a_failed_write_both_end_the_wait() -> None:
    async def scenario() -> list[bool]:
        watch = CommitWatch(asyncio.get_running_loop())
        done: Future[None] = Future()
        done.set_result(None)
        failed: Future[None] = Future()
        failed.set_exception(RuntimeError("disk full"))
        return [await watch.wait(done, 1.0), await watch.wait(failed, 1.0)]

    assert asyncio.run(scenario()) == [True, True]


def test_a_timeout_leaves_the_write_running_for_its_late_answer() -> None:
    async def scenario() -> tuple[bool, Future[None]]:
        watch = CommitWatch(asyncio.get_running_loop())
        slow: Future[None] = Future()
        return await watch.wait(slow, 0.05), slow

    finished, slow = asyncio.run(scenario())
    assert finished is False
    assert not slow.cancelled() and not slow.done()
    slow.set_result(None)  # the writer can still complete it: nothing cancelled it


def test_replies_settled_on_the_loop_itself_release_their_waiters_without_a_drain() -> None:
    async def scenario() -> tuple[list[bool], int]:
        loop = asyncio.get_running_loop()
        watch, drains = _counting_drains(CommitWatch(loop))
        replies: list[Future[None]] = [Future() for _ in range(5)]
        waits = [asyncio.ensure_future(watch.wait(r, 5.0)) for r in replies]
        await asyncio.sleep(0)
        loop.call_soon(lambda: [r.set_result(None) for r in replies])  # as _Replies does
        return await asyncio.gather(*waits), drains[0]

    results, drains = asyncio.run(scenario())
    assert results == [True] * 5 and drains == 0
