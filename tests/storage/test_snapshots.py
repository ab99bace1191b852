"""Knowledge snapshots: a later process loads the compiled rule table instead of rebuilding it, a
snapshot is used only for its own revision and code, a bad one is rebuilt, and none changes an
answer."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import bot.services.asking
from bot.domain.asking.knowledge import build_knowledge
from bot.domain.errors import QuestionError
from bot.domain.rules.files import parse_text
from bot.services.asking import KnowledgeCache, answer_question
from bot.settings import Settings
from storage.db import create_db_engine, session_scope
from storage.rules import load_table
from storage.snapshots import FORMAT, RevisionStamp, SnapshotStore, database_key, revision_stamp
from tests.support.factories import import_legacy

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
CUSTOMERS = """version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - {id: hk-holder, name: HK Holder Ltd, hq: HK}
  - {id: mid, name: Mid Holdings Pte, hq: SG, owners: [{owner: dragon, share: 60}]}
  - id: nimbus
    name: Nimbus Pte Ltd
    aliases: [Nimbus]
    hq: SG
    owners: [{owner: mid, share: 30}, {owner: hk-holder, share: 25}]
  - {id: acme-de, name: Acme GmbH, aliases: [Acme], hq: DE, tags: [government]}
  - {id: acme-us, name: Acme Inc, aliases: [Acme], hq: US}
"""
NIMBUS = "can Nimbus Pte Ltd in Singapore use Claude Sonnet 4.5"
QUESTIONS = [
    NIMBUS,
    "can Nimbus use GPT-4o",
    "can Mid Holdings Pte in Singapore use Claude Opus 4.1",
    "can Acme GmbH in Germany use Llama 3.2 90B Vision",
    "can Acme in Germany use GPT-4o",  # ambiguous alias
    "can Nimbus Pte in Singapore use GPT-4o",  # near miss: a hint
    "can someone in Ukraine use Claude",  # a family, a country with subdivisions named
    "can someone in Iran use GPT-4o",
    "can Acme in Germny use GPT-4o",  # unknown country
]


def _import(engine: Engine, yaml_text: str) -> None:
    with session_scope(engine) as session:
        import_legacy(
            session=session,
            parsed=parse_text(yaml_text, "c.yaml"),
            replace=False,
            author="test",
            now=NOW,
        )
        session.commit()


def _store(engine: Engine, tmp_path: Path) -> SnapshotStore:
    store = SnapshotStore.for_engine(engine, tmp_path / "cache")
    assert store is not None
    return store


def _cache(engine: Engine, store: SnapshotStore | None) -> KnowledgeCache:
    return KnowledgeCache(engine, lazy_customers=True, snapshots=store)


def _outcome(cache: KnowledgeCache, question: str, as_of: date | None = None) -> object:
    try:
        a = answer_question(cache, question, now=NOW, as_of=as_of)
    except QuestionError as exc:
        return ("error", exc.code, [c.value for c in exc.candidates])
    d = a.to_dict()
    d.pop("decision_id")
    return d


class Builds:
    """Counts the times knowledge is built from the rule rows (not loaded from a snapshot)."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real, self.count = real, 0

    def __call__(self, **kwargs: Any) -> Any:
        self.count += 1
        return self.real(**kwargs)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    counter = Builds(load_table)
    monkeypatch.setattr(bot.services.asking, "load_table", counter)
    return counter


def test_a_second_process_loads_the_snapshot_instead_of_the_rules(
    engine: Engine, tmp_path: Path, builds: Builds, caplog: pytest.LogCaptureFixture
) -> None:
    _import(engine, CUSTOMERS)
    store = _store(engine, tmp_path)
    first = _outcome(_cache(engine, store), NIMBUS)
    assert builds.count == 1 and store.path.is_file()
    caplog.set_level(logging.DEBUG, logger="storage.snapshots")
    second_cache = _cache(engine, store)
    assert _outcome(second_cache, NIMBUS) == first
    assert builds.count == 1  # no rule body was read
    assert "knowledge snapshot loaded" in caplog.text
    # Customers are not in the snapshot: this process fetched its own from the database.
    assert set(dict(second_cache.get().table.customers)) == {"nimbus", "mid", "hk-holder", "dragon"}


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_snapshot_never_changes_an_answer(
    engine: Engine, tmp_path: Path, builds: Builds, question: str
) -> None:
    _import(engine, CUSTOMERS)
    store = _store(engine, tmp_path)
    _cache(engine, store).get()  # builds and saves
    loaded = _cache(engine, store)
    built_now = _cache(engine, None)
    in_memory = KnowledgeCache(engine)  # every customer loaded, as the server does
    for as_of in (None, date(2025, 9, 4), date(2023, 1, 1)):
        expected = _outcome(in_memory, question, as_of)
        assert _outcome(built_now, question, as_of) == expected
        assert _outcome(loaded, question, as_of) == expected
    assert builds.count == 3  # saver, built_now, in_memory: `loaded` used the snapshot


def test_a_new_revision_is_built_and_saved_again(
    engine: Engine, tmp_path: Path, builds: Builds
) -> None:
    store = _store(engine, tmp_path)
    before = _outcome(_cache(engine, store), NIMBUS)
    assert isinstance(before, dict) and before["revision"] == 1
    assert before["customer"]["registered"] is False
    _import(engine, CUSTOMERS)  # revision 2: Nimbus is registered, 55% owned from CN/HK
    after = _outcome(_cache(engine, store), NIMBUS)
    assert builds.count == 2
    assert after == _outcome(KnowledgeCache(engine), NIMBUS)
    assert isinstance(after, dict) and after["revision"] == 2 and after["verdict"] == "denied"
    header = json.loads(store.path.read_bytes().split(b"\n", 2)[1])
    assert header["revision"] == 2
    assert _outcome(_cache(engine, store), NIMBUS) == after
    assert builds.count == 3  # the one in-memory build; revision 2 came from the snapshot


def test_a_long_running_cache_follows_new_revisions(engine: Engine, tmp_path: Path) -> None:
    cache = _cache(engine, _store(engine, tmp_path))
    assert cache.get().revision == 1
    _import(engine, CUSTOMERS)
    assert cache.get().revision == 2


def test_a_rewritten_revision_does_not_match(
    engine: Engine, tmp_path: Path, builds: Builds
) -> None:
    store = _store(engine, tmp_path)
    _cache(engine, store).get()
    with engine.connect() as conn:
        old = revision_stamp(conn)
    # The same number written again (a database rebuilt under the same URL, a restore).
    with engine.begin() as conn:
        # The revision table is append-only: a restore is done with its guards off.
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE revision DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER revision_no_update"))
        conn.execute(text("UPDATE revision SET author = 'someone else' WHERE number = 1"))
        new = revision_stamp(conn)
    assert new.number == old.number and new.identity != old.identity
    assert _cache(engine, store).get().revision == 1
    assert builds.count == 2
    assert store.load(old, {}) is None


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    magic, header_line, payload = data.split(b"\n", 2)
    header = json.loads(header_line)
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped bit":  # still a valid pickle: only the checksum tells
        i = data.index(b"Anthropic", len(magic) + len(header_line)) + 3
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1 :])
    elif how == "garbage":
        path.write_bytes(b"\x80\x04not a snapshot at all")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not a pickle":  # passes the header and checksum checks, fails to unpickle
        import zlib

        bad = b"\x80\x05garbage."
        header.update(size=len(bad), crc32=zlib.crc32(bad))
        path.write_bytes(magic + b"\n" + json.dumps(header).encode() + b"\n" + bad)
    elif how == "other code":
        header["code"] = "0" * 64
        path.write_bytes(magic + b"\n" + json.dumps(header).encode() + b"\n" + payload)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["truncated", "flipped bit", "garbage", "empty", "not a pickle", "other code"]
)
def test_a_bad_snapshot_is_ignored_and_rebuilt(
    engine: Engine, tmp_path: Path, builds: Builds, how: str
) -> None:
    _import(engine, CUSTOMERS)
    store = _store(engine, tmp_path)
    expected = _outcome(_cache(engine, store), NIMBUS)
    _damage(store.path, how)
    assert _outcome(_cache(engine, store), NIMBUS) == expected
    assert builds.count == 2
    assert _outcome(_cache(engine, store), NIMBUS) == expected  # saved again, whole
    assert builds.count == 2


def test_knowledge_that_cannot_be_saved_still_answers(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_a_lock(*args: Any, **kwargs: Any) -> Any:
        kb: Any = build_knowledge(*args, **kwargs)
        kb.lock = threading.Lock()  # say, a future engine with something unpicklable
        return kb

    monkeypatch.setattr(bot.services.asking, "build_knowledge", with_a_lock)
    store = _store(engine, tmp_path)
    store.directory.mkdir()
    expected = _outcome(_cache(engine, None), NIMBUS)
    assert _outcome(_cache(engine, store), NIMBUS) == expected
    assert not store.path.exists()
    assert list(store.directory.iterdir()) == []  # no temporary file left behind


def test_an_unwritable_cache_dir_still_answers(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the directory should be")
    store = _store(engine, tmp_path)
    assert _outcome(_cache(engine, store), NIMBUS) == _outcome(_cache(engine, None), NIMBUS)


def test_a_snapshot_is_for_one_database(engine: Engine, tmp_path: Path) -> None:
    other = create_db_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert _store(other, tmp_path).path != _store(engine, tmp_path).path
    finally:
        other.dispose()


def test_the_file_name_holds_no_password(tmp_path: Path) -> None:
    a = create_db_engine("postgresql://clearance:s3cret-pw@db.example:5432/prod")
    b = create_db_engine("postgresql://clearance:rotated-pw@db.example:5432/prod")
    c = create_db_engine("postgresql://clearance:s3cret-pw@db.example:5432/staging")
    store = SnapshotStore.for_engine(a, tmp_path)
    assert store is not None and "s3cret" not in str(store.path)
    assert database_key(a) == database_key(b) != database_key(c)
    assert SnapshotStore.for_engine(create_db_engine("sqlite://"), tmp_path) is None
    assert SnapshotStore.for_engine(a, None) is None


def test_no_snapshot_for_a_database_without_revisions(empty_engine: Engine, tmp_path: Path) -> None:
    store = _store(empty_engine, tmp_path)
    assert _cache(empty_engine, store).get().revision == 0
    assert not store.path.exists()
    assert store.load(RevisionStamp(0, ""), {}) is None


def test_snapshots_need_customers_fetched_on_demand(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lazy_customers"):
        KnowledgeCache(engine, snapshots=_store(engine, tmp_path))


def test_old_snapshots_of_other_databases_are_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import storage.snapshots

    monkeypatch.setattr(storage.snapshots, "KEEP", 2)
    cache = tmp_path / "cache"
    cache.mkdir()
    for i, name in enumerate(["knowledge-a.pickle", "knowledge-b.pickle", ".knowledge-x.tmp"]):
        (cache / name).write_bytes(b"old")
        os.utime(cache / name, (1_000_000 + i, 1_000_000 + i))
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        bot.services.asking.initialize(engine, seed_sources=False)
        store = _store(engine, tmp_path)
        _cache(engine, store).get()
    finally:
        engine.dispose()
    assert {p.name for p in cache.iterdir()} == {"knowledge-b.pickle", store.path.name}


def test_cache_dir_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLEARANCE_CACHE_DIR", str(tmp_path / "snaps"))
    assert Settings().snapshot_dir() == tmp_path / "snaps"
    for off in ("off", "OFF"):
        monkeypatch.setenv("CLEARANCE_CACHE_DIR", off)
        assert Settings().snapshot_dir() is None
    monkeypatch.setenv("CLEARANCE_CACHE_DIR", "~/snaps")
    assert Settings().snapshot_dir() == Path.home() / "snaps"
    if sys.platform.startswith("linux"):
        monkeypatch.delenv("CLEARANCE_CACHE_DIR")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert Settings().snapshot_dir() == tmp_path / "xdg" / "clearance"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
        assert Settings().snapshot_dir() == Path.home() / ".cache" / "clearance"


def test_the_header_comes_first_and_is_plain(engine: Engine, tmp_path: Path) -> None:
    store = _store(engine, tmp_path)
    _cache(engine, store).get()
    magic, header_line, _payload = store.path.read_bytes().split(b"\n", 2)
    assert magic.decode() == FORMAT
    header = json.loads(header_line)
    assert header["revision"] == 1 and len(header["identity"]) == 64
    if sys.platform != "win32":
        assert store.path.stat().st_mode & 0o077 == 0
        assert store.directory.stat().st_mode & 0o077 == 0
