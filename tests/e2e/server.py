"""Run `clearance serve` as a real process against the local fake Slack, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.slack_fake import FakeSlack
from tests.support.slack_signing import (
    block_action_payload,
    event_body,
    interactive_body,
    post,
    slash_command_body,
    view_submission_payload,
)

SECRET = "e2e-signing-secret-0123456789"
ADMIN = "UADMIN"
REVIEW_CHANNEL = "CREVIEW"
AUDIT_CHANNEL = "CAUDIT"
# Installed through OAuth into many workspaces: no bot token of its own.
OAUTH = {
    "SLACK_BOT_TOKEN": "",
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "e2e-client-secret-abcdef",
}


def free_port() -> int:
    """Return a port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `clearance serve --http` and the helpers to talk to it as Slack does."""

    url: str
    slack: FakeSlack
    process: subprocess.Popen[bytes]
    log: Path

    def command(self, text: str, *, user: str = "U1", name: str = "cmd") -> dict[str, Any]:
        """Send a signed /clearance command; return the ack body (JSON), asserting 200."""
        body = slash_command_body(text, user_id=user, response_url=self.slack.response_url(name))
        status, _headers, data = post(f"{self.url}/slack/events", body, SECRET)
        assert status == 200, (status, data, self.tail())
        return json.loads(data) if data else {}

    def action(
        self, action_id: str, value: str, *, user: str = "U1", name: str = "act", **kw: Any
    ) -> int:
        """Click a button."""
        payload = block_action_payload(
            action_id, value, user_id=user, response_url=self.slack.response_url(name), **kw
        )
        status, _h, _d = post(f"{self.url}/slack/events", interactive_body(payload), SECRET)
        return status

    def submit(
        self, callback_id: str, values: dict[str, Any], *, user: str = ADMIN, metadata: str = ""
    ) -> dict[str, Any]:
        """Submit a modal; return the ack body ({} when accepted)."""
        payload = view_submission_payload(
            callback_id, values, user_id=user, private_metadata=metadata
        )
        status, _h, data = post(f"{self.url}/slack/events", interactive_body(payload), SECRET)
        assert status == 200, (status, data, self.tail())
        return json.loads(data) if data.strip() else {}

    def event(
        self, event: dict[str, Any], event_id: str, *, headers: dict[str, str] | None = None
    ) -> int:
        """Deliver an Events API event."""
        status, _h, _d = post(
            f"{self.url}/slack/events", event_body(event, event_id), SECRET, headers=headers
        )
        return status

    def tail(self) -> str:
        """Return the end of the server log (for assertion messages)."""
        return self.log.read_text(errors="replace")[-3000:]


def server_env(db_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """Return the environment `clearance serve` runs with in tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CLEARANCE_"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-e2e-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "CLEARANCE_DATABASE_URL": db_url,
            "CLEARANCE_SLACK_API_URL": slack.base_url,
            "CLEARANCE_ADMINS": ADMIN,
            "CLEARANCE_REVIEW_CHANNEL": REVIEW_CHANNEL,
            "CLEARANCE_AUDIT_CHANNEL": AUDIT_CHANNEL,
            "CLEARANCE_MAX_BODY_BYTES": "200000",
            "CLEARANCE_SEED_SOURCES": "false",
            "CLEARANCE_SCHEDULER": "false",
            # Two worker processes whatever the machine: every test also covers what they share.
            "CLEARANCE_WEB_WORKERS": "2",
            # The fake Slack stands in for hooks.slack.com, and sources are served on 127.0.0.1.
            "CLEARANCE_SLACK_RESPONSE_URL_BASE": slack.root_url,
            "CLEARANCE_FETCH_ALLOWED_ADDRESSES": "127.0.0.1",
            **extra,
        }
    )
    return env


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0
) -> None:
    """Wait (bounded) until GET /healthz answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server not healthy in {timeout}s:\n{log.read_text()}")


@contextmanager
def running_server(
    db_url: str, slack: FakeSlack, tmp: Path, *args: str, **env: str
) -> Iterator[Server]:
    """Start `clearance serve --http` on a free port; stop it afterwards."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *args,
            ],
            env=server_env(db_url, slack, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # its own process group: the server and its workers
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield Server(url, slack, process, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop a server started in its own session: SIGTERM, then SIGKILL to the whole group."""
    if process.poll() is None:
        process.terminate()  # gunicorn's master stops its workers gracefully
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """`kill -9` the server and every worker it forked (as when its machine dies)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def oauth_server(db_url: str, tmp: Path, **env: str) -> Iterator[Server]:
    """Start the server in multi-workspace mode (OAuth installs) against its own fake Slack."""
    with FakeSlack() as slack, running_server(db_url, slack, tmp, **OAUTH, **env) as srv:
        yield srv
