"""The answer card's buttons: share, show the rules, pick a candidate; help and its examples."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from handlers.deps import Deps, answer_payload, bind, display_names, guarded
from handlers.render.answer_card import render_answer
from handlers.render.blocks import Payload, escape
from handlers.render.help import EXAMPLES
from handlers.render.modals import info_modal
from handlers.render.notices import render_notice
from handlers.render.reasons import render_rules_detail
from handlers.subcommands import help_message
from storage.choices import load_choice
from storage.db import session_scope
from storage.tables.audit import Decision

PICK_CANDIDATE = re.compile(r"^pick_candidate_(\d+|menu)$")


def stored_answer(deps: Deps, decision_id: str) -> dict[str, Any]:
    """Return an audited answer the workspace may see, or raise that it is no longer available."""
    with session_scope(deps.engine) as session:
        row = session.get(Decision, decision_id)
    if row is None or row.answer is None or not deps.may_see(row):
        raise BotError("That answer is no longer available; please ask again.")
    return row.answer


def _substitute(question: str, phrase: str | None, value: str) -> str:
    """Put the picked candidate in place of the phrase that could not be resolved."""
    if phrase and phrase.lower() in question.lower():
        start = question.lower().rindex(phrase.lower())
        return question[:start] + value + question[start + len(phrase) :]
    return question


def _picked_question(deps: Deps, value: str) -> str:
    """Return the question with the picked candidate, from a stored choice "<id>:<index>"."""
    if value.startswith("{"):  # a button posted before values were stored server-side
        try:
            data = json.loads(value)
            return _substitute(data["q"], data.get("phrase"), data["value"])
        except (ValueError, KeyError, TypeError):
            raise BotError("That suggestion is no longer available; please ask again.") from None
    choice_id, _, index = value.rpartition(":")
    data = load_choice(deps.engine, choice_id) if index.isdigit() else None
    if data is None or int(index) >= len(data.get("values") or ()):
        raise BotError("That suggestion is no longer available; please ask again.")
    return _substitute(data["q"], data.get("phrase"), data["values"][int(index)])


def share_answer(
    deps: Deps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    """Share: post the card in the channel, without buttons, saying who shared it."""
    ack()

    def share() -> None:
        try:
            answer = stored_answer(deps, action["value"])
            card = render_answer(
                answer,
                buttons=False,
                shared_by=body["user"]["id"],
                names=display_names(deps, answer),
            )
        except BotError as exc:
            respond(
                **render_notice(escape(exc.message)),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        respond(**card, response_type="in_channel", replace_original=False)

    deps.later(share, respond=respond)


def show_rules(deps: Deps, ack: Ack, action: dict[str, Any], respond: Respond) -> None:
    """Show rules: list the rules behind an answer, to the clicker only."""
    ack()
    deps.later(
        lambda: respond(
            **guarded(lambda: render_rules_detail(stored_answer(deps, action["value"]))),
            response_type="ephemeral",
            replace_original=False,
        ),
        respond=respond,
    )


def pick_candidate(
    deps: Deps, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
) -> None:
    """A "did you mean" button or menu: answer the question with the pick, in place."""
    ack()
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""

    def pick() -> Payload:
        question = _picked_question(deps, value)
        return answer_payload(deps, question, actor=body["user"]["id"])

    deps.later(
        lambda: respond(**guarded(pick), response_type="ephemeral", replace_original=True),
        respond=respond,
    )


def show_help(deps: Deps, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """The App Home's Help: open the help in a modal, with admin commands for admins."""
    ack()
    user = body["user"]["id"]
    deps.later(
        lambda: client.views_open(
            trigger_id=body["trigger_id"],
            view=info_modal("Clearance help", help_message(admin=deps.is_admin(user, client))),
        )
    )


def answer_example(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """A help example's button: answer it where it was clicked, or in a DM from the modal."""
    ack()
    index = int(action["value"]) if str(action.get("value", "")).isdigit() else -1
    user = body["user"]["id"]

    def example() -> Payload:
        if not 0 <= index < len(EXAMPLES):
            raise BotError("That example is no longer offered; see `/clearance help`.")
        return answer_payload(deps, EXAMPLES[index], actor=user)

    if body.get("response_url"):
        deps.later(
            lambda: respond(**guarded(example), response_type="ephemeral", replace_original=False),
            respond=respond,
        )
    else:  # from the help modal: answer in a DM
        deps.later(lambda: client.chat_postMessage(channel=user, **guarded(example)))


def register(app: App, deps: Deps) -> None:
    """Register the answer card's buttons and the help's."""
    app.action("share_answer")(bind(share_answer, deps))
    app.action("show_rules")(bind(show_rules, deps))
    app.action(PICK_CANDIDATE)(bind(pick_candidate, deps))
    app.action("home_help")(bind(show_help, deps))
    app.action("help_example")(bind(answer_example, deps))
