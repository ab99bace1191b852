"""Screening in Slack through the real server: `/clearance screen`, the answer card's screening
line, Confirm/Dismiss with the reason modal (admins only, audited), and App Home's open hits."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from handlers.render.colours import card_blocks
from storage.db import create_db_engine, session_scope
from storage.tables.audit import AdminAction
from storage.tables.screening import ScreeningDecision
from tests.e2e.server import Server, running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e
ADMIN = "UADMIN"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"


def _cli(db_url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "--db", db_url, *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    customers = tmp / "customers.yaml"
    customers.write_text("version: 1\ncustomers:\n  - {id: rt, name: Rosneft Trading SA, hq: CH}\n")
    _cli(module_db_url, "customers", "import", str(customers))
    _cli(module_db_url, "lists", "import", "--kind", "ofac_sdn", str(FIXTURES / "sdn.csv"))
    _cli(module_db_url, "screen", "customers")
    with running_server(module_db_url, slack, tmp, CLEARANCE_ADMINS=ADMIN) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(slack: FakeSlack) -> None:
    slack.reset()


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(card_blocks(payload), ensure_ascii=False)


def test_screen_command_shows_hits_and_buttons_only_for_admins(server: Server) -> None:
    admin = server.command("screen Banco Nacional de Cuba", user=ADMIN)
    assert "306" in _text(admin) and "screen_dismiss" in _text(admin)
    user = server.command("screen Banco Nacional de Cuba", user="UOTHER")
    assert "306" in _text(user) and "screen_dismiss" not in _text(user)
    clear = server.command("screen Zebra Foods GmbH", user="UOTHER")
    assert "no hits on OFAC SDN" in _text(clear)


def test_answer_card_has_a_screening_line(server: Server) -> None:
    card = server.command("can Banco Nacional de Cuba in Spain use GPT-4o?", user="UASK")
    assert "*Screening:*" in _text(card) and "306" in _text(card)
    assert card["text"].lower().startswith("denied")


def test_dismiss_with_reason_is_audited_and_updates_the_message(
    server: Server, module_db_url: str
) -> None:
    ack = server.command("screen Banco Nacional de Cuba", user=ADMIN)
    value = next(
        e["value"]
        for b in card_blocks(ack)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "screen_dismiss"
    )
    assert server.action("screen_dismiss", value, user="UOTHER", name="nope") == 200
    server.slack.wait_for("response_url:nope")
    assert server.action("screen_dismiss", value, user=ADMIN, name="dec") == 200
    modal = server.slack.wait_for("views.open")[0].args["view"]
    assert modal["callback_id"] == "screen_decision"
    empty = server.submit(
        "screen_decision", {"why_block": {"why": "  "}}, metadata=modal["private_metadata"]
    )
    assert empty["response_action"] == "errors"
    refused = server.submit(
        "screen_decision",
        {"why_block": {"why": "not mine to decide"}},
        user="UOTHER",
        metadata=modal["private_metadata"],
    )
    assert refused["response_action"] == "errors"
    assert (
        server.submit(
            "screen_decision",
            {"why_block": {"why": "a Spanish bakery of that name"}},
            metadata=modal["private_metadata"],
        )
        == {}
    )
    updated = server.slack.wait_for("response_url:dec")[0].args
    assert updated["replace_original"] is True and "dismissed by <@UADMIN>" in _text(updated)
    engine = create_db_engine(module_db_url)
    with session_scope(engine) as session:
        decision = session.exec(
            select(ScreeningDecision).order_by(col(ScreeningDecision.id).desc())
        ).first()
        assert decision is not None and (decision.decision, decision.actor) == ("dismiss", ADMIN)
        actions = session.exec(
            select(AdminAction).where(col(AdminAction.action) == "screen dismiss")
        ).all()
        assert [(a.user_id, a.allowed) for a in actions] == [("UOTHER", False), (ADMIN, True)]
        refusals = session.exec(
            select(AdminAction).where(col(AdminAction.action) == "screening decision")
        ).all()
        assert [(a.user_id, a.allowed) for a in refusals] == [("UOTHER", False)]
    engine.dispose()


def test_app_home_shows_open_hits_to_admins(server: Server) -> None:
    server.event(
        {"type": "app_home_opened", "user": ADMIN, "channel": "D1", "tab": "home"}, "EvHomeScr"
    )
    view = server.slack.wait_for("views.publish")[0].args["view"]
    text = _text(view)
    assert "Open screening hits" in text and "18299" in text


def test_screening_hits_are_counted_by_list_and_strength(server: Server) -> None:
    def hits() -> float:
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("clearance_screening_hits_total{")
            and 'list="ofac_sdn"' in line
            and 'strength="match"' in line
        )

    before = hits()
    card = server.command("can Aerocaribbean Airlines in Spain use GPT-4o?", user="UHITS")
    assert "AEROCARIBBEAN" in _text(card).upper() and "*Screening:*" in _text(card)
    assert hits() == before + 1
    server.command("can Zebra Foods GmbH in Spain use GPT-4o?", user="UHITS")
    assert hits() == before + 1  # no hit, nothing counted
