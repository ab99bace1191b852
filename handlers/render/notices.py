"""Notices: the parser's "can't answer" with its candidates, failures, and one-line messages."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.render.blocks import (
    Block,
    Payload,
    button,
    context,
    cut,
    escape,
    list_section,
    message,
    section,
)

MAX_CANDIDATE_BUTTONS = 5
MAX_MENU_OPTIONS = 100  # Slack's limit for a static_select


def render_question_error(
    code: str,
    text: str,
    candidates: Sequence[dict[str, str]],
    question: str,
    *,
    phrase: str | None = None,
    choice: str | None = None,
) -> Payload:
    """Return the parser's message with candidates as buttons (up to 5) or a select menu.

    `choice` is the id of the stored question and candidates (`storage.choices`); each button
    or option carries only "<choice>:<index>", so any question fits Slack's value limit. Without
    it the candidates are listed as text.
    """
    blocks: list[Block] = [section(f"I can't answer that yet: {escape(text)}")]
    if candidates and choice:
        if len(candidates) <= MAX_CANDIDATE_BUTTONS:
            elements = [
                button(c["label"], f"pick_candidate_{i}", f"{choice}:{i}")
                for i, c in enumerate(candidates)
            ]
        else:
            elements = [
                {
                    "type": "static_select",
                    "action_id": "pick_candidate_menu",
                    "placeholder": {"type": "plain_text", "text": "Did you mean…"},
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": cut(c["label"], 75)},
                            "value": f"{choice}:{i}",
                        }
                        for i, c in enumerate(candidates[:MAX_MENU_OPTIONS])
                    ],
                }
            ]
        blocks.append({"type": "actions", "block_id": "candidates", "elements": elements})
    elif candidates:
        blocks.append(list_section("Did you mean", [c["label"] for c in candidates]))
    blocks.append(context(f"Error code `{code}` · `/clearance help` shows the question forms"))
    return message(f"Can't answer: {escape(text)}", blocks)


def render_failure(error_id: str) -> Payload:
    """Return the message for an unexpected failure (details are in the server log)."""
    text = (
        f"Sorry, something went wrong on our side. Nothing was changed. "
        f"Please try again; if it keeps happening, give an admin the error id `{error_id}`."
    )
    return message(text, [section(text)])


def render_notice(text: str) -> Payload:
    """Return a one-section message (text already safe for mrkdwn)."""
    return message(text, [section(text)])
