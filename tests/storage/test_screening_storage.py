"""List versions in the database: versioned entries, guards, history, decisions and hits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.domain.screening.entries import Entry, ParsedList
from storage.db import session_scope
from storage.list_entries import current_entries, find_entry, load_current
from storage.list_versions import ListGuardError, history, newest_versions, store_version
from storage.screening_decisions import latest_decisions, record_decision
from storage.screening_hits import replace_hits

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def _parsed(n: int, *, extra: tuple[Entry, ...] = ()) -> ParsedList:
    return ParsedList("ofac_sdn", tuple(Entry(str(i), f"Company {i}") for i in range(n)) + extra)


def test_versions_store_only_changes_and_rebuild_the_current_list(empty_engine: Engine) -> None:
    first = store_version(
        empty_engine, "sdn", _parsed(20), name="OFAC SDN", now=NOW, origin="import"
    )
    assert first.version is not None and first.version.entries == 20
    same = store_version(empty_engine, "sdn", _parsed(20), name="OFAC SDN", now=NOW, origin="poll")
    assert same.version is None and same.diff.empty  # nothing changed: no new version
    changed = _parsed(
        19, extra=(Entry("19", "Company 19", programs=("SDGT",)), Entry("99", "New Co"))
    )
    second = store_version(
        empty_engine, "sdn", changed, name="OFAC SDN", now=NOW + timedelta(days=1), origin="poll"
    )
    assert second.version is not None
    assert (second.version.added, second.version.removed, second.version.changed) == (1, 0, 1)
    assert {c["change"] for c in second.version.changes} == {"added", "changed"}
    with session_scope(empty_engine) as session:
        current = current_entries(session, "sdn")
        assert len(current) == 21 and current["19"].programs == ("SDGT",)
        assert find_entry(session, None, "99")[1].name == "New Co"
    assert [v.id for v in history(empty_engine, "sdn")] == [second.version.id, first.version.id]
    assert newest_versions(empty_engine) == {"sdn": second.version.id}
    [loaded] = load_current(empty_engine)
    assert loaded.version.id == second.version.id and len(loaded.entries) == 21


@pytest.mark.parametrize(("keep", "refused"), [(18, False), (17, True), (0, True)])
def test_shrinking_download_is_refused_and_the_stored_version_stays(
    empty_engine: Engine, keep: int, refused: bool
) -> None:
    store_version(empty_engine, "sdn", _parsed(20), name="OFAC SDN", now=NOW, origin="import")
    smaller = _parsed(keep) if keep else ParsedList("ofac_sdn", ())
    if refused:
        with pytest.raises(ListGuardError):
            store_version(empty_engine, "sdn", smaller, name="OFAC SDN", now=NOW, origin="poll")
        with session_scope(empty_engine) as session:
            assert len(current_entries(session, "sdn")) == 20
    else:
        result = store_version(
            empty_engine, "sdn", smaller, name="OFAC SDN", now=NOW, origin="poll"
        )
        assert result.version is not None and result.version.removed == 20 - keep


def test_decisions_are_appended_and_the_newest_counts(empty_engine: Engine) -> None:
    entry = Entry("1", "Company 1")
    for decision in ("dismiss", "confirm"):
        record_decision(
            empty_engine,
            customer_id="nimbus",
            list_id="sdn",
            entry=entry,
            decision=decision,
            actor="U1",
            reason="checked the registry",
            now=NOW,
        )
    latest = latest_decisions(empty_engine)[("nimbus", "sdn", entry.key)]
    assert latest.decision == "confirm" and latest.fingerprint == entry.fingerprint
    assert replace(entry, programs=("X",)).fingerprint != entry.fingerprint


def test_replace_hits_reports_new_removed_and_changed(empty_engine: Engine) -> None:
    def hit(strength: str) -> dict[str, object]:
        return {
            "entry_name": "E",
            "matched_name": "E",
            "strength": strength,
            "score": 0.9,
            "fingerprint": "f",
        }

    a, b = ("c", "c", "sdn", "1"), ("c", "o", "sdn", "2")
    new, removed, changed = replace_hits(empty_engine, {a: hit("match")}, now=NOW)
    assert [h.entry_key for h in new] == ["1"] and not removed and not changed
    new, removed, changed = replace_hits(
        empty_engine, {a: hit("possible"), b: hit("match")}, now=NOW
    )
    assert [h.entry_key for h in new] == ["2"] and [h.entry_key for h in changed] == ["1"]
    new, removed, changed = replace_hits(empty_engine, {b: hit("match")}, now=NOW)
    assert [h.entry_key for h in removed] == ["1"] and not new
