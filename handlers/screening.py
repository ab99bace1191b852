"""Slack glue for screening: `/clearance screen NAME`, Confirm and Dismiss with a reason modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.domain.errors import BotError
from bot.services.screening_answers import screen_json
from bot.services.screening_cache import screening_cache
from bot.services.subject_screening import decision_key
from handlers.deps import Deps, bind
from handlers.render.blocks import Payload
from handlers.render.screening import decision_modal, render_decided, render_screen
from storage.db import session_scope
from storage.list_entries import find_entry
from storage.screening_decisions import record_decision

MAX_NAME = 300


def _state(deps: Deps) -> Any:
    if deps.cache.screening is None:
        deps.cache.screening = screening_cache(
            deps.engine, ttl_s=deps.cache.ttl_s, settings=deps.settings
        )
    return deps.cache.screening.get()


def screen_payload(deps: Deps, client: WebClient, name: str, user: str) -> Payload:
    """`/clearance screen NAME`: the hits, with buttons for admins."""
    name = name.strip()
    if not name:
        raise BotError("Say whom to screen: `/clearance screen Nimbus Pte Ltd`.")
    if len(name) > MAX_NAME:
        raise BotError(f"A name is at most {MAX_NAME} characters.")
    kb = deps.cache.get()
    customer = kb.customers.find(name)
    hq = customer.hq if customer is not None else None
    result = screen_json(_state(deps), customer.name if customer else name, hq=hq, kind="org")
    return render_screen(
        result, customer=decision_key(customer, name), admin=deps.is_admin(user, client)
    )


def _open_decision_modal(
    deps: Deps,
    decision: str,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
) -> None:
    """Open the reason modal to confirm or dismiss a hit, for admins; refuse and audit others."""
    ack()
    user = body["user"]["id"]
    ref = json.loads(action["value"])

    def work() -> None:
        if not deps.is_admin(user, client):
            deps.record_admin_action(
                user_id=user, action=f"screen {decision}", target=action["value"], allowed=False
            )
            respond(
                text="Sorry, only compliance admins can confirm or dismiss hits.",
                replace_original=False,
                response_type="ephemeral",
            )
            return
        client.views_open(
            trigger_id=body["trigger_id"],
            view=decision_modal(decision, ref, response_url=body.get("response_url")),
        )

    deps.later(work, respond=respond)


def confirm_hit(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
) -> None:
    """A hit's Confirm button: ask why, in the reason modal."""
    _open_decision_modal(deps, "confirm", ack, body, action, client, respond)


def dismiss_hit(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
) -> None:
    """A hit's Dismiss button: ask why, in the reason modal."""
    _open_decision_modal(deps, "dismiss", ack, body, action, client, respond)


def decide_hit(
    deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """The reason modal's submission: record the decision, audit it and update the hit's message."""
    user = body["user"]["id"]
    if deps.refuses_submission(
        ack,
        client,
        user=user,
        block="why_block",
        message="Only compliance admins can decide on hits.",
        action="screening decision",
        target=str(view.get("private_metadata") or "")[:200] or None,
    ):
        return
    meta = json.loads(view["private_metadata"])
    why = (view["state"]["values"]["why_block"]["why"].get("value") or "").strip()
    if not why:
        ack(response_action="errors", errors={"why_block": "Say why: the reason is audited."})
        return
    try:
        with session_scope(deps.engine) as session:
            list_id, entry = find_entry(session, meta["l"], meta["e"])
        record_decision(
            deps.engine,
            customer_id=meta["c"],
            list_id=list_id,
            entry=entry,
            decision=meta["d"],
            actor=user,
            reason=why,
            now=deps.clock(),
        )
    except BotError as exc:
        ack(response_action="errors", errors={"why_block": exc.message})
        return
    ack()
    ref = {"c": meta["c"], "l": meta["l"], "e": meta["e"]}

    def record_and_update() -> None:
        deps.record_admin_action(
            user_id=user,
            action=f"screen {meta['d']}",
            target=json.dumps(ref),
            allowed=True,
            reason=why,
        )
        if meta.get("r"):
            payload = render_decided(meta["d"], ref, user=user, why=why)
            WebhookClient(meta["r"]).send(
                text=payload["text"], blocks=payload["blocks"], replace_original=True
            )

    deps.later(record_and_update)


def register(app: App, deps: Deps) -> None:
    """Register the Confirm and Dismiss buttons and the reason modal."""
    app.action("screen_confirm")(bind(confirm_hit, deps))
    app.action("screen_dismiss")(bind(dismiss_hit, deps))
    app.view("screen_decision")(bind(decide_hit, deps))
