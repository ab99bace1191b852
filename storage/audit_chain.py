"""The hash chain over the audit tables: every row stores the hash of the row before it.

Each chained table (decisions, admin actions, rule-table revisions) is a chain of its own, in
`chain_seq` order from 1. A row's `row_hash` is the SHA-256 of its previous row's hash, its
position and its audited columns, so a row changed, removed or slipped in after it was written
breaks the chain from there on, and `verify_chains` names the first broken link. Writers hold a
per-chain lock while they read the head and append (an advisory lock on PostgreSQL, the write
lock on SQLite), so two writers never extend the chain from the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

GENESIS = "0" * 64
# The columns each chain covers, in a fixed order: a column added later is not part of the hash
# of the rows written before it. Surrogate keys the database assigns (admin_action.id) are left
# out; the chain position stands for them.
CHAINED: dict[str, tuple[str, ...]] = {
    "decision": (
        "id",
        "created_at",
        "actor",
        "question",
        "customer_id",
        "customer_name",
        "country",
        "model",
        "access",
        "as_of",
        "verdict",
        "rule_ids",
        "inputs",
        "revision",
        "answer",
    ),
    "admin_action": ("created_at", "user_id", "action", "target", "allowed", "revision", "reason"),
    "revision": ("number", "author", "created_at", "summary", "source", "changes"),
}
KEYS: dict[str, str] = {"decision": "id", "admin_action": "id", "revision": "number"}
_HASH_CHUNK = 2047  # hashlib releases the interpreter lock for updates of 2,048 bytes or more
JSON_COLUMNS = frozenset({"rule_ids", "inputs", "answer", "changes"})
# Advisory lock keys on PostgreSQL, one per chain ("clearance" in hex, then the chain).
LOCK_KEYS: dict[str, int] = {"decision": 0x636C6561_0001, "admin_action": 0x636C6561_0002}
LOCK_KEYS["revision"] = 0x636C6561_0003  # also serializes rule-table imports


def _plain(column: str, value: Any) -> Any:
    """Return a column's value in the form it has after a round trip through the database."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if column in JSON_COLUMNS:
        return plain_json(value)
    return value


def plain_json(value: Any) -> Any:
    """Return what `json.loads(dump_json(value))` returns, the way a JSON column reads back."""
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.loads(json.dumps(value))  # dump_json's own fallback, read back alike
    # orjson wrote it, so it holds no integer orjson cannot read back exactly.
    return orjson.loads(encoded)


def _encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        # Values orjson refuses (an integer over 64 bits, a lone surrogate): the same value
        # always takes this path, when written and when verified.
        return json.dumps(value, sort_keys=True).encode()


def link_hash(table: str, seq: int, prev_hash: str, row: Mapping[Any, Any]) -> str:
    """Return the hash of one link: the previous hash, the position and the audited columns."""
    body = [table, seq, prev_hash, [_plain(c, row.get(c)) for c in CHAINED[table]]]
    return _sha256(_encode(body))


def _sha256(data: bytes) -> str:
    """Return SHA-256 as hex, keeping the interpreter lock: a row hashes in microseconds.

    hashlib lets other threads run while it hashes 2 KiB or more; for one audit row, handing
    the lock to another thread and waiting to get it back costs far more than the hashing.
    """
    digest = hashlib.sha256()
    view = memoryview(data)
    for start in range(0, len(view), _HASH_CHUNK):
        digest.update(view[start : start + _HASH_CHUNK])
    return digest.hexdigest()


def lock_chain(conn: Connection, table: str) -> None:
    """Hold the chain's write lock until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEYS[table]})")
        return
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        # The sqlite3 module opens a transaction only at the first write, so a transaction
        # already open has written and so holds the database's write lock.
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def head(conn: Connection, table: str) -> tuple[int, str]:
    """Return the position and hash of the chain's newest row (0 and the genesis hash if none)."""
    # Plain SQL to the driver: each batch of answers reads the head, so skip the statement cache.
    row = conn.exec_driver_sql(
        f"SELECT chain_seq, row_hash FROM {table} WHERE chain_seq IS NOT NULL "
        "ORDER BY chain_seq DESC LIMIT 1"
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def chain_rows(conn: Connection, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """Lock the chain and give each row its position, previous hash and hash, in order."""
    lock_chain(conn, table)
    seq, prev = head(conn, table)
    for row in rows:
        seq += 1
        row["chain_seq"], row["prev_hash"] = seq, prev
        row["row_hash"] = prev = link_hash(table, seq, prev, row)


@event.listens_for(OrmSession, "before_flush")
def _chain_new_rows(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Chain audit rows added through the ORM (admin actions, revisions) as they are flushed."""
    by_table: dict[str, list[Any]] = {}
    for obj in session.new:
        table = getattr(obj, "__tablename__", None)
        if table in CHAINED and table != "decision" and getattr(obj, "row_hash", None) is None:
            by_table.setdefault(table, []).append(obj)
    for table, objs in by_table.items():
        values = [{c: getattr(o, c) for c in CHAINED[table]} for o in objs]
        chain_rows(session.connection(), table, values)
        for obj, row in zip(objs, values, strict=True):
            obj.chain_seq, obj.prev_hash, obj.row_hash = (
                row["chain_seq"],
                row["prev_hash"],
                row["row_hash"],
            )


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain: where it is and what is wrong."""

    table: str
    seq: int | None
    key: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.table} row {self.seq}" if self.seq is not None else self.table
        key = f" ({KEYS[self.table]} {self.key})" if self.key is not None else ""
        return f"{where}{key}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    """What verifying one chain found."""

    table: str
    rows: int
    broken: Break | None


def verify_chain(conn: Connection, table: str, *, batch: int = 2000) -> ChainReport:
    """Walk one chain from its first row; stop at the first link that does not hold."""
    unchained = conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE row_hash IS NULL")).scalar()
    columns = ", ".join(_names(table, with_chain=True))
    result = conn.execution_options(yield_per=batch).execute(
        text(
            f"SELECT {columns} FROM {table} WHERE chain_seq IS NOT NULL ORDER BY chain_seq"
        ).columns(*_typed_columns(table))
    )
    expected_seq, prev, count = 1, GENESIS, 0
    for row in result.mappings():
        count += 1
        seq, key = int(row["chain_seq"]), str(row[KEYS[table]])
        problem = None
        if seq != expected_seq:
            problem = (
                f"row {expected_seq} is missing: the chain jumps from {expected_seq - 1} to {seq}"
            )
        elif row["prev_hash"] != prev:
            problem = "it does not name the hash of the row before it: a row was replaced"
        elif link_hash(table, seq, prev, row) != row["row_hash"]:
            problem = "its content does not match its hash: it was changed after it was written"
        if problem is not None:
            result.close()
            return ChainReport(table, count, Break(table, seq, key, problem))
        expected_seq, prev = seq + 1, str(row["row_hash"])
    if unchained:
        return ChainReport(
            table,
            count,
            Break(
                table, None, None, f"{unchained} row(s) are not in the chain (written around it)"
            ),
        )
    return ChainReport(table, count, None)


def _typed_columns(table: str) -> list[Any]:
    """Give the raw query the tables' own column types, so values read as the ORM reads them."""
    # Read from the shared metadata, which storage.tables fills (its audit and rule-table modules
    # import this one to chain their rows): importing the tables here would make a cycle.
    from sqlmodel import SQLModel

    columns = SQLModel.metadata.tables[table].columns
    return [columns[n] for n in _names(table, with_chain=True)]


def _names(table: str, *, with_chain: bool) -> list[str]:
    """Return the key column, the chain columns if asked, and the audited columns, once each."""
    chain = ("chain_seq", "prev_hash", "row_hash") if with_chain else ()
    return list(dict.fromkeys((KEYS[table], *chain, *CHAINED[table])))


def verify_chains(conn: Connection) -> list[ChainReport]:
    """Verify every audit chain."""
    return [verify_chain(conn, table) for table in CHAINED]
