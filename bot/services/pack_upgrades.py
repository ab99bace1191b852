"""Upgrades of a database's rule table that a new release of the default pack brings.

The restricted-party rules (`listed`) were applied from a separate file before rules could read
list membership; a database made then has none of them in its table. They are added once, as a
revision of their own, so a confirmed SDN hit is denied there as on a new database.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.domain.errors import InvalidFile
from bot.services.rule_changes import import_parsed
from storage.db import session_scope
from storage.policies import get_state, set_state
from storage.rules import DEFAULT_PACK, load_table, lock_rule_table

log = logging.getLogger("clearance.upgrades")
LISTED_RULES = "listed_rules_added"
_STATE = text("SELECT value FROM app_state WHERE key = :key")


def mark_listed_rules(session: Session, *, how: str) -> None:
    """Record that this database's table has (or chose) its restricted-party rules."""
    set_state(session=session, key=LISTED_RULES, value=how)


def add_listed_rules(engine: Engine, *, now: datetime, author: str) -> int | None:
    """Add the default pack's restricted-party rules to a table made without them, once.

    Returns the new revision's number, or None when nothing was added.
    """
    with engine.connect() as conn:  # the common case, one plain query: done long ago
        if conn.execute(_STATE, {"key": LISTED_RULES}).scalar():
            return None
    from bot.domain.rules.files import read_file  # YAML: only on this one upgrade
    from bot.domain.rules.parsed_file import ParsedFile

    with session_scope(engine) as session:
        lock_rule_table(session=session)
        if get_state(session=session, key=LISTED_RULES):
            return None
        if any(r.listed is not None for r in load_table(session=session).rules.values()):
            mark_listed_rules(session, how="present")
            session.commit()
            return None
        pack = read_file(DEFAULT_PACK)
        rules = {i: body for i, body in pack.sections.get("rules", {}).items() if "listed" in body}
        subset = ParsedFile(
            pack.name,
            sections={"rules": rules},
            lines={k: v for k, v in pack.lines.items() if k[0] == "rules" and k[1] in rules},
        )
        try:
            revision = import_parsed(
                session=session,
                parsed=subset,
                replace=False,
                author=author,
                now=now,
                summary="restricted-party rules from the default pack",
            )
        except InvalidFile as exc:
            # Without them a confirmed hit is still at least `review` (screening's own floor).
            session.rollback()
            log.warning("restricted-party rules could not be added: %s", exc)
            mark_listed_rules(session, how="failed")
            session.commit()
            return None
        mark_listed_rules(session, how=f"revision {revision.number}")
        session.commit()
        return revision.number
