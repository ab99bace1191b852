"""The Ask modal, its type-ahead options, and the subscribe modal (pure renderers)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from handlers.render.blocks import cut

ASK_CALLBACK = "ask_modal"
SUBSCRIBE_CALLBACK = "subscribe_modal"
MAX_OPTIONS = 100  # Slack's limit for an options response
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
ACCESS_KINDS = {"api": "API", "hosted": "Hosted (a cloud provider)", "weights": "Model weights"}
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, MAX_OPTION_TEXT)}


def option(label: str, value: str) -> dict[str, Any]:
    """Return one select option within Slack's limits."""
    return {"text": _text(label), "value": value[:MAX_OPTION_VALUE]}


def options_response(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Return the answer to an options request: at most 100 (label, value) pairs."""
    out = []
    for label, value in pairs:
        out.append(option(label, value))
        if len(out) == MAX_OPTIONS:
            break
    return {"options": out}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _external(action_id: str, placeholder: str) -> dict[str, Any]:
    return {
        "type": "external_select",
        "action_id": action_id,
        "min_query_length": 1,
        "placeholder": {"type": "plain_text", "text": placeholder},
    }


def ask_modal(*, today: str) -> dict[str, Any]:
    """Return the Ask modal: customer, country and model pickers, access kind and date."""
    return {
        "type": "modal",
        "callback_id": ASK_CALLBACK,
        "title": {"type": "plain_text", "text": "Ask Clearance"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(
                "customer_block",
                "Registered customer (leave empty for anyone in the country)",
                _external("customer", "Type a customer name"),
                optional=True,
            ),
            _input(
                "country_block", "Country", _external("country", "Type a country"), optional=False
            ),
            _input("model_block", "Model", _external("model", "Type a model"), optional=False),
            _input(
                "access_block",
                "Access",
                {
                    "type": "static_select",
                    "action_id": "access",
                    "initial_option": option(ACCESS_KINDS["api"], "api"),
                    "options": [option(label, value) for value, label in ACCESS_KINDS.items()],
                },
                optional=False,
            ),
            _input(
                "as_of_block",
                "As of",
                {"type": "datepicker", "action_id": "as_of", "initial_date": today},
                optional=True,
            ),
        ],
    }


def ask_question(values: dict[str, Any]) -> str:
    """Return the question an Ask submission stands for, in the key=value form."""

    def picked(block: str, action: str) -> str | None:
        state = values.get(block, {}).get(action, {})
        chosen = state.get("selected_option") or {}
        return chosen.get("value") or state.get("selected_date") or None

    parts = []
    customer = picked("customer_block", "customer")
    if customer:
        parts.append(f"customer={json.dumps(customer)}")
    parts.append(f"country={picked('country_block', 'country') or ''}")
    parts.append(f"model={picked('model_block', 'model') or ''}")
    parts.append(f"access={picked('access_block', 'access') or 'api'}")
    as_of = picked("as_of_block", "as_of")
    if as_of:
        parts.append(f"as_of={as_of}")
    return " ".join(parts)


def subscribe_modal(
    *, channel: str | None, sources: list[tuple[str, str]], tags: list[str]
) -> dict[str, Any]:
    """Return the subscribe modal: channel, sources or tags, schedule, time and time zone."""
    choices = [option(f"Tag: {t}", f"tag:{t}") for t in tags] + [
        option(name, f"source:{sid}") for sid, name in sources
    ]
    channel_select: dict[str, Any] = {"type": "conversations_select", "action_id": "channel"}
    if channel:
        channel_select["initial_conversation"] = channel
    blocks = [
        _input("channel_block", "Channel", channel_select, optional=False),
        _input(
            "sources_block",
            "Sources or tags (none: every source)",
            {
                "type": "multi_static_select",
                "action_id": "sources",
                "options": choices[:MAX_OPTIONS] or [option("Every source", "all")],
            },
            optional=True,
        ),
        _input(
            "schedule_block",
            "Digest",
            {
                "type": "static_select",
                "action_id": "schedule",
                "initial_option": option("Daily", "daily"),
                "options": [option("Daily", "daily")]
                + [option(f"Weekly on {d.title()}", f"weekly {d}") for d in DAYS],
            },
            optional=False,
        ),
        _input(
            "time_block",
            "At",
            {"type": "timepicker", "action_id": "time", "initial_time": "09:00"},
            optional=False,
        ),
        _input(
            "tz_block",
            "Time zone (IANA name, e.g. Europe/Berlin)",
            {"type": "plain_text_input", "action_id": "tz", "initial_value": "UTC"},
            optional=False,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": SUBSCRIBE_CALLBACK,
        "title": {"type": "plain_text", "text": "Subscribe a channel"},
        "submit": {"type": "plain_text", "text": "Subscribe"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def subscribe_arguments(values: dict[str, Any]) -> tuple[str, str]:
    """Return the channel and the `/clearance subscribe` arguments a submission stands for."""
    channel = values["channel_block"]["channel"].get("selected_conversation") or ""
    picked = values.get("sources_block", {}).get("sources", {}).get("selected_options") or []
    refs = []
    for chosen in picked:
        value = chosen["value"]
        if value.startswith("tag:"):
            refs.append(value[4:])
        elif value.startswith("source:"):
            refs.append(value[7:])  # a source id
    schedule = values["schedule_block"]["schedule"]["selected_option"]["value"]
    time = values["time_block"]["time"].get("selected_time") or "09:00"
    tz = (values["tz_block"]["tz"].get("value") or "UTC").strip()
    quoted = " ".join(json.dumps(r) for r in refs)
    return channel, f"{quoted} {schedule} {time} {tz}".strip()
