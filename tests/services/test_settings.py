"""Server settings read from the environment: worker counts and the audit log's durability."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from bot.cli.main import build_parser
from bot.settings import Settings


@pytest.mark.parametrize(
    ("env", "workers", "threads"),
    [
        ({"CLEARANCE_WEB_WORKERS": "3"}, 3, 8),
        ({"CLEARANCE_WEB_WORKERS": "1", "CLEARANCE_WEB_THREADS": "2"}, 1, 2),
    ],
)
def test_worker_counts_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], workers: int, threads: int
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert (settings.workers(), settings.web_threads) == (workers, threads)


PG = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(
    ("url", "sync", "cpus", "expected"),
    [
        (PG, "FULL", 1, 1),
        (PG, "FULL", 2, 2),
        (PG, "NORMAL", 4, 4),
        (PG, "FULL", 16, 4),
        ("sqlite:///x.db", "NORMAL", 2, 2),
        ("sqlite:///x.db", "NORMAL", 16, 4),
        # Fully synced commits to one SQLite file: more workers only queue their fsyncs.
        ("sqlite:///x.db", "FULL", 16, 1),
        ("sqlite:///x.db", "FULL", 2, 1),
    ],
)
def test_default_workers_one_per_usable_cpu_up_to_four_one_on_synced_sqlite(
    monkeypatch: pytest.MonkeyPatch, url: str, sync: str, cpus: int, expected: int
) -> None:
    monkeypatch.delenv("CLEARANCE_WEB_WORKERS", raising=False)
    monkeypatch.setenv("CLEARANCE_DATABASE_URL", url)
    monkeypatch.setenv("CLEARANCE_SQLITE_AUDIT_SYNCHRONOUS", sync)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)), raising=False)
    assert Settings().workers() == expected


def test_audit_commits_are_fully_synced_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARANCE_SQLITE_AUDIT_SYNCHRONOUS", raising=False)
    assert Settings().sqlite_audit_synchronous == "FULL"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CLEARANCE_WEB_WORKERS", "0"),
        ("CLEARANCE_WEB_WORKERS", "many"),
        ("CLEARANCE_WEB_THREADS", "0"),
        ("CLEARANCE_SQLITE_AUDIT_SYNCHRONOUS", "OFF"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match=key):
        Settings()


@pytest.mark.parametrize(("value", "expected"), [("normal", "NORMAL"), (" Full ", "FULL")])
def test_audit_durability_is_read_in_any_case(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("CLEARANCE_SQLITE_AUDIT_SYNCHRONOUS", value)
    assert Settings().sqlite_audit_synchronous == expected


@pytest.mark.parametrize("value", ["0", "65", "x"])
def test_serve_refuses_a_bad_worker_count(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--workers", value])
    assert exc.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_serve_takes_a_worker_count() -> None:
    assert build_parser().parse_args(["serve", "--workers", "4"]).workers == 4
