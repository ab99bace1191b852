"""An answer waits for its audit row: slow writes answer late, failed writes never show it.

HTTP mode holds each answer on the event loop until its decision is committed. These tests
slow the audit write down (another session holds the chain's lock) or make it fail (a trigger
refuses the row), through the running server, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from handlers.render.colours import card_blocks
from storage.audit_chain import LOCK_KEYS
from storage.db import create_db_engine, session_scope
from storage.tables.audit import Decision
from tests.e2e.server import Server, running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
QUESTION = "can someone in Japan use GPT-4o"


@pytest.fixture(scope="module")
def server(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with (
        FakeSlack() as slack,
        running_server(module_db_url, slack, tmp_path_factory.mktemp("serve")) as srv,
    ):
        yield srv


@pytest.fixture(autouse=True)
def _clean(server: Server) -> None:
    server.slack.reset()


def _decisions(db_url: str) -> list[Decision]:
    engine = create_db_engine(db_url)
    try:
        with session_scope(engine) as session:
            return list(session.exec(select(Decision).order_by(col(Decision.chain_seq))).all())
    finally:
        engine.dispose()


def _hold_chain_lock(conn: Connection) -> None:
    """Take the decision chain's write lock in this transaction, as another writer would."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEYS['decision']})")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def test_an_answer_is_sent_once_its_decision_is_committed(
    server: Server, module_db_url: str
) -> None:
    before = len(_decisions(module_db_url))
    ack = server.command(QUESTION)
    assert card_blocks(ack)[0]["type"] == "header"
    after = _decisions(module_db_url)
    assert len(after) == before + 1 and after[-1].id in json.dumps(ack)


def test_a_slow_audit_write_acks_working_then_answers_once_committed(
    server: Server, module_db_url: str
) -> None:
    before = len(_decisions(module_db_url))
    engine = create_db_engine(module_db_url)
    conn = engine.connect()
    try:
        _hold_chain_lock(conn)
        started = time.monotonic()
        ack = server.command(QUESTION, name="slow")
        # Inside Slack's 3 s, and nothing of the answer: its decision is not recorded yet.
        assert time.monotonic() - started < 3.0
        assert ack == {"text": "Working on it…", "response_type": "ephemeral"}
        assert server.slack.calls_to("response_url:slow") == []
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()
    (late,) = server.slack.wait_for("response_url:slow", timeout=15)
    assert card_blocks(late.args)[0]["type"] == "header"
    assert late.args["response_type"] == "ephemeral"
    decisions = _decisions(module_db_url)
    assert len(decisions) == before + 1 and decisions[-1].id in json.dumps(late.args)


def test_a_failed_audit_write_shows_an_error_id_and_no_answer(
    server: Server, module_db_url: str
) -> None:
    engine = create_db_engine(module_db_url)
    refuse = {
        "sqlite": [
            "CREATE TRIGGER refuse_decisions BEFORE INSERT ON decision "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION refuse_decisions() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by test'; END $$",
            "CREATE TRIGGER refuse_decisions BEFORE INSERT ON decision "
            "FOR EACH ROW EXECUTE FUNCTION refuse_decisions()",
        ],
    }[engine.dialect.name]
    with engine.begin() as conn:
        for statement in refuse:
            conn.execute(text(statement))
    try:
        before = len(_decisions(module_db_url))
        ack = server.command(QUESTION)
        assert "something went wrong" in ack["text"] and "error id" in ack["text"]
        assert ack["response_type"] == "ephemeral"
        assert "blocks" not in ack or card_blocks(ack)[0]["type"] != "header"
        assert "Traceback" not in json.dumps(ack)
        assert len(_decisions(module_db_url)) == before
        error_id = ack["text"].split("`")[1]
        assert f"error {error_id}" in server.log.read_text(errors="replace")
    finally:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP TRIGGER refuse_decisions ON decision"))
                conn.execute(text("DROP FUNCTION refuse_decisions()"))
            else:
                conn.execute(text("DROP TRIGGER refuse_decisions"))
        engine.dispose()
    assert card_blocks(server.command(QUESTION))[0]["type"] == "header"
