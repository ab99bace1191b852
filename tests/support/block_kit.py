"""Slack's documented checks of message attachments, shared by the fake Slack and render tests.

An attachment is an object; at most 100 per message (`too_many_attachments`); its `color` is
`good`, `warning`, `danger` or a hex colour like `#439FE0`; its `blocks` are Block Kit blocks,
at most 50, each within its limits (checked with slack_sdk's models). Anything else is
`invalid_attachments` (or `invalid_blocks` for the blocks).
https://docs.slack.dev/messaging/formatting-message-text#attachments
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_ATTACHMENTS = 100
MAX_BLOCKS = 50
SEEDED_COLOURS = {"good", "warning", "danger"}
HEX_COLOUR = re.compile(r"#?[0-9A-Fa-f]{6}")


def blocks_problem(blocks: Any) -> str | None:
    """Return `invalid_blocks` for blocks Slack would refuse, else None."""
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        try:
            if not isinstance(block, dict) or Block.parse(block) is None:
                return "invalid_blocks"
            Block.parse(block).to_dict()  # type: ignore[union-attr]
        except (SlackObjectFormationError, TypeError, ValueError):
            return "invalid_blocks"
    return None


def attachment_problem(attachment: Any) -> str | None:
    """Return Slack's error for one attachment (or one unfurl, which is an attachment)."""
    if not isinstance(attachment, dict):
        return "invalid_attachments"
    colour = attachment.get("color")
    if colour is not None and not (
        isinstance(colour, str) and (colour in SEEDED_COLOURS or HEX_COLOUR.fullmatch(colour))
    ):
        return "invalid_attachments"
    if "blocks" in attachment:
        return blocks_problem(attachment["blocks"])
    return None


def attachments_problem(attachments: Any) -> str | None:
    """Return Slack's error for a message's `attachments`, or None when Slack takes them."""
    if attachments in (None, ""):
        return None
    if not isinstance(attachments, list):
        return "invalid_attachments"
    if len(attachments) > MAX_ATTACHMENTS:
        return "too_many_attachments"
    for attachment in attachments:
        problem = attachment_problem(attachment)
        if problem:
            return problem
    return None
