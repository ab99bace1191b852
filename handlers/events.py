"""Events: @mentions answered in a thread, direct messages answered in the DM, App Home."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Say
from slack_sdk import WebClient
from sqlalchemy import func
from sqlmodel import col, select

from handlers.deps import Deps, answer_payload, guarded
from handlers.render.blocks import render_help
from handlers.render.views import render_home
from storage.db import session_scope
from storage.models import Decision, ReviewRequest

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
        recent = list(
            session.exec(
                select(Decision)
                .where(Decision.actor == user)
                .order_by(col(Decision.created_at).desc())
                .limit(10)
            )
        )
        open_reviews = session.exec(
            select(func.count())
            .select_from(ReviewRequest)
            .where(ReviewRequest.requested_by == user, ReviewRequest.status == "open")
        ).one()
    counts = {
        "rules": len(kb.table.rules),
        "customers": len(kb.table.customers),
        "models": len(kb.table.models),
    }
    view = render_home(
        revision=kb.revision, counts=counts, recent=recent, open_reviews=open_reviews
    )
    if deps.is_admin(user, client):
        from handlers.render.screening import with_open_hits
        from storage.screening import open_hits

        view = with_open_hits(view, open_hits(deps.engine))
    client.views_publish(user_id=user, view=view)
