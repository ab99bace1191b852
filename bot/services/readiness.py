"""`GET /readyz`: ready once the database answers and a rule table is loaded in it."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.rules import current_revision

log = logging.getLogger("clearance.serve")


def readiness(engine: Engine) -> tuple[bool, dict[str, Any]]:
    """Return whether this worker can answer, and why not.

    A worker serves only after loading the rule table into memory, so what is left to check
    is that the database answers now and holds a rule table.
    """
    try:
        with session_scope(engine) as session:
            revision = current_revision(session=session)
    except Exception as exc:
        log.warning("not ready: the database is unreachable (%s)", type(exc).__name__)
        return False, {"ok": False, "database": False, "rule_table": None}
    if not revision:
        return False, {"ok": False, "database": True, "rule_table": None}
    return True, {"ok": True, "database": True, "rule_table": revision}
