"""Events: @mentions answered in a thread, direct messages answered in the DM, App Home."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Say
from slack_sdk import WebClient

from handlers.deps import Deps, answer_payload, guarded
from handlers.render.blocks import render_help
from handlers.render.views import render_home
from storage.db import session_scope
from storage.decisions import list_decisions
from storage.reviews import count_open_reviews

# The leading @mention(s) address the bot; anything later is part of the question and is
# escaped when echoed, never stripped silently.
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+")


def _question(text: str) -> str:
    return " ".join(_LEADING_MENTIONS.sub(" ", text or "").split())


def _reply(deps: Deps, text: str, user: str) -> dict[str, Any]:
    question = _question(text)
    if not question or question.lower() in ("help", "hi", "hello"):
        return render_help()
    # Public replies keep Request review and Show rules, but sharing is moot there.
    return guarded(lambda: answer_payload(deps, question, actor=user, share=False))


def register(app: App, deps: Deps) -> None:
    """Register event listeners."""

    @app.event("app_mention")
    def handle_mention(event: dict[str, Any], say: Say) -> None:
        deps.later(
            lambda: say(
                **_reply(deps, event.get("text", ""), event.get("user", "")),
                thread_ts=event.get("thread_ts") or event["ts"],
            )
        )

    @app.event("message")
    def handle_message(event: dict[str, Any], say: Say) -> None:
        # Only direct messages from people: no bots, no edits or other subtypes.
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        deps.later(lambda: say(**_reply(deps, event.get("text", ""), event.get("user", ""))))

    @app.event("app_home_opened")
    def handle_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            deps.later(lambda: _publish_home(deps, client, event["user"]))


def _publish_home(deps: Deps, client: WebClient, user: str) -> None:
    """Publish the App Home tab: revision, counts, the user's recent questions, open reviews."""
    kb = deps.cache.get()
    with session_scope(deps.engine) as session:
        recent = list_decisions(session=session, actor=user, limit=10)
        open_reviews = count_open_reviews(session=session, user=user)
    counts = {
        "rules": len(kb.table.rules),
        "customers": len(kb.table.customers),
        "models": len(kb.table.models),
    }
    client.views_publish(
        user_id=user,
        view=render_home(
            revision=kb.revision, counts=counts, recent=recent, open_reviews=open_reviews
        ),
    )
