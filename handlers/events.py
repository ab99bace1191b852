"""Events: @mentions answered in a thread, direct messages answered in the DM, App Home."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Say
from slack_sdk import WebClient

from handlers.deps import Deps, answer_payload, guarded
from handlers.render.home import render_admin_home, render_home
from handlers.render.screening import with_open_hits
from handlers.subcommands import help_message
from storage.db import session_scope
from storage.decisions import list_decisions
from storage.policies import list_changes, list_subscriptions, polled_sources
from storage.reviews import count_open_reviews, open_reviews_of_team, reviews_of
from storage.screening_hits import open_hits

# The leading @mention(s) address the bot; anything later is part of the question and is
# escaped when echoed, never stripped silently.
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+")


def question_of(text: str) -> str:
    """Return a message's text without the leading @mentions that address the bot."""
    return " ".join(_LEADING_MENTIONS.sub(" ", text or "").split())


def _reply(deps: Deps, text: str, user: str) -> dict[str, Any]:
    question = question_of(text)
    if not question or question.lower() in ("help", "hi", "hello"):
        return help_message(admin=False)
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
    admin = admin_sections(deps, deps.team_scope()) if deps.is_admin(user, client) else None
    with session_scope(deps.engine) as session:
        recent = list_decisions(session=session, actor=user, limit=10)
        open_reviews = count_open_reviews(session=session, user=user)
        reviews = reviews_of(session=session, decision_ids=[d.id for d in recent])
    counts = {
        "rules": len(kb.table.rules),
        "customers": len(kb.table.customers),
        "models": len(kb.table.models),
    }
    view = render_home(
        revision=kb.revision,
        counts=counts,
        recent=recent,
        open_reviews=open_reviews,
        reviews=reviews,
        admin=admin,
    )
    if admin is not None:
        view = with_open_hits(view, open_hits(deps.engine))
    client.views_publish(user_id=user, view=view)


def admin_sections(deps: Deps, team: str | None) -> list[dict[str, Any]]:
    """Return App Home's sections for admins: open reviews, source health, changes, channels."""
    with session_scope(deps.engine) as session:
        open_reviews = open_reviews_of_team(session=session, team=team, limit=10)
        sources = polled_sources(session=session)
        changes = list_changes(session=session, limit=5)
        subscriptions = list_subscriptions(session=session, team=team)
    return render_admin_home(
        open_reviews=open_reviews, sources=sources, changes=changes, subscriptions=subscriptions
    )
