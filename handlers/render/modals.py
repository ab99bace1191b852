"""Modals: resolving a review, editing or retiring an entity, and showing a message read-only."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.rules.table import Rule
from handlers.render.blocks import (
    MAX_VIEW_BLOCKS,
    Payload,
    context,
    cut,
    escape,
    fit,
    section,
)

MODAL_TITLE = 24
YAML_BLOCK = "yaml_block"
REASON_BLOCK = "reason_block"

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


def info_modal(title: str, payload: Payload) -> dict[str, Any]:
    """Return a read-only modal that shows a message payload."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": cut(title, MODAL_TITLE)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": fit(payload["blocks"], max_blocks=MAX_VIEW_BLOCKS),
    }
