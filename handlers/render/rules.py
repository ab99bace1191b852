"""One rule with its conditions, and the audit channel's message for a change to the table."""

from __future__ import annotations

import yaml

from bot.domain.rules.provenance import CONDITION_FIELDS
from bot.domain.rules.table import Rule
from handlers.render.blocks import (
    Block,
    Payload,
    context,
    escape,
    header,
    list_section,
    mention,
    message,
    section,
)
from handlers.render.reasons import render_reason
from storage.tables.rule_table import Revision


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
