"""The screening state: the newest version of every list, indexed once per version and cached."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.domain.screening.hits import Hit, Listed, Thresholds
from bot.domain.screening.matching import ScreeningIndex
from bot.domain.screening.verdicts import ListInfo
from bot.services.yente import YenteClient, kind_of_entry
from bot.settings import Settings
from storage.list_entries import load_current
from storage.list_versions import newest_versions
from storage.screening_snapshots import ScreeningSnapshots, screening_stamp


@dataclass(frozen=True)
class ScreeningState:
    """The newest version of every list, indexed: what one screening runs against."""

    versions: Mapping[str, int]
    lists: tuple[ListInfo, ...]
    kinds: Mapping[str, str]
    index: ScreeningIndex | None
    remote: YenteClient | None = None  # CLEARANCE_SCREENING_URL: screen with yente instead

    def screen(
        self, name: str, *, hq: str | None = None, party_type: str = "org", limit: int = 10
    ) -> list[Hit]:
        """Screen one name against every loaded list (or the yente service)."""
        if not name.strip():
            return []
        if self.remote is not None:
            return self.remote.match(name, hq=hq, party_type=party_type, limit=limit)
        if self.index is None:
            return []
        return self.index.screen(name, hq=hq, party_type=party_type, limit=limit)

    def kind_of(self, hit: Hit) -> str:
        """The list kind of a hit's list."""
        if self.remote is not None and hit.list_id == self.remote.list_id:
            return kind_of_entry(hit.entry)
        return self.kinds.get(hit.list_id, "")


@dataclass
class ScreeningCache:
    """The index for the newest list versions, rebuilt only when a list gets a new version."""

    engine: Engine
    ttl_s: float = 0.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    remote: YenteClient | None = None
    background: bool = False  # rebuild a newer version's index off the request path
    snapshots: ScreeningSnapshots | None = None  # one-shot commands: the index saved for the next
    _state: ScreeningState | None = None
    _building: bool = False
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invalidate(self) -> None:
        """Look up the versions on the next call."""
        self._checked = 0.0

    def get(self) -> ScreeningState:
        """Return the state for the newest list versions."""
        if self.remote is not None:
            if self._state is None:
                info = ListInfo(
                    self.remote.list_id, f"yente {self.remote.dataset}", "yente", "live", 0, 0
                )
                self._state = ScreeningState({}, (info,), {}, None, self.remote)
            return self._state
        cached = self._state
        if cached is not None and self.ttl_s and time.monotonic() - self._checked < self.ttl_s:
            return cached
        versions = newest_versions(self.engine)
        self._checked = time.monotonic()
        if cached is not None and dict(cached.versions) == versions:
            return cached
        if cached is not None and self.background:
            # Serving: keep answering from the version in hand (each answer names it) while
            # the new one is indexed, so no question waits seconds for the rebuild.
            self._rebuild_in_background(versions)
            return cached
        with self._lock:
            if self._state is None or dict(self._state.versions) != versions:
                self._state = self._load_or_build(versions)
            return self._state

    def _load_or_build(self, versions: dict[str, int]) -> ScreeningState:
        if self.snapshots is None or not versions:
            return self._build()
        stamp = screening_stamp(self.engine, versions, self.thresholds)
        loaded = self.snapshots.load(stamp, {})
        if isinstance(loaded, ScreeningState) and dict(loaded.versions) == versions:
            return loaded
        state = self._build()
        if dict(state.versions) == versions:
            self.snapshots.save(stamp, state, {})
        return state

    def _rebuild_in_background(self, versions: dict[str, int]) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True

        def rebuild() -> None:
            try:
                state = self._build()
                with self._lock:
                    self._state = state
            finally:
                with self._lock:
                    self._building = False

        threading.Thread(target=rebuild, name="screening-index", daemon=True).start()

    def _build(self) -> ScreeningState:
        loaded = load_current(self.engine)
        listed = [Listed(x.list.id, e) for x in loaded for e in x.entries]
        lists = tuple(
            ListInfo(
                x.list.id,
                x.list.name,
                x.list.kind,
                x.version.created_at.date().isoformat(),
                x.version.id or 0,
                len(x.entries),
            )
            for x in loaded
        )
        return ScreeningState(
            versions={x.list.id: x.version.id or 0 for x in loaded},
            lists=lists,
            kinds={x.list.id: x.list.kind for x in loaded},
            index=ScreeningIndex(listed, self.thresholds) if listed else None,
        )


def screening_cache(
    engine: Engine, *, ttl_s: float = 0.0, settings: Settings | None
) -> ScreeningCache:
    """The screening cache for this process: yente when CLEARANCE_SCREENING_URL is set, else the
    in-process index (also with no settings, as in tests of the embedded default)."""
    remote = None
    if settings is not None and settings.screening_url:
        remote = YenteClient(settings.screening_url, settings.screening_dataset)
    return ScreeningCache(engine, ttl_s=ttl_s, remote=remote)
