"""The workspace a row belongs to: a Slack team and, on Enterprise Grid, its org."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Workspace:
    """A team id and an Enterprise Grid org id (either may be None: the CLI, one workspace)."""

    team_id: str | None = None
    enterprise_id: str | None = None

    def columns(self) -> dict[str, Any]:
        """Return the row columns that name the workspace."""
        return {"team_id": self.team_id, "enterprise_id": self.enterprise_id}


NONE = Workspace()
