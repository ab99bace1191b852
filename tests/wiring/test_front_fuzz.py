"""The HTTP front with the real app behind it: no signed payload, however mangled, gets a 500.

Payloads start from what Slack sends (`tests.support.slack_signing`) and have fields deleted or
replaced by arbitrary JSON values; each is signed and sent through the ASGI front in-process, to
the real Bolt app and listeners on a SQLite database, with the fake Slack for outbound calls.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.front import SlackFront
from bot.services.asking import initialize
from bot.services.held_answers import HeldAnswer
from bot.settings import Settings
from storage.db import create_db_engine
from tests.support.slack_fake import FakeSlack
from tests.support.slack_signing import (
    block_action_payload,
    sign,
    view_submission_payload,
)

SECRET = "fuzz-signing-secret"
ADMIN = "UADMIN"


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SlackFront, FakeSlack]]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    engine = create_db_engine(f"sqlite:///{db}")
    initialize(engine, seed_sources=False)
    with FakeSlack() as slack:
        settings = Settings(
            SLACK_BOT_TOKEN="xoxb-fuzz",
            SLACK_SIGNING_SECRET=SECRET,
            CLEARANCE_SLACK_API_URL=slack.base_url,
            CLEARANCE_ADMINS=ADMIN,
            CLEARANCE_SLACK_RESPONSE_URL_BASE=slack.root_url,
        )
        app, _deps = create_app(settings, engine)
        yield (
            SlackFront(
                app,
                health=lambda: (200, {}, b"{}"),
                secret=SECRET,
                response_url_base=slack.root_url,
            ),
            slack,
        )
    engine.dispose()


def templates(response_url: str) -> list[tuple[str, dict[str, Any]]]:
    """What Slack sends to the listeners Clearance registers, one of each."""
    command = {
        "token": "t", "team_id": "T1", "team_domain": "d", "channel_id": "C1",
        "channel_name": "c1", "user_id": "U1", "user_name": "u1", "command": "/clearance",
        "text": "can someone in Iran use GPT-4o", "api_app_id": "A1",
        "is_enterprise_install": "false", "response_url": response_url, "trigger_id": "T.1",
    }  # fmt: skip
    pick = json.dumps({"q": "can Acme in Germny use GPT-4o", "phrase": "Germny", "value": "DE"})
    actions = [
        block_action_payload(action_id, value, user_id=ADMIN, response_url=response_url)
        for action_id, value in [
            ("share_answer", "1"), ("show_rules", "1"), ("pick_candidate_0", pick),
            ("request_review", "1"), ("resolve_review", "1"), ("update_group", "1"),
        ]
    ]  # fmt: skip
    views = [
        view_submission_payload(
            "edit_entity",
            {"yaml_block": {"yaml": "id: x\neffect: review\ntitle: t\n"},
             "reason_block": {"reason": "r"}},
            user_id=ADMIN,
            private_metadata=json.dumps({"kind": "rules", "mode": "add"}),
        ),
        view_submission_payload(
            "resolve_review", {"note_block": {"note": "n"}}, user_id=ADMIN,
            private_metadata=json.dumps({"review": 1}),
        ),
        view_submission_payload(
            "retire_rule", {"reason_block": {"reason": "r"}}, user_id=ADMIN,
            private_metadata=json.dumps({"rule": "no-such-rule"}),
        ),
    ]  # fmt: skip
    events = [
        {"type": "event_callback", "event_id": f"Ev{kind}", "team_id": "T1", "api_app_id": "A1",
         "event": {"type": kind, "user": "U1", "channel": "D1", "channel_type": "im",
                   "text": "<@UBOT> can someone in Japan use gpt-oss-120b", "ts": "1.1",
                   "tab": "home"}}
        for kind in ("app_mention", "message", "app_home_opened")
    ]  # fmt: skip
    return (
        [("form", command)]
        + [("payload", a) for a in actions]
        + [("payload", v) for v in views]
        + [("json", e) for e in events]
    )


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)  # fmt: skip


@st.composite
def mangled(draw: st.DrawFn, response_url: str) -> tuple[str, dict[str, Any]]:
    kind, template = copy.deepcopy(draw(st.sampled_from(templates(response_url))))
    for _ in range(draw(st.integers(1, 3))):
        # The modal's YAML text is the file loader's input, fuzzed with the loader itself.
        paths = [p for p in _paths(template) if "yaml_block" not in p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = template
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return kind, template


def encode(kind: str, data: dict[str, Any]) -> tuple[bytes, str]:
    if kind == "form":
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        return urlencode(fields).encode(), "application/x-www-form-urlencoded"
    if kind == "payload":
        return urlencode(
            {"payload": json.dumps(data)}
        ).encode(), "application/x-www-form-urlencoded"
    return json.dumps(data).encode(), "application/json"


def send(front: SlackFront, body: bytes, content_type: str) -> tuple[int, bytes]:
    headers = {"content-type": content_type, **sign(SECRET, body, int(time.time()))}
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def record(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/slack/events",
        "query_string": b"",
        "client": ("127.0.0.1", 1),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(front(scope, receive, record))
    return int(sent[0]["status"]), bytes(sent[1]["body"])


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_signed_payload_gets_a_500(
    front: tuple[SlackFront, FakeSlack], data: st.DataObject
) -> None:
    app, slack = front
    kind, payload = data.draw(mangled(slack.response_url("fuzz")))
    body, content_type = encode(kind, payload)
    started = time.monotonic()
    status, answer = send(app, body, content_type)
    event(f"{status} {kind}")
    assert status in (200, 400, 404), (status, answer, kind, payload)
    assert time.monotonic() - started < 3
    if status == 400:
        assert json.loads(answer)["error_id"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=2000), content_type=st.sampled_from(["application/json", "text/plain"])
)
def test_signed_arbitrary_bytes_get_a_400_or_an_answer(
    front: tuple[SlackFront, FakeSlack], body: bytes, content_type: str
) -> None:
    status, _answer = send(front[0], body, content_type)
    assert status in (200, 400, 404)


def test_an_unsigned_request_never_reaches_bolt(
    front: tuple[SlackFront, FakeSlack], tmp_path: Path
) -> None:
    app, slack = front
    slack.reset()
    body = urlencode({"command": "/clearance", "text": "help", "user_id": "U1",
                      "response_url": slack.response_url("unsigned")}).encode()  # fmt: skip
    headers = {"x-slack-request-timestamp": ["abc"], "x-slack-signature": ["v0=x"]}
    status, _h, _b = app._handle({"path": "/slack/events"}, headers, body, HeldAnswer())
    assert status == 401
    time.sleep(0.3)
    assert slack.calls == []
