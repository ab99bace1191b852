"""The app manifests ask for least privilege and declare what the app listens to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCOPES = {
    "commands",
    "chat:write",
    "app_mentions:read",
    "im:history",
    "channels:history",
    "groups:history",
    "usergroups:read",
    "links:read",
    "links:write",
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return data


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest.socket-mode.yaml"])
def test_manifests_ask_for_least_privilege(name: str) -> None:
    manifest = load(name)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES
    assert {s["callback_id"] for s in manifest["features"]["shortcuts"]} == {
        "ask_clearance",
        "check_with_clearance",
    }
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_mention",
        "message.im",
        "app_home_opened",
        "link_shared",
        "app_uninstalled",
        "tokens_revoked",
    }


def test_socket_mode_manifest_has_no_public_urls() -> None:
    text = (ROOT / "manifest.socket-mode.yaml").read_text()
    manifest = yaml.safe_load(text)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "/slack/events" not in text and "oauth_redirect" not in text


def test_http_manifest_has_the_oauth_redirect_and_options_url() -> None:
    manifest = load("manifest.yaml")
    assert manifest["oauth_config"]["redirect_urls"] == ["https://YOUR-HOST/slack/oauth_redirect"]
    assert manifest["settings"]["interactivity"]["message_menu_options_url"].endswith(
        "/slack/events"
    )
