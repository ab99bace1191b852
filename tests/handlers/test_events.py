"""Mentions, direct messages and App Home, as Bolt calls their listeners."""

from __future__ import annotations

import pytest

from handlers.deps import Deps
from tests.support.listeners import ADMIN, CHANNEL, USER, FakeClient, Listeners, Recorder, settle


def mention(text: str, **extra: str) -> dict[str, str]:
    return {
        "type": "app_mention",
        "user": USER,
        "text": text,
        "ts": "1700000009.000200",
        "channel": CHANNEL,
        **extra,
    }


def test_a_mention_is_answered_in_its_thread(app: Listeners, deps: Deps) -> None:
    say = Recorder()
    app("event", "app_mention")(event=mention("<@UBOT> can someone in Iran use GPT-4o"), say=say)
    settle(deps)
    said = say.only
    assert said["thread_ts"] == "1700000009.000200" and said["blocks"][0]["type"] == "header"
    assert "share_answer" not in str(said["blocks"]), "a public answer has nothing to share"


def test_a_follow_up_stays_in_the_thread(app: Listeners, deps: Deps) -> None:
    say = Recorder()
    event = mention("<@UBOT> help", thread_ts="1700000009.000100")
    app("event", "app_mention")(event=event, say=say)
    settle(deps)
    assert say.only["thread_ts"] == "1700000009.000100"
    assert say.only["text"].startswith("Clearance help") and "*Admin*" not in str(say.only)


@pytest.mark.parametrize(
    ("event", "answered"),
    [
        ({"channel_type": "im", "text": "hi"}, True),
        ({"channel_type": "im", "text": "hi", "bot_id": "B1"}, False),
        ({"channel_type": "im", "text": "hi", "subtype": "message_changed"}, False),
        ({"channel_type": "channel", "text": "hi"}, False),
    ],
)
def test_only_peoples_direct_messages_are_answered(
    app: Listeners, deps: Deps, event: dict[str, str], answered: bool
) -> None:
    say = Recorder()
    app("event", "message")(event={"type": "message", "user": USER, **event}, say=say)
    settle(deps)
    assert bool(say.calls) is answered


@pytest.mark.parametrize(("user", "admin"), [(USER, False), (ADMIN, True)])
def test_app_home_is_published_with_admin_sections_for_admins(
    app: Listeners, deps: Deps, client: FakeClient, user: str, admin: bool
) -> None:
    app("event", "app_home_opened")(event={"type": "app_home_opened", "user": user}, client=client)
    settle(deps)
    (published,) = client.called("views_publish")
    assert published["user_id"] == user and published["view"]["type"] == "home"
    assert ("Open reviews" in str(published["view"])) is admin


def test_app_home_messages_tab_publishes_nothing(
    app: Listeners, deps: Deps, client: FakeClient
) -> None:
    event = {"type": "app_home_opened", "user": USER, "tab": "messages"}
    app("event", "app_home_opened")(event=event, client=client)
    settle(deps)
    assert client.calls == []
