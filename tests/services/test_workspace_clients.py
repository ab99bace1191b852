"""The client a scheduled post goes out with: its workspace's installed token, or none at all."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.engine import Engine

from bot.services.workspace_clients import (
    NoInstallation,
    WorkspaceClients,
    delivery_workspace,
    notice_workspace,
)
from storage.tables.tracking import Delivery
from storage.workspaces import NONE, Workspace
from tests.support.slack_fake import FakeSlack

CLIENT_ID = "1111.2222"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _bot(team: str | None, enterprise: str | None = None, **kw: object) -> Bot:
    return Bot(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        bot_token=f"xoxb-{team or enterprise}-stored",
        bot_id="BBOT",
        bot_user_id="UBOT",
        is_enterprise_install=team is None,
        installed_at=time.time(),
        **kw,  # type: ignore[arg-type]
    )


def _clients(engine: Engine, slack: FakeSlack, *bots: Bot) -> WorkspaceClients:
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine)
    for bot in bots:
        store.save_bot(bot)
    base = WebClient(base_url=slack.base_url, timeout=5)
    rotator = TokenRotator(client_id=CLIENT_ID, client_secret="s", client=base)
    return WorkspaceClients(base, store, rotator)


@pytest.mark.storage
@pytest.mark.parametrize(
    ("workspace", "token"),
    [
        (Workspace("T1"), "xoxb-T1-stored"),
        (Workspace("T2"), "xoxb-T2-stored"),
        (Workspace("T9", "E1"), "xoxb-E1-stored"),  # a team of an org-wide install
        (Workspace("T2", "E1"), "xoxb-E1-stored"),  # T2's own install is not in org E1
    ],
)
def test_each_workspace_gets_its_own_token(
    engine: Engine, slack: FakeSlack, workspace: Workspace, token: str
) -> None:
    clients = _clients(engine, slack, _bot("T1"), _bot("T2"), _bot(None, "E1"))
    assert clients.for_workspace(workspace).token == token


@pytest.mark.storage
@pytest.mark.parametrize("workspace", [NONE, Workspace("T3"), Workspace("T1", "E2")])
def test_no_installation_is_an_error_never_another_token(
    engine: Engine, slack: FakeSlack, workspace: Workspace
) -> None:
    clients = _clients(engine, slack, _bot("T1"), _bot(None, "E1"))
    with pytest.raises(NoInstallation, match="no_installation"):
        clients.for_workspace(workspace)


@pytest.mark.storage
def test_an_expiring_token_is_rotated_and_saved(engine: Engine, slack: FakeSlack) -> None:
    slack.token_lifetime_s = 43200
    slack.refresh_tokens["xoxe-1-old"] = {"team_id": "T1", "enterprise_id": None, "user_id": "U"}
    soon = int(time.time()) + 600  # inside the two hours before expiry
    clients = _clients(
        engine, slack, _bot("T1", bot_refresh_token="xoxe-1-old", bot_token_expires_at=soon)
    )
    token = clients.for_workspace(Workspace("T1")).token
    assert token is not None and token.startswith("xoxb-T1-") and token != "xoxb-T1-stored"
    (call,) = slack.calls_to("oauth.v2.access")
    assert call.args["refresh_token"] == "xoxe-1-old"
    # Saved: the next post uses the new token without refreshing again.
    assert clients.for_workspace(Workspace("T1")).token == token
    assert len(slack.calls_to("oauth.v2.access")) == 1


def test_one_workspace_uses_the_configured_client(slack: FakeSlack) -> None:
    base = WebClient(token="xoxb-configured", base_url=slack.base_url)
    assert WorkspaceClients(base).for_workspace(NONE) is base


@pytest.mark.parametrize(
    ("setting", "workspace"),
    [(None, NONE), ("", NONE), ("T1", Workspace("T1")), (" E1 ", Workspace(None, "E1"))],
)
def test_admin_notices_go_to_the_configured_workspace_or_org(
    setting: str | None, workspace: Workspace
) -> None:
    assert notice_workspace(setting) == workspace


@pytest.mark.storage
def test_an_admin_notice_is_posted_with_the_admin_workspaces_token(
    engine: Engine, slack: FakeSlack
) -> None:
    clients = _clients(engine, slack, _bot("T1"), _bot("T2"))
    notice = Delivery(dedupe_key="n", channel="UADMIN", kind="notice", payload={"text": "x"})
    # No subscription: without CLEARANCE_ADMIN_TEAM it belongs to no workspace, and has no token.
    with pytest.raises(NoInstallation):
        clients.for_workspace(delivery_workspace(engine, notice))
    chosen = delivery_workspace(engine, notice, notices=notice_workspace("T2"))
    assert clients.for_workspace(chosen).token == "xoxb-T2-stored"
