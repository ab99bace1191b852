"""App Home: the user's last questions, and the admins' sections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.render.answer_card import verdict_label
from handlers.render.blocks import (
    MAX_VIEW_BLOCKS,
    Block,
    button,
    context,
    escape,
    fit,
    header,
    list_section,
    mention,
    section,
    slack_date,
)
from handlers.render.reviews import review_marker
from storage.tables.audit import Decision
from storage.tables.reviews import ReviewRequest


def render_home(
    *,
    revision: int,
    counts: dict[str, int],
    recent: Sequence[Decision],
    open_reviews: int,
    reviews: dict[str, list[ReviewRequest]] | None = None,
    admin: list[Block] | None = None,
) -> dict[str, Any]:
    """Return the App Home view for one user; `admin` holds the admins' sections."""
    actions = [
        button("Ask", "home_ask", "ask", style="primary"),
        button("Help", "home_help", "help"),
        button(f"My review requests ({open_reviews} open)", "home_reviews", "reviews"),
    ]
    if admin is not None:
        actions.append(button("Subscribe a channel", "home_subscribe", "subscribe"))
    blocks: list[Block] = [
        header("Clearance"),
        section(
            f"Rule table at *revision {revision}* · {counts.get('rules', 0)} rules · "
            f"{counts.get('customers', 0)} customers · {counts.get('models', 0)} models"
        ),
        {"type": "actions", "block_id": "home_actions", "elements": actions},
        *(admin or []),
        {"type": "divider"},
        section(
            "*Your last questions*"
            if recent
            else "*Your last questions*\nNone yet. Press Ask, or try `/clearance can Acme GmbH in "
            "Germany use Claude Sonnet 4.5?`"
        ),
    ]
    for d in recent[:10]:
        marker = review_marker((reviews or {}).get(d.id, []))
        block = section(
            f"{verdict_label(d.verdict)} · {escape(d.question)}\n"
            f"_{slack_date(d.created_at)} · revision {d.revision}_"
            + (f"\n↳ {marker}" if marker else "")
        )
        block["accessory"] = button("Open", "open_decision", d.id)
        blocks.append(block)
    return {"type": "home", "blocks": fit(blocks, max_blocks=MAX_VIEW_BLOCKS)}


def render_admin_home(
    *,
    open_reviews: Sequence[ReviewRequest],
    sources: Sequence[Any],
    changes: Sequence[Any],
    subscriptions: Sequence[Any],
) -> list[Block]:
    """Return App Home's admin sections: open reviews, source health, changes, subscriptions."""
    reviews = [
        f"#{r.id} · {mention(r.requested_by)} · {slack_date(r.requested_at)}"
        + (f" · claimed by {mention(r.claimed_by)}" if r.claimed_by else " · not claimed")
        for r in open_reviews
    ]
    health = []
    for s in sources:
        if s.failures:
            health.append(
                f"⚠️ {escape(s.name)}: failing {s.failures} times ({escape(s.last_error)})"
            )
        elif s.last_success_at:
            health.append(f"✅ {escape(s.name)}: ok {slack_date(s.last_success_at)}")
        else:
            health.append(f"⏳ {escape(s.name)}: not polled yet")
    recent = [f"{slack_date(c.detected_at)} · {escape(c.summary)}" for c in changes]
    subs = [
        f"<#{escape(s.channel)}> · {escape(s.schedule)}" + (" · *paused*" if s.paused else "")
        for s in subscriptions
    ]
    return [
        {"type": "divider"},
        header("Admin"),
        list_section(f"Open reviews ({len(open_reviews)})", reviews or ["none"], raw=True),
        list_section(f"Sources ({len(sources)})", health or ["none tracked"], raw=True),
        list_section("Recent changes", recent or ["none"], raw=True),
        list_section(f"Subscriptions ({len(subscriptions)})", subs or ["none"], raw=True),
        context("Screening hits appear here once screening lists are tracked."),
    ]
