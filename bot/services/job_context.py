"""What every scheduled job needs: the database, settings, Slack clients, this worker's name."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.domain.tracking.digest import ChangeView, Digest
from bot.services.asking import KnowledgeCache
from bot.services.fetching import Fetched, fetch
from bot.services.workspace_clients import (
    WorkspaceClients,
)
from bot.settings import Settings
from storage.policies import (
    insert_unique,
)
from storage.tables.tracking import Delivery

log = logging.getLogger("clearance.jobs")
Fetcher = Callable[..., Fetched]


class Renderer(Protocol):
    """Turns changes into Slack messages; the wiring passes `handlers.render.digests`."""

    def render_alert(self, c: ChangeView, tz: str = "UTC") -> dict[str, Any]:
        """Return one high-severity change as a message."""

    def render_digest(self, d: Digest) -> list[dict[str, Any]]:
        """Return a digest as a message and its thread replies."""


@dataclass
class JobContext:
    """What the jobs need: the database, settings, a Slack client and this worker's name."""

    engine: Engine
    settings: Settings
    client: WebClient | None = None
    fetcher: Fetcher = fetch
    worker: str = field(default_factory=lambda: f"w-{uuid.uuid4().hex[:8]}")
    lease_s: float = 120.0
    fetch_threads: int = 16
    cache: KnowledgeCache | None = None
    renderer: Renderer = field(kw_only=True)
    clients: WorkspaceClients | None = None  # each workspace's own token (installs)

    def __post_init__(self) -> None:
        if self.cache is None:
            self.cache = KnowledgeCache(self.engine, settings=self.settings)

    def _kb(self) -> Any:
        assert self.cache is not None
        return self.cache.get()

    def _notify_admins(self, text: str, *, key: str, now: datetime) -> None:
        """Queue a direct message to each admin (through the outbox, so it is not lost)."""
        for admin in sorted(self.settings.admin_users()):
            insert_unique(
                self.engine,
                Delivery(
                    dedupe_key=f"{key}:{admin}",
                    channel=admin,
                    kind="notice",
                    payload={
                        "text": text,
                        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                    },
                    next_attempt_at=now,
                    created_at=now,
                ),
            )
