"""Asking without the grammar: the Ask modal, the message shortcut, subscribe modal, unfurls."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from bot.domain.names.places import normalize_place
from handlers import tracking
from handlers.deps import Deps, answer_payload, bind, display_names, guarded
from handlers.events import question_of
from handlers.render.answer_card import render_answer
from handlers.render.ask import (
    ASK_CALLBACK,
    SUBSCRIBE_CALLBACK,
    ask_modal,
    ask_question,
    options_response,
    subscribe_arguments,
    subscribe_modal,
)
from handlers.render.colours import card_blocks, verdict_colour
from handlers.render.modals import info_modal
from handlers.render.notices import render_notice
from handlers.subcommands import BY_NAME, Invocation, refusal
from storage.db import session_scope
from storage.policies import polled_sources
from storage.tables.audit import Decision

log = logging.getLogger("clearance.shortcuts")
ASK_SHORTCUT = "ask_clearance"
CHECK_SHORTCUT = "check_with_clearance"
# A Clearance link: <public URL>/decisions/<decision id>.
DECISION_LINK = re.compile(r"/decisions/([0-9a-f]{8,40})/?$")


def open_ask_from_shortcut(
    deps: Deps, ack: Ack, shortcut: dict[str, Any], client: WebClient
) -> None:
    """The Ask Clearance shortcut: open the Ask modal."""
    ack()
    # The trigger id lives about 3 s: the modal opens now, not after other work.
    client.views_open(
        trigger_id=shortcut["trigger_id"], view=ask_modal(today=deps.clock().date().isoformat())
    )


def open_ask_from_home(deps: Deps, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """The App Home's Ask: open the Ask modal."""
    ack()
    client.views_open(
        trigger_id=body["trigger_id"], view=ask_modal(today=deps.clock().date().isoformat())
    )


def offer_customers(deps: Deps, ack: Ack, payload: dict[str, Any]) -> None:
    """The Ask modal's customer menu: registered customers matching the typed text."""
    ack(**options_response(customer_options(deps, payload.get("value") or "")))


def offer_countries(deps: Deps, ack: Ack, payload: dict[str, Any]) -> None:
    """The Ask modal's place menu: countries and regions matching the typed text."""
    ack(**options_response(country_options(deps, payload.get("value") or "")))


def offer_models(deps: Deps, ack: Ack, payload: dict[str, Any]) -> None:
    """The Ask modal's model menu: models matching the typed text."""
    ack(**options_response(model_options(deps, payload.get("value") or "")))


def answer_asked(
    deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """The Ask modal's submission: answer in the asker's DM with the app."""
    ack()
    user = body["user"]["id"]
    question = ask_question(view["state"]["values"])
    # A modal has no response_url: the answer goes to the asker's DM with the app.
    deps.later(
        lambda: client.chat_postMessage(
            channel=user, **guarded(lambda: answer_payload(deps, question, actor=user))
        )
    )


def check_message(deps: Deps, ack: Ack, shortcut: dict[str, Any], respond: Respond) -> None:
    """The Check with Clearance message shortcut: answer the message's question, to the clicker."""
    ack()
    text = question_of((shortcut.get("message") or {}).get("text") or "")
    user = shortcut["user"]["id"]

    def answer() -> dict[str, Any]:
        if not text:
            raise BotError("That message has no text to check.")
        return answer_payload(deps, text, actor=user, share=False)

    deps.later(
        lambda: respond(**guarded(answer), response_type="ephemeral", replace_original=False),
        respond=respond,
    )


def open_subscribe(deps: Deps, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """The App Home's Subscribe: open the subscribe modal."""
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=subscribe_view(deps, None))


def subscribe(
    deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """The subscribe modal's submission: subscribe the channel, as `/clearance subscribe` does."""
    user = body["user"]["id"]
    channel, rest = subscribe_arguments(view["state"]["values"])
    refused = refusal(BY_NAME["subscribe"], Invocation(deps, client, user=user, channel=channel))
    if refused is not None:
        ack(response_action="errors", errors={"channel_block": refused["text"]})
        return
    try:
        payload = tracking.subscribe_channel(deps, rest, user=user, channel=channel)
    except BotError as exc:
        ack(response_action="errors", errors={"schedule_block": exc.message[:1900]})
        return
    ack()
    deps.later(lambda: client.chat_postMessage(channel=user, **payload))


def open_decision(
    deps: Deps, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
) -> None:
    """An answer's Open button: show the answer in a modal, to its asker or an admin."""
    ack()
    with session_scope(deps.engine) as session:
        row = session.get(Decision, str(action.get("value") or ""))
    user = body["user"]["id"]
    if (
        row is None
        or row.answer is None
        or not deps.may_see(row)
        or (row.actor != user and not deps.is_admin(user, client))
    ):
        payload = render_notice("That answer is not available to you.")
    else:
        payload = render_answer(row.answer, buttons=False, names=display_names(deps, row.answer))
    client.views_open(trigger_id=body["trigger_id"], view=info_modal("Answer", payload))


def unfurl_links(deps: Deps, event: dict[str, Any], client: WebClient) -> None:
    """A Clearance link posted in a channel: unfurl it after the ack."""
    deps.later(lambda: unfurl(deps, client, event))


def register(app: App, deps: Deps) -> None:
    """Register the shortcuts, the modals' submissions, their options and link unfurls."""
    app.shortcut(ASK_SHORTCUT)(bind(open_ask_from_shortcut, deps))
    app.action("home_ask")(bind(open_ask_from_home, deps))
    app.options("customer")(bind(offer_customers, deps))
    app.options("country")(bind(offer_countries, deps))
    app.options("model")(bind(offer_models, deps))
    app.view(ASK_CALLBACK)(bind(answer_asked, deps))
    app.shortcut(CHECK_SHORTCUT)(bind(check_message, deps))
    app.action("home_subscribe")(bind(open_subscribe, deps))
    app.view(SUBSCRIBE_CALLBACK)(bind(subscribe, deps))
    app.action("open_decision")(bind(open_decision, deps))
    app.event("link_shared")(bind(unfurl_links, deps))


def subscribe_view(deps: Deps, channel: str | None) -> dict[str, Any]:
    """Return the subscribe modal with the tracked sources and their tags."""
    with session_scope(deps.engine) as session:
        sources = polled_sources(session=session)
    tags = sorted({t for s in sources for t in s.tags})
    return subscribe_modal(
        channel=channel, sources=[(str(s.id), s.name) for s in sources], tags=tags
    )


def customer_options(deps: Deps, query: str) -> list[tuple[str, str]]:
    """Return registered customers whose name, alias or id contains the typed text."""
    needle = query.strip().lower()
    if not needle:
        return []
    out = []
    for c in deps.cache.get().table.customers.values():
        if any(needle in n.lower() for n in (c.id, c.name, *c.aliases)):
            out.append((f"{c.name} ({c.hq})", c.id))
            if len(out) == 100:
                break
    return sorted(out)


def country_options(deps: Deps, query: str) -> list[tuple[str, str]]:
    """Return countries and regions whose name, alias or code matches the typed text."""
    needle = normalize_place(query)
    if not needle:
        return []
    places = deps.cache.get().places.places.values()
    hits = [
        p
        for p in places
        if needle == normalize_place(p.code)
        or any(needle in normalize_place(n) for n in (p.name, *p.aliases))
    ]
    hits.sort(
        key=lambda p: (p.kind != "country", not normalize_place(p.name).startswith(needle), p.name)
    )
    return [(f"{p.name} ({p.code})", p.code) for p in hits[:100]]


def model_options(deps: Deps, query: str) -> list[tuple[str, str]]:
    """Return models whose name or id contains the typed text."""
    needle = query.strip().lower()
    models = deps.cache.get().table.models.values()
    hits = [m for m in models if needle in m.id.lower() or needle in m.name.lower()]
    return [(m.name or m.id, m.id) for m in sorted(hits, key=lambda m: m.name or m.id)[:100]]


def unfurl(deps: Deps, client: WebClient, event: dict[str, Any]) -> None:
    """Unfurl Clearance links (<CLEARANCE_PUBLIC_URL>/decisions/<id>) to their answer cards."""
    base = (deps.settings.public_url or "").rstrip("/")
    unfurls: dict[str, Any] = {}
    for link in event.get("links") or ():
        url = str(link.get("url") or "")
        match = DECISION_LINK.search(url)
        if not base or not url.startswith(base + "/") or match is None:
            continue
        with session_scope(deps.engine) as session:
            row = session.get(Decision, match.group(1))
        if row is None or row.answer is None or not deps.may_see(row):
            continue
        card = render_answer(row.answer, buttons=False, names=display_names(deps, row.answer))
        # An unfurl is an attachment: the card's colour bar and all its blocks.
        unfurls[url] = {
            "color": verdict_colour(row.answer.get("verdict")),
            "blocks": card_blocks(card),
        }
    if unfurls:
        client.chat_unfurl(
            channel=event["channel"], ts=event.get("message_ts") or event["ts"], unfurls=unfurls
        )
