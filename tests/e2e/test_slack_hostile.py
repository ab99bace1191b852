"""`clearance serve --http` against hostile clients: forged, malformed, oversized and slow requests."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from handlers.render.colours import card_blocks
from storage.db import create_db_engine, session_scope
from storage.tables.audit import Decision
from tests.e2e.server import ADMIN, SECRET, Server, running_server
from tests.support.slack_fake import FakeSlack
from tests.support.slack_signing import (
    block_action_payload,
    interactive_body,
    post,
    slash_command_body,
    view_submission_payload,
)

pytestmark = pytest.mark.e2e
QUESTION = "can someone in Iran use GPT-4o"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    # Long deadlines: the slow clients below stay connected for as long as they like.
    with running_server(
        module_db_url,
        slack,
        tmp_path_factory.mktemp("hostile"),
        CLEARANCE_HTTP_HEADER_TIMEOUT_S="120",
        CLEARANCE_HTTP_BODY_TIMEOUT_S="120",
    ) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(slack: FakeSlack) -> None:
    slack.reset()


def questions(db_url: str) -> list[str]:
    engine = create_db_engine(db_url)
    with session_scope(engine) as session:
        asked = [d.question for d in session.exec(select(Decision))]
    engine.dispose()
    return asked


def forged_bodies(slack: FakeSlack, marker: str) -> dict[str, bytes]:
    url = slack.response_url(marker)
    return {
        "command": slash_command_body(f"{QUESTION} {marker}", response_url=url),
        "action": interactive_body(
            block_action_payload("pick_candidate_0", "not json", response_url=url)
        ),
    }


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-1", "9" * 5000, None])
def test_a_forged_request_with_an_odd_timestamp_is_401_and_calls_out_nowhere(
    server: Server, module_db_url: str, timestamp: str | None
) -> None:
    marker = f"forged-{len(timestamp or '')}-{(timestamp or 'none')[:8]}"
    for kind, body in forged_bodies(server.slack, marker).items():
        headers = (
            {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""}
            if timestamp is None
            else {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=forged"}
        )
        status, _h, data = post(f"{server.url}/slack/events", body, "any", headers=headers)
        assert (status, json.loads(data)) == (401, {"error": "invalid request"}), kind
    time.sleep(0.5)  # room for a wrongly made outbound call to arrive
    assert server.slack.calls == []
    assert not any(marker in q for q in questions(module_db_url))


def test_rejections_are_logged_in_one_short_line(server: Server) -> None:
    before = server.log.stat().st_size
    body = slash_command_body("x" * 150_000)
    for _ in range(20):
        status, _h, _d = post(f"{server.url}/slack/events", body, "wrong-secret")
        assert status == 401
    time.sleep(0.3)
    added = server.log.read_bytes()[before:].decode(errors="replace")
    lines = [line for line in added.splitlines() if "rejected request" in line]
    assert len(lines) == 20 and all(len(line) < 400 for line in lines), added[:2000]
    assert len(added) < 20 * 400


def _send(
    server: Server, body: bytes, content_type: str | None = None
) -> tuple[int, dict[str, str]]:
    status, _h, data = post(f"{server.url}/slack/events", body, SECRET, content_type=content_type)
    return status, json.loads(data) if data.strip() else {}


MALFORMED = {
    "invalid UTF-8": b"command=%2Fclearance&user_id=U1&text=\xff\xfe",
    "missing fields": b"command=%2Fclearance&text=help",
    "payload not an object": b"payload=%5B1%2C2%5D",
    "payload not JSON": b"payload=%7Bnope",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_signed_malformed_body_is_400_with_a_logged_error_id(server: Server, name: str) -> None:
    status, data = _send(server, MALFORMED[name], "application/x-www-form-urlencoded")
    assert status == 400, (name, data)
    error_id = data["error_id"]
    time.sleep(0.2)
    assert f"rejected request {error_id}: 400" in server.tail()
    assert server.slack.calls == []


def test_broken_private_metadata_is_400(server: Server) -> None:
    payload = view_submission_payload(
        "edit_entity",
        {"yaml_block": {"yaml": "id: x\n"}, "reason_block": {"reason": "r"}},
        user_id=ADMIN,
        private_metadata="{not json",
    )
    status, data = _send(server, interactive_body(payload))
    assert status == 400 and data["error_id"]


def test_a_response_url_off_slack_is_refused_and_never_called(server: Server) -> None:
    body = slash_command_body(QUESTION, response_url="http://127.0.0.1:9/elsewhere")
    status, data = _send(server, body)
    assert status == 400 and "response_url" in str(data["error"])


def test_a_button_value_a_listener_cannot_read_is_answered_not_500(server: Server) -> None:
    payload = block_action_payload(
        # A button value of the old JSON form that is not JSON (stored choices are plain ids).
        "pick_candidate_0",
        "{not json",
        response_url=server.slack.response_url("pick"),
    )
    status, _data = _send(server, interactive_body(payload))
    assert status == 200  # acked first; the value is read after the ack
    told = server.slack.wait_for("response_url:pick")[0].args
    assert "no longer available" in json.dumps(told)


def _half_open(url: str, n: int) -> list[socket.socket]:
    """Open `n` connections that never finish: idle, mid-headers, or mid-body."""
    host, port = url.removeprefix("http://").split(":")
    partial = [
        b"",
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-",
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 5000\r\n\r\ntoken=abc&text=",
    ]
    socks = []
    for i in range(n):
        s = socket.create_connection((host, int(port)), timeout=5)
        if partial[i % 3]:
            s.sendall(partial[i % 3])
        socks.append(s)
    return socks


def _is_open(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return bool(s.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_64_slow_clients_held_for_30_s_do_not_delay_signed_commands(server: Server) -> None:
    socks = _half_open(server.url, 64)
    try:
        slowest = 0.0
        answered = 0
        until = time.monotonic() + 30
        while time.monotonic() < until:
            started = time.monotonic()
            ack = server.command(QUESTION, user=f"USLOW{answered}")
            slowest = max(slowest, time.monotonic() - started)
            assert card_blocks(ack)[0]["text"]["text"].startswith("⛔ Denied")
            answered += 1
            time.sleep(0.5)
        assert slowest < 3.0 and answered >= 20
        assert all(_is_open(s) for s in socks), "the slow clients were held all along"
    finally:
        for s in socks:
            s.close()


@pytest.fixture(scope="module")
def strict_server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        module_db_url,
        slack,
        tmp_path_factory.mktemp("strict"),
        CLEARANCE_HTTP_HEADER_TIMEOUT_S="1",
        CLEARANCE_HTTP_BODY_TIMEOUT_S="1",
    ) as srv:
        yield srv


def _closed_within(s: socket.socket, seconds: float) -> tuple[bool, bytes]:
    s.settimeout(seconds)
    received = b""
    try:
        while chunk := s.recv(4096):
            received += chunk
    except TimeoutError:
        return False, received
    return True, received


def test_slow_headers_and_bodies_are_cut_off_at_their_deadlines(
    strict_server: Server, tmp_path: Path
) -> None:
    idle, headers, body = _half_open(strict_server.url, 3)
    try:
        started = time.monotonic()
        assert _closed_within(idle, 4)[0] and _closed_within(headers, 4)[0]
        _closed, answer = _closed_within(body, 4)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 4
        # After one answer on a kept-alive connection, the next request's headers have a
        # deadline too.
        keep = socket.create_connection(headers.getpeername()[:2], timeout=5)
        keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert keep.recv(4096).startswith(b"HTTP/1.1 200")
        assert _closed_within(keep, 4)[0]
    finally:
        for s in (idle, headers, body):
            s.close()
    assert strict_server.command(QUESTION)["blocks"][0]["text"]["text"].startswith("⛔ Denied")


@pytest.fixture(scope="module")
def capped_server(
    module_db_url: str, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    # One worker, so that the cap is the server's; long deadlines, so idle clients stay.
    with running_server(
        module_db_url,
        slack,
        tmp_path_factory.mktemp("capped"),
        CLEARANCE_WEB_WORKERS="1",
        CLEARANCE_HTTP_MAX_CONNECTIONS="16",
        CLEARANCE_HTTP_HEADER_TIMEOUT_S="120",
        CLEARANCE_HTTP_BODY_TIMEOUT_S="120",
    ) as srv:
        yield srv


def _answer_if_closed(s: socket.socket) -> bytes | None:
    """Return what a closed connection received before closing, or None if it is still open."""
    closed, received = _closed_within(s, 0.05)
    return received if closed else None


def test_connections_over_the_cap_are_closed_with_a_503_and_commands_still_answered(
    capped_server: Server,
) -> None:
    socks = [
        socket.create_connection(("127.0.0.1", int(capped_server.url.rsplit(":", 1)[1])))
        for _ in range(16 + 24)
    ]
    try:
        time.sleep(1.0)
        answers = [_answer_if_closed(s) for s in socks]
        closed = [a for a in answers if a is not None]
        # The worker holds 16 connections; each one beyond closed the longest idle one.
        assert len(closed) == 24, answers
        assert all(a.startswith(b"HTTP/1.1 503") for a in closed), closed
        for n in range(8):  # the first command's connection makes room; the rest reuse it
            started = time.monotonic()
            ack = capped_server.command(QUESTION, user=f"UCAP{n}")
            assert time.monotonic() - started < 3.0
            assert ack["blocks"][0]["text"]["text"].startswith("⛔ Denied")
        still_open = [s for s in socks if _answer_if_closed(s) is None]
        assert len(still_open) == 15
    finally:
        for s in socks:
            s.close()
    health = socket.create_connection(("127.0.0.1", int(capped_server.url.rsplit(":", 1)[1])))
    health.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert health.recv(4096).startswith(b"HTTP/1.1 200")
    health.close()
    assert "over the cap of 16 open connections" in capped_server.tail()


def test_when_every_connection_is_busy_a_new_one_gets_a_503_at_once(
    capped_server: Server,
) -> None:
    port = int(capped_server.url.rsplit(":", 1)[1])
    mid_body = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 5000\r\n\r\ntoken=abc&text="
    )
    busy = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
    try:
        for s in busy:
            s.sendall(mid_body)  # its headers are in: a request is in progress
        time.sleep(0.5)
        started = time.monotonic()
        extra = socket.create_connection(("127.0.0.1", port))
        closed, answer = _closed_within(extra, 3)
        extra.close()
        assert closed and answer.startswith(b"HTTP/1.1 503"), answer
        assert time.monotonic() - started < 1.0
        assert all(_answer_if_closed(s) is None for s in busy), "no request in progress is cut"
    finally:
        for s in busy:
            s.close()
    time.sleep(0.5)
    assert capped_server.command(QUESTION)["blocks"][0]["text"]["text"].startswith("⛔ Denied")
