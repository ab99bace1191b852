"""The screening index saved to disk, and the stamp a saved index must match to be loaded."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import session_scope
from storage.snapshots import RevisionStamp, SnapshotStore
from storage.tables.screening import ListVersion


@dataclass(frozen=True)
class ScreeningSnapshots(SnapshotStore):
    """The screening index of one database's newest list versions, saved for the next `ask`."""

    @property
    def path(self) -> Path:
        """The snapshot file of this database's screening index."""
        return self.directory / f"screening-{self.database[:32]}.pickle"


def screening_stamp(engine: Engine, versions: dict[str, int], thresholds: object) -> RevisionStamp:
    """What a saved index must match: the list versions (ids, times, counts), thresholds and the
    screening code; a database rebuilt with other lists under the same ids never matches."""
    import bot.domain.screening as package

    with session_scope(engine) as session:
        rows = session.exec(
            select(ListVersion).where(col(ListVersion.id).in_(sorted(versions.values())))
        ).all()
    identity = sorted(
        (v.list_id, v.id or 0, v.created_at.isoformat(), v.entries, v.added, v.removed, v.changed)
        for v in rows
    )
    digest = hashlib.sha256(json.dumps(identity).encode() + repr(thresholds).encode())
    for path in sorted(Path(package.__file__).parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return RevisionStamp(len(versions), digest.hexdigest())
