"""Work after an ack that fails never turns an accepted change into an error for the user."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from storage.db import create_db_engine
from tests.e2e.server import ADMIN, AUDIT_CHANNEL, Server, running_server
from tests.support.slack_fake import FakeSlack

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with (
        FakeSlack() as slack,
        running_server(
            db_url, slack, tmp_path_factory.mktemp("serve"), CLEARANCE_ADMINS=ADMIN
        ) as srv,
    ):
        yield srv


def test_a_failing_admin_log_after_the_ack_still_closes_the_modal_and_announces(
    server: Server, db_url: str
) -> None:
    server.command("rule add", user=ADMIN)
    modal = server.slack.wait_for("views.open")[0].args["view"]
    engine = create_db_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE admin_action"))
    engine.dispose()
    accepted = server.submit(
        "edit_entity",
        {
            "yaml_block": {
                "yaml": "id: test-mistral\neffect: review\ntitle: Mistral in France\n"
                "models: {vendors: [mistral]}\nplaces: {in: [FR]}\n"
                "citation: Mistral terms\nurl: https://mistral.ai/terms\n"
            },
            "reason_block": {"reason": "asked by sales"},
        },
        metadata=modal["private_metadata"],
    )
    assert accepted == {}  # the modal closes: the revision is committed
    audit = server.slack.wait_for("chat.postMessage")[0].args
    assert audit["channel"] == AUDIT_CHANNEL and "asked by sales" in json.dumps(audit)
    log = server.log.read_text(errors="replace")
    assert re.search(r"error [0-9a-f]{10}", log), "the failure is logged with an error id"
