"""Log redaction and readiness, without a server."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.services.logs import AddRequest, JsonFormatter, RedactSecrets, start_request
from bot.services.readiness import readiness
from storage.db import create_db_engine, ensure_schema


@pytest.mark.parametrize(
    "secret",
    ["xoxb-1234-5678-abcdEFGH", "xoxp-1-2-3-abc", "xapp-1-A1-123-abcdef", "xoxe.xoxb-1-abcdef"],
)
def test_tokens_are_redacted_in_messages_and_tracebacks(secret: str) -> None:
    record = logging.LogRecord("t", logging.ERROR, "f", 1, "token %s here", (secret,), None)
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSecrets(["my-signing-secret-123"]).filter(record)
    AddRequest().filter(record)
    line = JsonFormatter().format(record)
    assert secret not in line and line.count("[redacted]") == 2


def test_configured_secrets_are_redacted_and_requests_named() -> None:
    start_request("T9")
    record = logging.LogRecord(
        "t", logging.INFO, "f", 1, "sig %s", ("my-signing-secret-123",), None
    )
    RedactSecrets(["my-signing-secret-123"]).filter(record)
    AddRequest().filter(record)
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "sig [redacted]" and data["team"] == "T9"
    assert len(data["request_id"]) == 12


def test_ready_only_with_a_database_and_a_rule_table(engine: Engine, tmp_path: Path) -> None:
    assert readiness(engine) == (True, {"ok": True, "database": True, "rule_table": 1})
    empty = create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    ensure_schema(empty)
    assert readiness(empty)[0] is False  # the schema, but no rule table yet
    gone = create_db_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert readiness(gone) == (False, {"ok": False, "database": False, "rule_table": None})
