"""List pages: rule search results and the audit log a page at a time, and recent revisions."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.rules.table import Rule
from handlers.render.answer_card import verdict_label
from handlers.render.blocks import (
    Payload,
    context,
    cut,
    escape,
    header,
    list_section,
    mention,
    message,
    next_button,
    plural,
    section,
    slack_date,
)
from handlers.render.reviews import review_marker
from storage.tables.audit import Decision
from storage.tables.reviews import ReviewRequest
from storage.tables.rule_table import Revision

MAX_LIST = 20


def render_rule_list(
    rules: Sequence[Rule],
    *,
    query: str,
    revision: int,
    offset: int = 0,
    pager: str | None = None,
) -> Payload:
    """Return a page of rule search results; `pager` is the stored query the Next button carries."""
    title = f"Rules matching '{query}'" if query else "Rules"
    if not rules:
        return message(
            f"No rules match '{escape(query)}'.",
            [
                section(
                    f"No rules match '{escape(query)}'. Try a shorter word, "
                    "or `/clearance rules` for all."
                )
            ],
        )
    page = rules[offset : offset + MAX_LIST]
    items = [f"`{r.id}` · {r.effect.replace('_', ' ')} · {r.title}" for r in page]
    shown = f"{offset + 1} to {offset + len(page)} of {len(rules)}"
    blocks = [
        header(cut(title, 150)),
        list_section(f"{plural(len(rules), 'rule')} found · {shown}", items, limit=MAX_LIST),
        context(f"Rule-table revision {revision} · `/clearance rule ID` shows one rule"),
    ]
    if pager and offset + MAX_LIST < len(rules):
        blocks.append(next_button("page_rules", f"{pager}:{offset + MAX_LIST}"))
    return message(f"{plural(len(rules), 'rule')} found", blocks)


def render_revisions(revs: Sequence[Revision]) -> Payload:
    """Return recent revisions."""
    items = [
        f"{r.number} · {slack_date(r.created_at)} · {mention(r.author)} · {escape(r.summary)}"
        for r in revs
    ]
    return message(
        "Recent rule-table revisions",
        [header("Recent revisions"), list_section("Newest first", items, limit=15, raw=True)],
    )


def render_audit(
    rows: Sequence[Decision],
    *,
    scope: str,
    reviews: dict[str, list[ReviewRequest]] | None = None,
    offset: int = 0,
    pager: str | None = None,
    more: bool = False,
) -> Payload:
    """Return recent decisions from the audit log, each with how its reviews ended.

    `scope` is mrkdwn (a mention the bot built, or escaped text).
    """
    if not rows:
        return message("No decisions found.", [section(f"No decisions found for {scope}.")])
    items = []
    for r in rows:
        line = (
            f"{slack_date(r.created_at)} · {mention(r.actor)} · {verdict_label(r.verdict)} · "
            f"{escape(r.customer_name or 'unnamed')} / {escape(r.country)} / {escape(r.model)}"
            f" · rev {r.revision} · `{escape(r.id)}`"
        )
        marker = review_marker((reviews or {}).get(r.id, []))
        items.append(line + (f"\n    ↳ {marker}" if marker else ""))
    blocks = [header("Audit log"), list_section(scope, items, limit=MAX_LIST, raw=True)]
    if offset:
        blocks.append(context(f"Decisions {offset + 1} to {offset + len(rows)}, newest first"))
    if pager and more:
        blocks.append(next_button("page_audit", f"{pager}:{offset + len(rows)}"))
    return message(f"Audit log: {plural(len(rows), 'decision')}", blocks)
