"""Slack glue: listeners that ack, read the payload, call the domain and render blocks."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    admin,
    answer_cards,
    commands,
    events,
    paging,
    policy,
    review_flow,
    reviews,
    screening,
    shortcuts,
)
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    """Register every listener on the app."""
    commands.register(app, deps)
    answer_cards.register(app, deps)
    reviews.register(app, deps)
    admin.register(app, deps)
    events.register(app, deps)
    policy.register(app, deps)
    paging.register(app, deps)
    review_flow.register(app, deps)
    shortcuts.register(app, deps)
    screening.register(app, deps)
