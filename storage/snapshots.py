"""Knowledge snapshots: the compiled knowledge of one revision, kept for the next process.

A one-shot `clearance ask` would spend most of its time reading every rule body and compiling
the engine, though the knowledge of a revision never changes. The first process to build it
pickles it into a cache directory; later processes at the same revision load it instead.

What keeps a snapshot from giving a wrong answer:
- one file per database, named by a hash of its URL (without the password);
- a header that must match before anything is unpickled: the revision's stamp (number, time,
  author and summary, so a database rebuilt under the same URL does not match) and a fingerprint
  of the code (the Python version, the source of every `bot` and `storage` module, the pycountry
  version), so a changed or upgraded install never loads an old layout;
- objects that belong to one process (the database engine, customers fetched on demand) are not
  saved: the saver names them and the loader passes fresh ones under the same names;
- a file is written under a temporary name and renamed, so readers see a whole file or none, and
  its payload carries a checksum; anything unreadable (truncated, corrupt, another format, a file
  of another user) counts as no snapshot, and the caller builds the knowledge as if there were
  none.

Loading a pickle runs code it names, so the directory is created private to the user
(CLEARANCE_CACHE_DIR sets another one).
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import json
import logging
import os
import pickle
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

FORMAT = "clearance-knowledge-1"
KEEP = 16  # snapshots kept per directory (the least recently used go first)
_NEWEST = text(
    "SELECT number, created_at, author, summary FROM revision ORDER BY number DESC LIMIT 1"
)


@dataclass(frozen=True)
class RevisionStamp:
    """The newest revision's number and a hash of what identifies it beyond the number."""

    number: int
    identity: str  # "" when there is no revision yet


def revision_stamp(conn: Connection) -> RevisionStamp:
    """Return the stamp of the newest revision (number 0 when the database has none)."""
    row = conn.execute(_NEWEST).first()
    if row is None:
        return RevisionStamp(0, "")
    number, created_at, author, summary = row
    identity = json.dumps([number, str(created_at), author, summary])
    return RevisionStamp(int(number), hashlib.sha256(identity.encode()).hexdigest())


@cache
def code_fingerprint() -> str:
    """Return a hash of everything a snapshot's layout depends on."""
    import pycountry  # the place names in a snapshot come from its data

    import bot

    digest = hashlib.sha256(
        f"{FORMAT}|{sys.version}|{pickle.DEFAULT_PROTOCOL}|"
        f"{getattr(pycountry, '__version__', '')}".encode()
    )
    for package in (Path(bot.__file__).parent, Path(__file__).parent):
        # Every subpackage too: the pickled classes live in bot/domain/... since the layout move.
        for path in sorted(package.rglob("*.py")):
            digest.update(f"{path.relative_to(package.parent).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def database_key(engine: Engine) -> str | None:
    """Return a hash naming the engine's database (None for an in-memory SQLite database)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:") or (url.database or "").startswith("file:"):
            return None
        url = url.set(database=os.path.abspath(url.database or ""))
    # The password is left out: it is no part of which database this is.
    return hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or loading knowledge for good.

    Knowledge is up to a million small objects that live as long as the process; the collector
    would walk them again and again while they are created (5x the load time) and after. They
    are moved to its permanent generation (`gc.freeze`) at the end: still freed when unreferenced,
    no longer walked.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _detached(name: str) -> object:
    """Stands in a snapshot for a process-bound object; `SnapshotStore.load` resolves it."""
    raise pickle.UnpicklingError(
        f"'{name}' belongs to another process: load the snapshot with SnapshotStore.load"
    )


class _Pickler(pickle.Pickler):
    """Saves each named process-bound object as a call `_detached(name)`.

    By type, through the dispatch table: `persistent_id` would be called for every one of the
    million objects and double the time to save.
    """

    def __init__(self, file: io.BytesIO, detached: Mapping[str, object]) -> None:
        super().__init__(file, protocol=pickle.DEFAULT_PROTOCOL)
        for name, obj in detached.items():
            if type(obj).__module__ == "builtins":  # pickled inline, never looked up
                raise TypeError(f"'{name}' must be of a class of its own to be left out")
        names = {id(obj): name for name, obj in detached.items()}

        def reduce(obj: object) -> tuple[Any, tuple[str]]:
            name = names.get(id(obj))
            if name is None:
                raise pickle.PicklingError(f"a {type(obj).__name__} that was not named detached")
            return _detached, (name,)

        table = dict(copyreg.dispatch_table)
        table.update({type(obj): reduce for obj in detached.values()})
        self.dispatch_table = table


class _Unpickler(pickle.Unpickler):
    """Loads `_detached(name)` as the process's own object of that name."""

    def __init__(self, file: io.BytesIO, attach: Mapping[str, object]) -> None:
        super().__init__(file)
        self._attach = attach

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, _detached.__name__):
            return self._attach.__getitem__
        return super().find_class(module, name)


@dataclass(frozen=True)
class SnapshotStore:
    """Snapshots of one database's knowledge in a directory."""

    directory: Path
    database: str  # `database_key` of the engine

    @classmethod
    def for_engine(cls, engine: Engine, directory: Path | None) -> SnapshotStore | None:
        """Return the store for this database, or None when there is nothing to store."""
        key = database_key(engine)
        if directory is None or key is None:
            return None
        return cls(directory, key)

    @property
    def path(self) -> Path:
        """Return the snapshot file of this database."""
        return self.directory / f"knowledge-{self.database[:32]}.pickle"

    def _header(self, stamp: RevisionStamp) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "revision": stamp.number,
            "identity": stamp.identity,
            "code": code_fingerprint(),
        }

    def load(self, stamp: RevisionStamp, attach: Mapping[str, object]) -> object | None:
        """Return the knowledge saved for this revision, or None when there is none usable.

        `attach` holds the process's own objects under the names they were saved with.
        """
        if not stamp.identity:
            return None
        try:
            with open(self.path, "rb") as f:
                if hasattr(os, "getuid") and os.fstat(f.fileno()).st_uid != os.getuid():
                    log.debug("knowledge snapshot %s ignored: not owned by this user", self.path)
                    return None
                if f.readline() != f"{FORMAT}\n".encode():
                    log.debug("knowledge snapshot %s ignored: another format", self.path)
                    return None
                header = json.loads(f.readline())
                expected = self._header(stamp)
                if any(header.get(k) != v for k, v in expected.items()):
                    log.debug("knowledge snapshot %s is for another revision or code", self.path)
                    return None
                payload = f.read()
            if len(payload) != header["size"] or zlib.crc32(payload) != header["crc32"]:
                log.debug("knowledge snapshot %s ignored: damaged", self.path)
                return None
            with paused_gc():
                knowledge: object = _Unpickler(io.BytesIO(payload), attach).load()
            with suppress(OSError):
                os.utime(self.path)  # recently used: pruned last
        except FileNotFoundError:
            return None
        except Exception as exc:  # a snapshot that can't be read is no snapshot
            log.debug("knowledge snapshot %s ignored: %r", self.path, exc)
            return None
        log.debug("knowledge snapshot loaded from %s (revision %d)", self.path, stamp.number)
        return knowledge

    def save(self, stamp: RevisionStamp, knowledge: object, detached: Mapping[str, object]) -> bool:
        """Save the knowledge of this revision, leaving out the `detached` objects.

        Returns whether it was saved; a failure is logged and otherwise ignored.
        """
        if not stamp.identity:
            return False
        tmp: str | None = None
        try:
            buf = io.BytesIO()
            _Pickler(buf, detached).dump(knowledge)
            payload = buf.getvalue()
            header = {**self._header(stamp), "size": len(payload), "crc32": zlib.crc32(payload)}
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".knowledge-", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(f"{FORMAT}\n{json.dumps(header)}\n".encode())
                f.write(payload)
            os.replace(tmp, self.path)
            tmp = None
        except Exception as exc:  # the answer does not depend on the snapshot being saved
            log.debug("knowledge snapshot not saved to %s: %r", self.path, exc)
            return False
        finally:
            if tmp is not None:
                with suppress(OSError):
                    os.unlink(tmp)
        log.debug("knowledge snapshot saved to %s (revision %d)", self.path, stamp.number)
        self._prune()
        return True

    def _prune(self) -> None:
        """Keep the `KEEP` most recently used snapshots in the directory (of any database), and
        remove temporary files an interrupted save left behind."""
        try:
            files = [(p.stat().st_mtime, p) for p in self.directory.glob("knowledge-*.pickle")]
            stale = [
                p
                for p in self.directory.glob(".knowledge-*.tmp")
                if p.stat().st_mtime < time.time() - 3600
            ]
        except OSError:
            return
        for path in [p for _mtime, p in sorted(files, reverse=True)[KEEP:]] + stale:
            with suppress(OSError):
                path.unlink()
