"""Database triggers that keep the audit tables append-only, whatever code or person writes.

- Audit logs (decisions, admin actions, revisions): no UPDATE, DELETE or TRUNCATE, and on SQLite
  no row without its place in the hash chain (on PostgreSQL a CHECK constraint, migration 0006).
- Versioned rule-table rows: written once; the only change allowed is closing a current row
  (`rev_to` from NULL to a revision). No DELETE or TRUNCATE.
- Review requests: an open request may be resolved once; a resolved one is never changed, and
  none is deleted.
"""

from __future__ import annotations

AUDIT_LOGS = ("decision", "admin_action", "revision")
VERSIONED = ("vendor", "place_group", "model", "customer", "rule", "license")
REVIEWS = ("review_request",)
# The columns of a versioned row that never change once written.
_FROZEN: dict[str, tuple[str, ...]] = dict.fromkeys(
    VERSIONED, ("row_id", "key", "rev_from", "body")
)
_FROZEN["customer"] = (*_FROZEN["customer"], "names")

_PG_FUNCTIONS = [
    "CREATE OR REPLACE FUNCTION clearance_append_only() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION USING MESSAGE = 'the ' || TG_TABLE_NAME || ' table is append-only'; "
    "END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION clearance_review_once() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.status = 'open' THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION USING MESSAGE = 'a resolved review request is never changed, and none is "
    "deleted'; END; $$ LANGUAGE plpgsql",
]


def _pg_versioned_function(table: str) -> str:
    changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in _FROZEN[table])
    return (
        f"CREATE OR REPLACE FUNCTION clearance_{table}_versioned() RETURNS trigger AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' AND OLD.rev_to IS NULL AND NOT ({changed}) THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION USING MESSAGE = 'rows of the {table} table are never rewritten or "
        "deleted: a change is a new revision'; END; $$ LANGUAGE plpgsql"
    )


def _pg_table(table: str, function: str, row_ops: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_guard BEFORE {row_ops} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION clearance_append_only()",
    ]


def _sqlite_abort(name: str, when: str, table: str, message: str) -> str:
    where = f" WHEN {when}" if when else ""
    return (
        f"CREATE TRIGGER {name} BEFORE {table}{where} BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def create_sql(dialect: str) -> list[str]:
    """Return the statements that create every guard trigger."""
    out: list[str] = []
    if dialect == "postgresql":
        out += _PG_FUNCTIONS
        for table in AUDIT_LOGS:
            out += _pg_table(table, "clearance_append_only", "UPDATE OR DELETE")
        for table in VERSIONED:
            out.append(_pg_versioned_function(table))
            out += _pg_table(table, f"clearance_{table}_versioned", "UPDATE OR DELETE")
        for table in REVIEWS:
            out += _pg_table(table, "clearance_review_once", "UPDATE OR DELETE")
        return out
    for table in AUDIT_LOGS:
        message = f"the {table} table is append-only"
        out.append(_sqlite_abort(f"{table}_no_update", "", f"UPDATE ON {table}", message))
        out.append(_sqlite_abort(f"{table}_no_delete", "", f"DELETE ON {table}", message))
        out.append(
            _sqlite_abort(
                f"{table}_chained",
                "NEW.chain_seq IS NULL OR NEW.prev_hash IS NULL OR NEW.row_hash IS NULL",
                f"INSERT ON {table}",
                f"every {table} row must be written with its place in the audit hash chain",
            )
        )
    for table in VERSIONED:
        message = f"rows of the {table} table are never rewritten or deleted"
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN[table])
        out.append(
            _sqlite_abort(
                f"{table}_no_rewrite",
                f"OLD.rev_to IS NOT NULL OR {changed}",
                f"UPDATE ON {table}",
                message,
            )
        )
        out.append(_sqlite_abort(f"{table}_no_delete", "", f"DELETE ON {table}", message))
    for table in REVIEWS:
        message = "a resolved review request is never changed, and none is deleted"
        out.append(
            _sqlite_abort(
                f"{table}_once", "OLD.status IS NOT 'open'", f"UPDATE ON {table}", message
            )
        )
        out.append(_sqlite_abort(f"{table}_no_delete", "", f"DELETE ON {table}", message))
    return out


def drop_sql(dialect: str) -> list[str]:
    """Return the statements that remove every guard trigger `create_sql` makes."""
    if dialect == "postgresql":
        out = []
        for table in (*AUDIT_LOGS, *VERSIONED, *REVIEWS):
            out += [
                f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        out += [f"DROP FUNCTION IF EXISTS clearance_{t}_versioned()" for t in VERSIONED]
        out.append("DROP FUNCTION IF EXISTS clearance_review_once()")
        return out
    names = [f"{t}_{s}" for t in AUDIT_LOGS for s in ("no_update", "no_delete", "chained")]
    names += [f"{t}_{s}" for t in VERSIONED for s in ("no_rewrite", "no_delete")]
    names += [f"{t}_{s}" for t in REVIEWS for s in ("once", "no_delete")]
    return [f"DROP TRIGGER IF EXISTS {n}" for n in names]
