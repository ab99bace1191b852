"""`/clearance`: subcommands (`handlers.subcommands`) and questions. Ack first, with the answer."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.held_answers import HELD_ANSWER
from handlers.deps import WORKING, Deps, answer_in_ack
from handlers.render.blocks import escape
from handlers.subcommands import Invocation, help_message, match, run, run_after_ack


def register(app: App, deps: Deps) -> None:
    """Register the slash command."""

    @app.command("/clearance")
    def handle_clearance(
        ack: Ack,
        command: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        text = " ".join((command.get("text") or "").split())
        user = command["user_id"]
        if not text:
            ack(**help_message(admin=deps.is_admin(user, client)))
            return
        found = match(text)
        if found is not None:
            sub, rest = found
            inv = Invocation(
                deps,
                client,
                user=user,
                channel=command["channel_id"],
                text=rest,
                trigger_id=command.get("trigger_id") or "",
            )
            if sub.after_ack:
                ack()
                deps.later(lambda: run_after_ack(sub, inv, respond), respond=respond)
            else:
                ack(**run(sub, inv))
            return
        if " " not in text:
            ack(
                **help_message(
                    admin=deps.is_admin(user, client),
                    note=f"I don't know the command `{escape(text)}`. Here is what I can do:",
                )
            )
            return
        held = context.get(HELD_ANSWER)
        payload = answer_in_ack(
            deps,
            text,
            actor=user,
            on_late=lambda p: respond(**p, response_type="ephemeral", replace_original=False),
            held=held,
        )
        if held is not None and held.committed is not None:
            ack()  # HTTP mode's front sends the held answer once its decision is committed
        elif payload is None:
            ack(text=WORKING, response_type="ephemeral")
        else:
            # As one dict: Bolt's ack(blocks=, attachments=) keeps only the attachments.
            ack({**payload, "response_type": "ephemeral"})
