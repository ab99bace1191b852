"""The subcommand table: names, dispatch, help per role, and admin-only refusals."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy.engine import Engine

import handlers
from handlers.deps import Deps
from handlers.subcommands import SUBCOMMANDS, Subcommand, match
from tests.handlers.conftest import refusals
from tests.support.listeners import (
    ADMIN,
    CHANNEL,
    USER,
    FakeClient,
    Listeners,
    Recorder,
    make_deps,
    settle,
    slash_command,
)

ADMIN_ONLY = [s for s in SUBCOMMANDS if s.admin_only]


def _run(app: Listeners, text: str, user: str, client: FakeClient) -> tuple[Recorder, Recorder]:
    ack, respond = Recorder(), Recorder()
    app("command", "/clearance")(
        ack=ack, command=slash_command(text, user=user), respond=respond, client=client
    )
    return ack, respond


def test_no_two_subcommands_share_a_name_or_alias() -> None:
    names = [n for s in SUBCOMMANDS for n in s.names]
    assert len(names) == len(set(names))
    for name in names:
        assert name == name.lower() and name == " ".join(name.split())
        assert 1 <= len(name.split()) <= 2 and "=" not in name


@pytest.mark.parametrize("sub", SUBCOMMANDS, ids=lambda s: s.name)
def test_every_subcommand_is_in_the_help_of_its_role(
    app: Listeners, client: FakeClient, sub: Subcommand
) -> None:
    line = f"`/clearance {sub.usage}`: {sub.summary}"
    for user, sees in ((ADMIN, True), (USER, sub.section == "Ask")):
        ack, _ = _run(app, "help", user, client)
        payload = ack.only
        for block in payload["blocks"]:
            Block.parse(block).to_dict()  # inside Slack's limits
        text = json.dumps(payload, ensure_ascii=False)
        assert (json.dumps(line, ensure_ascii=False)[1:-1] in text) is sees, (user, line)
        assert ("*Admin*" in text) is (user == ADMIN)
        examples = [b for b in payload["blocks"] if b.get("block_id") == "help_examples"]
        assert [e["action_id"] for e in examples[0]["elements"]] == ["help_example"] * 3


@pytest.mark.parametrize("sub", ADMIN_ONLY, ids=lambda s: s.name)
def test_admin_only_subcommands_refuse_others_and_note_it(
    app: Listeners, deps: Deps, client: FakeClient, sub: Subcommand
) -> None:
    ack, respond = _run(app, f"{sub.name} nimbus", USER, client)
    settle(deps)
    said = (respond if sub.after_ack else ack).only
    assert said["text"] == sub.refusal
    if sub.after_ack:
        assert ack.only == {} and said["response_type"] == "ephemeral"
    target = CHANNEL if sub.name.endswith("subscribe") else "nimbus"
    assert refusals(deps.engine) == [(USER, sub.name, target)]
    assert client.calls == [], "nothing is opened or posted for someone refused"


@pytest.mark.parametrize("sub", ADMIN_ONLY, ids=lambda s: s.name)
def test_admin_only_subcommands_run_for_admins(
    app: Listeners, deps: Deps, client: FakeClient, sub: Subcommand
) -> None:
    ack, respond = _run(app, f"{sub.name} nimbus", ADMIN, client)
    settle(deps)
    said = json.dumps([ack.calls, respond.calls, client.calls])
    assert sub.refusal not in said
    assert refusals(deps.engine) == []


def test_a_setting_opens_subscribing_to_everyone(engine: Engine, client: FakeClient) -> None:
    deps = make_deps(engine, CLEARANCE_SUBSCRIBE_ANYONE=True)
    app = Listeners()
    handlers.register(app, deps)  # type: ignore[arg-type]
    ack, _ = _run(app, "subscribe", USER, client)
    settle(deps)
    assert f"<#{CHANNEL}> now gets every source" in ack.only["text"]
    assert refusals(engine) == []


@pytest.mark.parametrize(
    ("text", "name", "rest"),
    [
        ("rules", "rules", ""),
        ("RULES export control", "rules", "export control"),
        ("rule add", "rule add", ""),
        ("Rule EDIT ofac-iran-place", "rule edit", "ofac-iran-place"),
        ("rule addendum-1", "rule", "addendum-1"),
        ("customer Add Industries", "customer add", "Industries"),
        ("customer Addison Ltd", "customer", "Addison Ltd"),
        ("customer edit", "customer edit", ""),
        ("digest preview", "digest", "preview"),
        ("help me", "help", "me"),
        ("help x=1", "help", "x=1"),
        ("subscribe bis weekly MON 09:00 UTC", "subscribe", "bis weekly MON 09:00 UTC"),
        # A `key=value` text after a read-only subcommand's name is a question.
        ("customer = Acme country=DE model=gpt-4o", None, None),
        ("rules model=gpt-4o", None, None),
        ("rulesx", None, None),
        ("can Acme in Germany use GPT-4o", None, None),
    ],
)
def test_a_text_names_a_subcommand_by_its_exact_words(
    text: str, name: str | None, rest: str | None
) -> None:
    found = match(text)
    assert (found and (found[0].name, found[1])) == (name and (name, rest))
