"""Verdict colours through the running server: the private answer, the shared card and the
review ticket each carry the verdict's colour bar, in attachments the fake Slack checks as
Slack documents them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.render.colours import VERDICT_COLOURS
from tests.e2e.server import REVIEW_CHANNEL, Server, running_server
from tests.support.block_kit import attachments_problem
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with FakeSlack() as slack, running_server(db_url, slack, tmp_path) as srv:
        yield srv


def test_answers_shares_and_reviews_carry_the_verdicts_colour(server: Server) -> None:
    denied = VERDICT_COLOURS["denied"]
    ack = server.command("can someone in Iran use GPT-4o?")
    assert [b["type"] for b in ack["blocks"]] == ["header"]
    assert ack["blocks"][0]["text"]["text"].startswith("⛔ Denied")
    assert attachments_problem(ack["attachments"]) is None
    (card,) = ack["attachments"]
    assert card["color"] == denied
    actions = card["blocks"][-1]["elements"]
    decision = actions[0]["value"]

    assert server.action("share_answer", decision, name="share") == 200
    (shared,) = server.slack.wait_for("response_url:share")
    assert shared.status == 200  # the fake refuses invalid attachments with 400
    assert shared.args["response_type"] == "in_channel"
    assert shared.args["attachments"][0]["color"] == denied

    assert server.action("request_review", decision, name="review") == 200
    (ticket,) = server.slack.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("channel") == REVIEW_CHANNEL
    )
    assert ticket.response is not None and ticket.response["ok"], ticket.response
    assert ticket.args["attachments"][0]["color"] == denied
    assert ticket.args["blocks"][0]["text"]["text"].startswith("🔎 Review #")
    # The asker's card is rewritten with "Review #N requested", keeping its colour.
    rewritten = server.slack.wait_for(
        "response_url:review", where=lambda c: bool(c.args.get("replace_original"))
    )[0]
    assert rewritten.args["attachments"][0]["color"] == denied
    assert "Review #" in str(rewritten.args["attachments"][0]["blocks"][-1])

    allowed = server.command("can Acme GmbH in Germany use GPT-4o?")
    assert allowed["attachments"][0]["color"] in (
        VERDICT_COLOURS["conditional"],
        VERDICT_COLOURS["allowed"],
    )
