"""A database made before rules could read list membership gets the pack's listed rules once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.services.asking import initialize
from bot.services.pack_upgrades import LISTED_RULES
from storage.db import session_scope
from storage.rules import DEFAULT_PACK, current_revision, load_table

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _pack_without_listed_rules(tmp_path: Path) -> Path:
    """The default pack as it was before: every rule but the `listed` ones."""
    lines = DEFAULT_PACK.read_text(encoding="utf-8").splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith("  - id: "):
            skipping = line.startswith("  - id: scr-")
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            out.append(line)
    path = tmp_path / "old-default.yaml"
    path.write_text("".join(out), encoding="utf-8")
    return path


def _forget_the_marker(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM app_state WHERE key = :k"), {"k": LISTED_RULES})


def _listed(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        table = load_table(session=session)
    return {r.id for r in table.rules.values() if r.listed is not None}


def test_an_old_table_gets_the_listed_rules_once_as_a_revision(
    empty_engine: Engine, tmp_path: Path
) -> None:
    initialize(empty_engine, pack=_pack_without_listed_rules(tmp_path), seed_sources=False)
    assert _listed(empty_engine) == set()
    _forget_the_marker(empty_engine)  # as a database made before the marker existed

    assert initialize(empty_engine, now=NOW, seed_sources=False) == 2
    listed = _listed(empty_engine)
    assert {"scr-sdn", "scr-sdn-50-percent", "scr-entity-list-weights"} <= listed
    assert initialize(empty_engine, now=NOW, seed_sources=False) == 2  # once
    with session_scope(empty_engine) as session:
        assert current_revision(session=session) == 2


def test_a_new_table_made_from_a_pack_without_them_keeps_that_choice(
    empty_engine: Engine, tmp_path: Path
) -> None:
    initialize(empty_engine, pack=_pack_without_listed_rules(tmp_path), seed_sources=False)
    assert initialize(empty_engine, now=NOW, seed_sources=False) == 1
    assert _listed(empty_engine) == set()


def test_a_table_that_has_them_gets_no_new_revision(engine: Engine) -> None:
    _forget_the_marker(engine)
    assert initialize(engine, now=NOW, seed_sources=False) == 1
    assert "scr-sdn" in _listed(engine)
