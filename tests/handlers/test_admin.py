"""Admin modal submissions (edit and retire), as Bolt calls their listeners."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.deps import Deps
from tests.handlers.conftest import refusals
from tests.support.listeners import (
    ADMIN,
    USER,
    FakeClient,
    Listeners,
    Recorder,
    settle,
    view_submission,
)

NEW_CUSTOMER = "id: zephyr\nname: Zephyr Labs\nhq: DE\n"


def submit(
    app: Listeners,
    deps: Deps,
    client: FakeClient,
    callback: str,
    meta: dict[str, Any],
    *,
    user: str = ADMIN,
    yaml_text: str = NEW_CUSTOMER,
    reason: str = "new customer",
) -> dict[str, Any]:
    values = {
        "yaml_block": {"yaml": {"value": yaml_text}},
        "reason_block": {"reason": {"value": reason}},
    }
    ack = Recorder()
    body, view = view_submission(callback, values, user=user, private_metadata=json.dumps(meta))
    app("view", callback)(ack=ack, body=body, view=view, client=client)
    settle(deps)
    return ack.only


ADD = {"kind": "customers", "mode": "add"}


def test_an_admin_adds_a_customer(app: Listeners, deps: Deps, client: FakeClient) -> None:
    assert submit(app, deps, client, "edit_entity", ADD) == {}
    assert deps.cache.get().table.customers["zephyr"].name == "Zephyr Labs"
    assert refusals(deps.engine) == []


@pytest.mark.parametrize(
    ("user", "yaml_text", "reason", "block", "message"),
    [
        (USER, NEW_CUSTOMER, "why", "yaml_block", "Only compliance admins can do this."),
        (ADMIN, NEW_CUSTOMER, "  ", "reason_block", "Say why, for the audit trail."),
        (
            ADMIN,
            "id: zephyr\nname: Zephyr\nhq: XX\n",
            "why",
            "yaml_block",
            "line 3: customers[zephyr].hq: unknown place 'XX'",
        ),
    ],
)
def test_a_refused_or_invalid_edit_is_shown_in_the_modal(
    app: Listeners,
    deps: Deps,
    client: FakeClient,
    user: str,
    yaml_text: str,
    reason: str,
    block: str,
    message: str,
) -> None:
    acked = submit(
        app, deps, client, "edit_entity", ADD, user=user, yaml_text=yaml_text, reason=reason
    )
    assert acked["response_action"] == "errors" and message in acked["errors"][block]
    assert "zephyr" not in deps.cache.get().table.customers
    assert refusals(deps.engine) == ([(USER, "customers add", None)] if user == USER else [])


def test_retiring_a_rule(app: Listeners, deps: Deps, client: FakeClient) -> None:
    meta = {"rule": "ofac-iran-place"}
    refused = submit(app, deps, client, "retire_rule", meta, user=USER)
    assert refused["errors"] == {"reason_block": "Only compliance admins can do this."}
    assert refusals(deps.engine) == [(USER, "rule retire", "ofac-iran-place")]
    unknown = submit(app, deps, client, "retire_rule", {"rule": "no-such-rule"})
    assert "no-such-rule" in unknown["errors"]["reason_block"]
    assert submit(app, deps, client, "retire_rule", meta) == {}
    assert deps.cache.get().table.rules["ofac-iran-place"].effective_to is not None
