"""Server settings read from the environment: worker counts and the audit log's durability."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from pydantic import ValidationError

from bot.cli.main import build_parser, main
from bot.domain.tracking.severity import DEFAULT_KEYWORDS
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


@pytest.mark.parametrize(
    ("value", "users", "groups"),
    [
        ("", set(), set()),
        ("U1", {"U1"}, set()),
        (" U1 , S2,, U3 ", {"U1", "U3"}, {"S2"}),
        ("U1;S2", {"U1"}, {"S2"}),
    ],
)
def test_admins_are_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, value: str, users: set[str], groups: set[str]
) -> None:
    monkeypatch.setenv("CLEARANCE_ADMINS", value)
    settings = Settings()
    assert (set(settings.admin_users()), set(settings.admin_groups())) == (users, groups)


def test_high_keywords_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARANCE_HIGH_KEYWORDS", raising=False)
    assert Settings().high_keywords() == DEFAULT_KEYWORDS
    monkeypatch.setenv("CLEARANCE_HIGH_KEYWORDS", "Entity List, Foreign Direct Product;Rule ,")
    assert Settings().high_keywords() == ("Entity List", "Foreign Direct Product;Rule")


def test_the_cache_folder_is_the_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLEARANCE_CACHE_DIR", raising=False)
    assert Settings().snapshot_dir() == platformdirs.user_cache_path("clearance", appauthor=False)
    monkeypatch.setenv("CLEARANCE_CACHE_DIR", "off")
    assert Settings().snapshot_dir() is None
    monkeypatch.setenv("CLEARANCE_CACHE_DIR", str(tmp_path))
    assert Settings().snapshot_dir() == tmp_path


@pytest.mark.storage
def test_the_cli_builds_the_settings_once_per_command(
    monkeypatch: pytest.MonkeyPatch, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    built: list[Settings] = []
    original = Settings.__init__

    def counted(self: Settings, **values: Any) -> None:
        original(self, **values)
        built.append(self)

    monkeypatch.setattr(Settings, "__init__", counted)
    code = main(["--db", db_url, "ask", "can Acme GmbH in Germany use Claude Sonnet 4.5?"])
    assert code in (0, 2), capsys.readouterr().err
    assert len(built) == 1
