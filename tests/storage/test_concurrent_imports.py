"""Concurrent `rules import` runs apply one after the other: none is lost, none fails.

Each process imports a file with its own rule at the same moment; every one must exit 0, each in
a revision of its own, and the table must end with all the rules.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from storage.audit_chain import verify_chain
from storage.db import session_scope
from storage.rules import current_revision, list_revisions, load_table

CLI = [sys.executable, "-m", "bot"]
PROCESSES = 6


def test_parallel_imports_each_become_a_revision(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    files = []
    for i in range(PROCESSES):
        path = tmp_path / f"r{i}.yaml"
        path.write_text(
            "version: 1\nrules:\n"
            f"  - {{id: parallel-{i}, effect: review, title: Parallel {i}, places: {{in: [FR]}}}}\n"
        )
        files.append(path)
    procs = [
        subprocess.Popen(
            [*CLI, "--db", db_url, "--author", f"p{i}", "rules", "import", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, path in enumerate(files)
    ]
    results = [(p.wait(timeout=180), p.communicate()) for p in procs]
    for code, (out, err) in results:
        assert code == 0, err
        assert "Traceback" not in err and out.startswith("Revision ")
    with session_scope(engine) as session:
        assert current_revision(session=session) == 1 + PROCESSES
        table = load_table(session=session)
        revisions = list_revisions(session=session, limit=50)
    assert {f"parallel-{i}" for i in range(PROCESSES)} <= set(table.rules)
    assert sorted(r.author for r in revisions if r.number > 1) == sorted(
        f"p{i}" for i in range(PROCESSES)
    )
    with engine.connect() as conn:
        assert verify_chain(conn, "revision").broken is None
