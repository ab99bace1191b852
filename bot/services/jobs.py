"""Scheduled jobs: poll sources, record impact, queue alerts and digests, deliver the outbox.

Every job takes `now` and can run on demand (the CLI) or from the scheduler, on any number of
replicas: sources are claimed by compare-and-set, changes/digests/alerts have unique keys, and each
delivery is claimed with a lease. A delivery counts its attempt before posting and carries its id in
the message metadata, so after a crash it is looked up in the channel before being posted again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.alerts import AlertsAndDigests
from bot.services.delivery import Delivering
from bot.services.impact import Impact
from bot.services.source_polls import SourcePolls


class Jobs(SourcePolls, Impact, AlertsAndDigests, Delivering):
    """Every job, for the scheduler and the CLI."""

    def run_cycle(
        self, *, now: datetime, force: bool = False, channel: str | None = None
    ) -> dict[str, Any]:
        """Record impact, queue alerts and digests, then deliver (what `digest run` does)."""
        revisions = self.record_revisions(now=now)
        dates = self.record_rule_dates(now=now)
        alerts = self.queue_alerts(now=now)
        digests = self.queue_digests(now=now, channel=channel, force=force)
        delivered = self.deliver(now=now)
        return {
            "revisions": len(revisions),
            "date_changes": len(dates),
            "alerts": alerts,
            "digests": digests,
            "delivered": delivered,
        }
