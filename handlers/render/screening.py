"""Pure renderers for screening: `/clearance screen` results, the decision modal, open hits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

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
    message,
    section,
)
from storage.tables.screening import ScreeningHit

MAX_HITS = 10
MAX_WHY = 2000


def hit_ref(customer: str, hit: dict[str, Any]) -> str:
    """A button value: whose hit on which entry of which list."""
    return json.dumps({"c": customer, "l": hit["list"], "e": hit["entry_id"]})


def render_screen(result: dict[str, Any], *, customer: str, admin: bool) -> Payload:
    """The result of `/clearance screen NAME`, with Confirm and Dismiss for admins."""
    query = escape(result["query"])
    if not result["lists"]:
        return message(
            f"{result['query']}: not screened",
            [section(f"*{query}*: not screened. No restricted-party list is loaded.")],
        )
    versions = ", ".join(f"{x['name']} (version of {x['version']})" for x in result["lists"])
    matches = result["matches"]
    if not matches:
        return message(
            f"{result['query']}: no hits",
            [section(f"*{query}*: no hits on {escape(versions)}.")],
        )
    blocks: list[Block] = [
        header(cut(f"Screening: {result['query']}", 150)),
        context(escape(f"Screened against {versions}")),
    ]
    for m in matches[:MAX_HITS]:
        programs = ", ".join(m["programs"]) or "no program"
        link = f" · <{m['url']}|entry>" if m.get("url") else ""
        text = (
            f"*{escape(m['strength'])}* {m['score']:.2f} · {escape(m['list_code'])} "
            f"`{escape(m['entry_id'])}` *{escape(m['name'])}*\n"
            f"matched '{escape(m['matched_name'])}' · {escape(programs)}{link}"
        )
        if m.get("citation"):
            text += f" · {escape(m['citation'])}"
        blocks.append(section(cut(text, 3000)))
        if admin:
            ref = hit_ref(customer, m)
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        button("Confirm", "screen_confirm", ref, style="danger"),
                        button("Dismiss", "screen_dismiss", ref),
                    ],
                }
            )
    if len(matches) > MAX_HITS:
        blocks.append(context(f"…and {len(matches) - MAX_HITS} more hits"))
    return message(f"{result['query']}: {len(matches)} hit(s)", blocks)


def decision_modal(
    decision: str, ref: dict[str, str], *, response_url: str | None
) -> dict[str, Any]:
    """The modal where an admin says why a hit is confirmed or dismissed."""
    verb = "Confirm" if decision == "confirm" else "Dismiss"
    return {
        "type": "modal",
        "callback_id": "screen_decision",
        "private_metadata": json.dumps({**ref, "d": decision, "r": response_url}),
        "title": {"type": "plain_text", "text": f"{verb} hit"},
        "submit": {"type": "plain_text", "text": verb},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                cut(
                    f"{verb} list entry `{escape(ref['e'])}` ({escape(ref['l'])}) for "
                    f"*{escape(ref['c'])}*. The decision is audited with your name and reason"
                    + (
                        "; a dismissal holds until the entry changes."
                        if decision == "dismiss"
                        else "."
                    ),
                    3000,
                )
            ),
            {
                "type": "input",
                "block_id": "why_block",
                "label": {"type": "plain_text", "text": "Why"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "why",
                    "multiline": True,
                    "max_length": MAX_WHY,
                },
            },
        ],
    }


def render_decided(decision: str, ref: dict[str, str], *, user: str, why: str) -> Payload:
    """What replaces a screening message once an admin has decided on a hit."""
    done = "confirmed" if decision == "confirm" else "dismissed"
    text = f"{ref['c']}: hit on {ref['l']} entry {ref['e']} {done} by <@{user}>: {why}"
    return message(
        cut(text, 3000),
        [section(cut(escape(text).replace("&lt;@", "<@").replace("&gt;:", ">:"), 3000))],
    )


def open_hit_blocks(hits: Sequence[ScreeningHit]) -> list[Block]:
    """App Home: the open hits on registered customers and their owners."""
    blocks: list[Block] = [{"type": "divider"}, section("*Open screening hits*")]
    if not hits:
        blocks.append(context("No open hits on registered customers or their owners."))
        return blocks
    for h in hits[:MAX_HITS]:
        owner = "" if h.party_id == h.customer_id else f" (owner {escape(h.party_id)})"
        blocks.append(
            section(
                cut(
                    f"*{escape(h.customer_id)}*{owner}: {escape(h.strength)} {h.score:.2f} on "
                    f"{escape(h.list_id)} `{escape(h.entry_key)}` {escape(h.entry_name)}",
                    3000,
                )
            )
        )
    if len(hits) > MAX_HITS:
        blocks.append(context(f"…and {len(hits) - MAX_HITS} more (`clearance screen customers`)"))
    return blocks


def with_open_hits(view: dict[str, Any], hits: Sequence[ScreeningHit]) -> dict[str, Any]:
    """The App Home view with the open hits appended (within the view's block limit)."""
    return {
        **view,
        "blocks": fit([*view["blocks"], *open_hit_blocks(hits)], max_blocks=MAX_VIEW_BLOCKS),
    }
