"""Impact: each new rule-table revision or rule date becomes a change naming the answers it flips."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain.asking.knowledge import Knowledge, build_knowledge
from bot.domain.rules.listed import ListFacts
from bot.domain.tracking.impact import flips_between, flips_on, rules_changing_on
from bot.services.job_context import JobContext
from bot.services.rescreening import listings_of
from bot.services.screening_cache import screening_cache
from storage.db import session_scope
from storage.policies import (
    get_state,
    insert_unique,
    rule_table_source_id,
    set_state,
)
from storage.rules import current_revision, get_revision, load_table
from storage.screening_hits import open_hits
from storage.tables.tracking import PolicyChange


class Impact(JobContext):
    """Record rule-table revisions and rule dates as changes, with the usages whose verdict flips."""

    def _listings(self, kb: Knowledge) -> dict[str, ListFacts]:
        """What screening finds now for the customers with open hits (no hits: no screening)."""
        hit = {h.customer_id for h in open_hits(self.engine)}
        if not hit:
            return {}
        assert self.cache is not None
        if self.cache.screening is None:
            self.cache.screening = screening_cache(
                self.engine, ttl_s=self.cache.ttl_s, settings=self.settings
            )
        return listings_of(self.engine, self.cache.screening.get(), kb, hit)

    def record_revisions(self, *, now: datetime) -> list[PolicyChange]:
        """Record a change for each new rule-table revision, with the usages whose verdict flips."""
        with session_scope(self.engine) as session:
            newest = current_revision(session=session)
            mark = get_state(session=session, key="impact:revision")
            if mark is None:  # first run: history before now is not news
                set_state(session=session, key="impact:revision", value=str(newest))
                session.commit()
                return []
            source_id = rule_table_source_id(session=session)
        out = []
        for rev in range(int(mark) + 1, newest + 1):
            with session_scope(self.engine) as session:
                old = build_knowledge(load_table(session=session, revision=rev - 1))
                new = build_knowledge(load_table(session=session, revision=rev))
                revision = get_revision(session=session, number=rev)
            flips = flips_between(old, new, on=now.date(), listings=self._listings(new))
            summary = (
                f"Revision {rev} by {revision.author if revision else '?'}: "
                f"{revision.summary if revision else ''}"
            )
            change = insert_unique(
                self.engine,
                PolicyChange(
                    dedupe_key=f"revision:{rev}",
                    source_id=source_id,
                    detected_at=now,
                    summary=summary,
                    severity="high" if flips else "normal",
                    revision=rev,
                    details={
                        "flips": [f.to_dict() for f in flips],
                        "flip_texts": [f.describe() for f in flips],
                        "reasons": ["verdicts flip for recorded usage"] if flips else [],
                    },
                ),
            )
            if change is not None:
                out.append(change)
            with session_scope(self.engine) as session:
                set_state(session=session, key="impact:revision", value=str(rev))
                session.commit()
        return out

    def record_rule_dates(self, *, now: datetime) -> list[PolicyChange]:
        """Record rules that come into force or lapse today, with the usages that flip."""
        today = now.date()
        with session_scope(self.engine) as session:
            mark = get_state(session=session, key="impact:day")
            source_id = rule_table_source_id(session=session)
        start = date.fromisoformat(mark) + timedelta(days=1) if mark else today
        start = max(start, today - timedelta(days=31))
        kb = self._kb()
        listings = self._listings(kb)
        out = []
        day = start
        while day <= today:
            rules = rules_changing_on(kb, day)
            flips = flips_on(kb, day, listings)
            if rules or flips:
                summary = (
                    f"Rules changing on {day}: {', '.join(rules) or 'none'}; "
                    f"{len(flips)} recorded usage(s) flip"
                )
                change = insert_unique(
                    self.engine,
                    PolicyChange(
                        dedupe_key=f"dates:{day.isoformat()}",
                        source_id=source_id,
                        detected_at=now,
                        summary=summary,
                        severity="high" if flips else "normal",
                        details={
                            "rules": rules,
                            "flips": [f.to_dict() for f in flips],
                            "flip_texts": [f.describe() for f in flips],
                            "reasons": ["verdicts flip for recorded usage"] if flips else [],
                        },
                    ),
                )
                if change is not None:
                    out.append(change)
            day += timedelta(days=1)
        with session_scope(self.engine) as session:
            set_state(session=session, key="impact:day", value=today.isoformat())
            session.commit()
        return out
