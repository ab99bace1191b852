"""The scheduler inside `clearance serve`: APScheduler 3 with in-memory jobs rebuilt at start.

State lives in our own tables (claims, unique keys, the outbox), never in a shared job store, so
any number of replicas can run the same jobs: each source is polled once per interval and each
digest and alert is posted once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.services.asking import utcnow
from bot.services.jobs import Jobs
from bot.services.polling import SourcePoller
from bot.services.review_reminders import ReviewReminders
from bot.settings import Settings

log = logging.getLogger("clearance.scheduler")


def _safely(name: str, fn: Callable[..., Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn(now=utcnow())
        except Exception:
            # A failed run is retried at the next tick; it must not stop the scheduler.
            log.exception("scheduled job %s failed", name)

    run.__name__ = run.__qualname__ = name
    return run


def create_scheduler(settings: Settings, jobs: Jobs) -> BackgroundScheduler:
    """Return a scheduler with the polling, impact, alert, digest and delivery jobs."""
    # Each run at INFO would drown the log at short intervals; failures still log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    tick = IntervalTrigger(seconds=settings.tick_s)
    # Each source on its own: one that hangs until its deadline holds back no other.
    poller = SourcePoller(jobs, threads=jobs.fetch_threads)
    scheduler.add_job(_safely("poll-sources", poller.tick), tick, id="poll-sources")
    scheduler.add_job(
        _safely("record-revisions", jobs.record_revisions), tick, id="record-revisions"
    )
    scheduler.add_job(
        _safely("rule-dates", jobs.record_rule_dates),
        CronTrigger(hour=0, minute=5, timezone="UTC"),
        id="rule-dates",
    )
    scheduler.add_job(_safely("queue-alerts", jobs.queue_alerts), tick, id="queue-alerts")
    scheduler.add_job(_safely("queue-digests", jobs.queue_digests), tick, id="queue-digests")
    scheduler.add_job(
        _safely("deliver", jobs.deliver),
        IntervalTrigger(seconds=settings.delivery_tick_s),
        id="deliver",
    )
    # Review channels may be set per workspace too, so reminders run whenever they are wanted.
    if settings.review_remind_after_h > 0 and jobs.client is not None:
        reminders = ReviewReminders(
            jobs.engine,
            jobs.client,
            timedelta(hours=settings.review_remind_after_h),
            clients=jobs.clients,
        )
        scheduler.add_job(_safely("remind-reviews", reminders.run), tick, id="remind-reviews")
    return scheduler
