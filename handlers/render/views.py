"""Renderers for subcommands, review requests, admin modals and App Home (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from bot.domain.asking.profiles import CustomerProfile
from bot.domain.rules.provenance import CONDITION_FIELDS
from bot.domain.rules.table import Rule
from handlers.render.blocks import (
    MAX_VIEW_BLOCKS,
    Block,
    Payload,
    button,
    context,
    cut,
    escape,
    fit,
    header,
    list_section,
    mention,
    message,
    plural,
    render_reason,
    section,
    slack_date,
    verdict_label,
)
from storage.models import Decision, ReviewRequest, Revision
from storage.reviews import override_verdict

MAX_LIST = 20
MODAL_TITLE = 24
YAML_BLOCK = "yaml_block"
REASON_BLOCK = "reason_block"


def render_customer(p: CustomerProfile) -> Payload:
    """Return a customer's profile, ownership chain, control results and usage verdicts."""
    c = p.customer
    lines = [f"*{escape(c.name)}* (`{escape(c.id)}`), headquartered in {escape(c.hq)}"]
    if c.aliases:
        lines.append("Also known as: " + escape(", ".join(c.aliases)))
    if c.tags:
        lines.append("Tags: " + escape(", ".join(c.tags)))
    blocks: list[Block] = [header(f"Customer: {c.name}"), section("\n".join(lines))]
    if p.chain:
        blocks.append(
            list_section(
                "Ownership chain",
                [f"{'  ' * (h.depth - 1)}{h.name} ({h.hq}) holds {h.share:g}%" for h in p.chain],
                limit=15,
            )
        )
    else:
        blocks.append(section("*Ownership chain*\nNo owners recorded."))
    if p.controls:
        blocks.append(
            list_section(
                "Control tests",
                [
                    f"{'Yes' if r.controlled else 'No'}: {r.description} (rules {', '.join(r.rule_ids)})"
                    + (f". {r.path}" if r.path else "")
                    for r in p.controls
                ],
            )
        )
    if p.usages:
        blocks.append(
            list_section(
                "Current verdicts for recorded usage",
                [
                    f"{verdict_label(u.verdict)}: {u.model} in {u.country} ({u.access})"
                    + (f" by {', '.join(u.rule_ids)}" if u.rule_ids else "")
                    for u in p.usages
                ],
                limit=15,
            )
        )
    else:
        blocks.append(section("*Recorded usage*\nNone recorded."))
    return message(f"Customer {escape(c.name)} ({escape(c.hq)})", blocks)


def next_button(action_id: str, value: str) -> Block:
    """Return the actions block with a Next button for a list shown a page at a time."""
    return {
        "type": "actions",
        "block_id": f"{action_id}_pager",
        "elements": [button("Next", action_id, value)],
    }


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


def render_rule(rule: Rule, *, revision: int) -> Payload:
    """Return one rule with its citation, conditions and explanation."""
    data = rule.to_dict()
    conditions = {k: data[k] for k in CONDITION_FIELDS if k in data}
    blocks: list[Block] = [
        header(f"Rule {rule.id}"),
        render_reason({**data, "rule": rule.id}),
        section(
            "*Applies when*\n```"
            + escape(yaml.safe_dump(conditions, sort_keys=False) or "always")
            + "```"
        ),
    ]
    if rule.explanation:
        blocks.append(section(f"*Explanation*\n{escape(rule.explanation)}"))
    blocks.append(context(f"Rule-table revision {revision}"))
    return message(f"Rule {escape(rule.id)}: {escape(rule.title)}", blocks)


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


def review_marker(reviews: Sequence[ReviewRequest]) -> str:
    """Return how a decision's reviews ended, for lists ("✅ Overridden → allowed by @admin")."""
    for v in reversed(reviews):
        verdict = override_verdict(v)
        if verdict:
            return (
                f"{verdict_label(verdict).split(' ')[0]} Overridden → {escape(verdict)} by "
                f"{mention(v.resolved_by)} (review #{v.id})"
            )
        if v.status == "resolved":
            return f"{escape(v.outcome)} by {mention(v.resolved_by)} (review #{v.id})"
    open_ = [v for v in reviews if v.status == "open"]
    return f"review #{open_[-1].id} open" if open_ else ""


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


OUTCOMES = {
    "confirmed": "Answer confirmed",
    "allowed": "Overridden: allowed",
    "denied": "Overridden: denied",
    "more_info": "Needs more information",
}


def resolve_modal(review_id: int) -> dict[str, Any]:
    """Return the modal an admin uses to resolve a review request."""
    return {
        "type": "modal",
        "callback_id": "resolve_review",
        "private_metadata": json.dumps({"review": review_id}),
        "title": {"type": "plain_text", "text": "Resolve review"},
        "submit": {"type": "plain_text", "text": "Resolve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "outcome_block",
                "label": {"type": "plain_text", "text": "Outcome"},
                "element": {
                    "type": "static_select",
                    "action_id": "outcome",
                    "options": [
                        {"text": {"type": "plain_text", "text": label}, "value": value}
                        for value, label in OUTCOMES.items()
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note_block",
                "label": {"type": "plain_text", "text": "Note for the asker"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "note",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


MAX_INPUT = 3000  # Slack's limit for a plain_text_input's value


def edit_modal(
    *,
    callback_id: str,
    title: str,
    yaml_text: str,
    hint: str,
    metadata: dict[str, Any],
    note: str | None = None,
) -> dict[str, Any]:
    """Return an admin modal with a YAML editor and a reason field.

    The text is never cut: what the modal shows is what is saved, so a text over Slack's input
    limit is refused here and the caller edits the entity in parts or points to the CLI.
    """
    if len(yaml_text) > MAX_INPUT:
        raise ValueError(f"{len(yaml_text)} characters do not fit a Slack text input")
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata)[:3000],
        "title": {"type": "plain_text", "text": cut(title, MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": YAML_BLOCK,
                "label": {"type": "plain_text", "text": "YAML, as in a rule-table file"},
                "hint": {"type": "plain_text", "text": cut(hint, 2000)},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "yaml",
                    "multiline": True,
                    "initial_value": yaml_text,
                    "max_length": MAX_INPUT,
                },
            },
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why (goes to the audit channel)"},
                "element": {"type": "plain_text_input", "action_id": "reason", "max_length": 500},
            },
        ],
    }
    if note:
        view["blocks"].insert(0, context(note))
    return view


def retire_modal(rule: Rule) -> dict[str, Any]:
    """Return the modal that retires a rule (ends it yesterday) with a reason."""
    return {
        "type": "modal",
        "callback_id": "retire_rule",
        "private_metadata": json.dumps({"rule": rule.id}),
        "title": {"type": "plain_text", "text": "Retire rule"},
        "submit": {"type": "plain_text", "text": "Retire"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                f"Retire *{escape(rule.id)}* ({escape(rule.title)})? It stops applying "
                "from today; answers for earlier dates still use it."
            ),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why (goes to the audit channel)"},
                "element": {"type": "plain_text_input", "action_id": "reason", "max_length": 500},
            },
        ],
    }


def render_change(*, user: str, action: str, revision: Revision, reason: str) -> Payload:
    """Return the audit-channel message for an admin change."""
    changes = [f"{c['op']} {c['kind'][:-1]} {c['id']}" for c in revision.changes]
    blocks = [
        section(
            f"*Revision {revision.number}* by <@{user}>: {escape(action)}\n*Why:* {escape(reason)}"
        ),
        list_section("Changes", changes or ["no changes"], limit=15),
        context(escape(revision.summary)),
    ]
    return message(f"Revision {revision.number} by {mention(user)}: {escape(action)}", blocks)


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


def info_modal(title: str, payload: Payload) -> dict[str, Any]:
    """Return a read-only modal that shows a message payload."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": cut(title, MODAL_TITLE)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": fit(payload["blocks"], max_blocks=MAX_VIEW_BLOCKS),
    }


def render_reviews(rows: Sequence[ReviewRequest]) -> Payload:
    """Return a user's review requests."""
    if not rows:
        return message("No review requests.", [section("You have no review requests.")])
    items = [
        f"#{r.id} · {r.status} · decision {r.decision_id[:12]}"
        + (f" · {r.outcome}" if r.outcome else "")
        for r in rows
    ]
    return message("Your review requests", [list_section("Your review requests", items)])
