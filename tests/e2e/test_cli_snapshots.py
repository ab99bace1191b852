"""`clearance ask` as new processes: the first at a revision saves a knowledge snapshot, the next
ones load it, and the answers and audit rows are the same either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "bot"]
QUESTION = "can Nimbus Pte Ltd in Singapore use Claude Sonnet 4.5"


def run(db_url: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*CLI, "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _snapshots(directory: Path) -> list[Path]:
    return sorted(directory.glob("knowledge-*.pickle")) if directory.exists() else []


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    chain = ("chain_seq", "prev_hash", "row_hash")  # each row's place in the audit chain
    out = {k: v for k, v in row.items() if k not in ("id", "created_at", *chain)}
    out["answer"] = {k: v for k, v in row["answer"].items() if k != "decision_id"}
    return out


def test_the_second_ask_loads_what_the_first_saved(db_url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = _env(CLEARANCE_CACHE_DIR=str(cache))
    first = json.loads(run(db_url, "ask", "--json", QUESTION, env=env).stdout)
    [snapshot] = _snapshots(cache)
    saved = snapshot.stat()
    second = json.loads(run(db_url, "ask", "--json", QUESTION, env=env).stdout)
    assert snapshot.stat().st_ino == saved.st_ino  # loaded, not built and saved again
    first.pop("decision_id")
    second.pop("decision_id")
    assert second == first and first["revision"] == 1
    rows = json.loads(run(db_url, "audit", "--json", env=env).stdout)
    assert len(rows) == 2 and _comparable(rows[0]) == _comparable(rows[1])

    # A new revision: built and saved again, and the answer follows it.
    customers = tmp_path / "customers.yaml"
    customers.write_text("""version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - {id: nimbus, name: Nimbus Pte Ltd, hq: SG, owners: [{owner: dragon, share: 60}]}
""")
    run(db_url, "customers", "import", str(customers), env=env)
    third = json.loads(run(db_url, "ask", "--json", QUESTION, env=env).stdout)
    assert third["revision"] == 2 and third["verdict"] == "denied"
    assert _snapshots(cache) == [snapshot] and snapshot.stat().st_ino != saved.st_ino
    assert json.loads(snapshot.read_bytes().split(b"\n", 2)[1])["revision"] == 2


def test_a_damaged_snapshot_still_gives_the_answer(db_url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = _env(CLEARANCE_CACHE_DIR=str(cache))
    first = json.loads(run(db_url, "ask", "--json", QUESTION, env=env).stdout)
    [snapshot] = _snapshots(cache)
    snapshot.write_bytes(snapshot.read_bytes()[:1000])
    second = run(db_url, "ask", "--json", QUESTION, env=env)
    assert second.stderr == ""
    answer = json.loads(second.stdout)
    first.pop("decision_id")
    answer.pop("decision_id")
    assert answer == first
    assert snapshot.stat().st_size > 1000  # saved again, whole


def test_the_default_cache_dir_and_off(db_url: str, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    off = _env(CLEARANCE_CACHE_DIR="off", XDG_CACHE_HOME=str(xdg), HOME=str(tmp_path / "home"))
    run(db_url, "ask", QUESTION, env=off)
    assert not xdg.exists() and not (tmp_path / "home").exists()
    if sys.platform.startswith("linux"):
        default = _env(CLEARANCE_CACHE_DIR=None, XDG_CACHE_HOME=str(xdg))
        run(db_url, "ask", QUESTION, env=default)
        assert len(_snapshots(xdg / "clearance")) == 1
