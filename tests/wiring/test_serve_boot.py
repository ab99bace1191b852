"""A worker that cannot build its app retries with back-off before gunicorn gives up on it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.http_mode import boot


def flaky(failures: int) -> tuple[list[int], Any]:
    calls: list[int] = []

    def load() -> Any:
        calls.append(1)
        if len(calls) <= failures:
            raise ConnectionError("database not reachable yet")
        return "wsgi-app"

    return calls, load


@pytest.mark.parametrize(("failures", "sleeps"), [(0, []), (1, [1.0]), (3, [1.0, 2.0, 4.0])])
def test_a_worker_retries_until_its_app_builds(failures: int, sleeps: list[float]) -> None:
    calls, load = flaky(failures)
    slept: list[float] = []
    assert boot(load, attempts=5, sleep=slept.append) == "wsgi-app"
    assert (len(calls), slept) == (failures + 1, sleeps)


def test_a_worker_gives_up_after_its_last_attempt() -> None:
    calls, load = flaky(10)
    slept: list[float] = []
    with pytest.raises(ConnectionError):
        boot(load, attempts=3, sleep=slept.append)
    assert (len(calls), slept) == (3, [1.0, 2.0])
