"""Stand-ins for Slack's side of a listener call: the app, `ack`, `respond`, `say` and the client.

`Listeners` records what a module's `register(app, deps)` registers, so a test calls the very
function Bolt would, with Bolt-shaped payloads and these recorders as Slack's objects. The bot's
own code (deps, services, storage) is real; `settle` waits for the work listeners hand to
`Deps.later`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.util.utils import get_arg_names_of_callable
from sqlalchemy.engine import Engine

from bot.services.asking import KnowledgeCache
from bot.settings import Settings
from handlers.deps import AFTER_ACK_WORKERS, Deps

ADMIN = "UADMIN"
USER = "UUSER"
CHANNEL = "C1"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

Listener = Callable[..., None]


class Listeners:
    """An app that keeps the listeners registered on it, by kind and id."""

    def __init__(self) -> None:
        self.registered: dict[tuple[str, str], Listener] = {}

    def _keep(self, kind: str, key: str | re.Pattern[str]) -> Callable[[Listener], Listener]:
        name = key.pattern if isinstance(key, re.Pattern) else key

        def keep(fn: Listener) -> Listener:
            self.registered[(kind, name)] = fn
            return fn

        return keep

    def command(self, name: str) -> Callable[[Listener], Listener]:
        """Keep a slash command listener."""
        return self._keep("command", name)

    def action(self, key: str | re.Pattern[str]) -> Callable[[Listener], Listener]:
        """Keep a block action listener."""
        return self._keep("action", key)

    def view(self, key: str) -> Callable[[Listener], Listener]:
        """Keep a view submission listener."""
        return self._keep("view", key)

    def shortcut(self, key: str) -> Callable[[Listener], Listener]:
        """Keep a shortcut listener."""
        return self._keep("shortcut", key)

    def options(self, key: str) -> Callable[[Listener], Listener]:
        """Keep an options (external select) listener."""
        return self._keep("options", key)

    def event(self, key: str) -> Callable[[Listener], Listener]:
        """Keep an event listener."""
        return self._keep("event", key)

    def __call__(self, kind: str, key: str) -> Listener:
        """Return the listener for this kind and id; like Bolt, it gets only the arguments it names."""
        listener = self.registered[(kind, key)]
        # Bolt's own reading of the names, so a listener Bolt would pass nothing fails here too.
        wanted = set(get_arg_names_of_callable(listener))

        def call(**available: Any) -> None:
            available.setdefault("context", BoltContext())  # Bolt always has one to give
            listener(**{k: v for k, v in available.items() if k in wanted})

        return call


@dataclass
class Recorder:
    """A callable (`ack`, `respond`, `say`) that records the keyword arguments of each call."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], dict):  # `ack({...})`, as Bolt takes a whole message
            kwargs = {**args[0], **kwargs}
        elif args:  # `say("text")`
            kwargs = {"text": args[0], **kwargs}
        self.calls.append(kwargs)

    @property
    def only(self) -> dict[str, Any]:
        """Return the one call made; fail if there were none or several."""
        assert len(self.calls) == 1, self.calls
        return self.calls[0]


@dataclass
class FakeClient:
    """A Web API client that records each method called and answers `ok` (or a set reply)."""

    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((method, kwargs))
            return {"ok": True, **self.replies.get(method, {})}

        return call

    def called(self, method: str) -> list[dict[str, Any]]:
        """Return the arguments of each call to one method."""
        return [kwargs for name, kwargs in self.calls if name == method]


def make_deps(engine: Engine, *, cache: KnowledgeCache | None = None, **settings: Any) -> Deps:
    """Return real listener dependencies on a database, with UADMIN as the one admin."""
    return Deps(
        settings=Settings(CLEARANCE_ADMINS=ADMIN, **settings),
        engine=engine,
        cache=cache or KnowledgeCache(engine),
        clock=lambda: NOW,
    )


def settle(deps: Deps) -> None:
    """Wait until the work handed to `Deps.later` is done (then take new work again)."""
    deps._after_ack.shutdown(wait=True)
    deps._after_ack = ThreadPoolExecutor(AFTER_ACK_WORKERS, thread_name_prefix="after-ack")


def slash_command(text: str, *, user: str = USER, channel: str = CHANNEL) -> dict[str, Any]:
    """Return a `/clearance` payload as Bolt hands it to a listener."""
    return {
        "token": "t",
        "team_id": "T1",
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": "someone",
        "command": "/clearance",
        "text": text,
        "api_app_id": "A1",
        "response_url": "https://hooks.slack.com/commands/T1/1/x",
        "trigger_id": "1.2.trigger",
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user: str = USER,
    channel: str = CHANNEL,
    message: dict[str, Any] | None = None,
    response_url: str | None = "https://hooks.slack.com/actions/T1/1/x",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a block action's body and its action, as Bolt hands them to a listener."""
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": "b",
        "value": value,
        "action_ts": "1700000000.000100",
    }
    body: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "example"},
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "1.2.trigger",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1700000000.000001"},
        "channel": {"id": channel, "name": "general"},
        "message": message or {"ts": "1700000000.000001", "text": "", "blocks": []},
        "actions": [action],
    }
    if response_url:
        body["response_url"] = response_url
    return body, action


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user: str = USER,
    private_metadata: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a view submission's body and its view, as Bolt hands them to a listener."""
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "state": {"values": values},
    }
    body = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "example"},
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "1.2.trigger",
        "view": view,
    }
    return body, view
