"""`clearance audit verify`: walk the audit hash chains and name the first broken link."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_TAMPERED = 4  # the audit log does not verify


def cmd_audit_verify(args: argparse.Namespace, engine: Any) -> int:
    """Verify every audit chain; exit 4 and name the first broken link if one does not hold."""
    from storage.audit_chain import verify_chains

    with engine.connect() as conn:
        reports = verify_chains(conn)
    broken = [r for r in reports if r.broken is not None]
    if getattr(args, "json", False):
        out = {
            "ok": not broken,
            "chains": [
                {
                    "table": r.table,
                    "rows": r.rows,
                    "broken": None if r.broken is None else str(r.broken),
                }
                for r in reports
            ],
        }
        print(json.dumps(out))
        return EXIT_TAMPERED if broken else 0
    for r in reports:
        if r.broken is None:
            print(f"{r.table}: {r.rows} rows, chain intact")
        else:
            print(f"{r.table}: BROKEN at {r.broken}", file=sys.stderr)
    if broken:
        print(
            "The audit log was changed outside Clearance. Restore the database from a backup "
            "taken before the first broken row, and find out who had write access.",
            file=sys.stderr,
        )
        return EXIT_TAMPERED
    return 0
