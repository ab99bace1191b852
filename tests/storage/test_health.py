"""The health check's write: workers checking a new database at the same moment all succeed."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine

from storage.db import read_scalar
from storage.health import HEALTH_KEY, check_writable

pytestmark = pytest.mark.storage


def test_simultaneous_first_checks_all_succeed(empty_engine: Engine) -> None:
    for round_ in range(5):
        with empty_engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM app_state WHERE key = '{HEALTH_KEY}'")
        start = threading.Barrier(4)
        errors: list[BaseException] = []

        def check(start: threading.Barrier, errors: list[BaseException]) -> None:
            start.wait()
            try:
                check_writable(empty_engine)
            except BaseException as exc:  # collected: the assertion below names it
                errors.append(exc)

        threads = [threading.Thread(target=check, args=(start, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == [], f"round {round_}: {errors[0]!r}"
        assert read_scalar(empty_engine, f"SELECT value FROM app_state WHERE key = '{HEALTH_KEY}'")
