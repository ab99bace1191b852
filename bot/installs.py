"""Installs into many workspaces: Bolt's OAuth flow on slack_sdk's SQLAlchemy stores.

With SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and no SLACK_BOT_TOKEN, `clearance serve --http`
mounts /slack/install and /slack/oauth_redirect; each workspace's (or Enterprise Grid org's)
bot token is kept in the same database and found per request, and rotated tokens are refreshed
as requests come in.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.engine import Engine

from bot.services.workspace_clients import WorkspaceClients
from bot.settings import Settings

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRY_S = 600
ROTATE_BEFORE_MIN = 120  # refresh a rotating token this long before it expires (Slack: 12 h)


def oauth_settings(settings: Settings, engine: Engine, client: WebClient) -> OAuthSettings:
    """Return Bolt's OAuth settings with the installation and state stores on our database.

    The stores' tables are created by the schema migrations, not here.
    """
    assert settings.slack_client_id and settings.slack_client_secret
    client_id = settings.slack_client_id
    secret = settings.slack_client_secret.get_secret_value()
    oauth = OAuthSettings(
        client_id=client_id,
        client_secret=secret,
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        installation_store=SQLAlchemyInstallationStore(client_id=client_id, engine=engine),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRY_S, engine=engine),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        token_rotation_expiration_minutes=ROTATE_BEFORE_MIN,
        installation_store_bot_only=True,
    )
    # The same, but refreshing tokens through our client (its API URL, retries and counts):
    # Bolt's default client would always call slack.com.
    oauth.authorize = InstallationStoreAuthorize(
        logger=logging.getLogger("clearance.installs"),
        client_id=client_id,
        client_secret=secret,
        token_rotation_expiration_minutes=ROTATE_BEFORE_MIN,
        installation_store=oauth.installation_store,
        bot_only=True,
        client=client,
    )
    return oauth


def workspace_clients(settings: Settings, app: App) -> WorkspaceClients:
    """Return how scheduled posts find their client: the app's, or each installation's token."""
    store = app.installation_store if settings.multi_workspace() else None
    return _clients(settings, app.client, store)


def installed_clients(settings: Settings, engine: Engine, client: WebClient) -> WorkspaceClients:
    """The same for a process with no Bolt app (the CLI's `digest run`): the installs it reads."""
    store = None
    if settings.multi_workspace() and settings.slack_client_id:
        store = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
    return _clients(settings, client, store)


def _clients(
    settings: Settings, client: WebClient, store: InstallationStore | None
) -> WorkspaceClients:
    if store is None or not settings.slack_client_id or not settings.slack_client_secret:
        return WorkspaceClients(client)
    rotator = TokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=client,  # our API URL and retries, as for requests
    )
    return WorkspaceClients(client, store, rotator)
