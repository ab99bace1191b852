"""The admin editor's modals: add, edit or retire a rule, add or edit a customer, as YAML."""

from __future__ import annotations

from typing import Any

import yaml
from slack_sdk import WebClient

from bot.domain.errors import BotError
from bot.services.customer_lookup import registered_customer
from handlers.deps import Deps
from handlers.render.modals import MAX_INPUT, edit_modal, retire_modal

KINDS = {"rule": "rules", "customer": "customers"}

RULE_TEMPLATE = """id: my-rule
effect: review
title: What this rule does
models: {vendors: [anthropic]}
places: {in: [DE]}
citation: "Source document"
url: "https://example.com/source"
explanation: "Why it applies"
"""
CUSTOMER_TEMPLATE = """id: acme-gmbh
name: Acme GmbH
aliases: [Acme]
hq: DE
tags: []
owners: []
uses: [{model: claude-sonnet-4-5, country: DE}]
"""
HINTS = {
    "rules": "Fields: id, effect (allow, review, license_required, deny), title, models, "
    "places, customer, access, effective_from, effective_to, citation, url, explanation.",
    "customers": "Fields: id, name, aliases, hq, tags, owners [{owner, share}], "
    "uses [{model, country}].",
}


def _dump(entity: Any, *, leave_out: tuple[str, ...] = ()) -> str:
    data = {k: v for k, v in entity.to_dict().items() if k not in leave_out}
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=90))


# A customer too large for one Slack text input is edited without these parts, which are
# kept as they are on save; they change through `clearance customers import`.
KEPT_PARTS = ("uses",)
TOO_LARGE = (
    "{name} is too large to edit in Slack ({size:,} characters; a Slack text box holds "
    "{limit:,}). Nothing was changed. Write it out with `clearance rules export`, edit the "
    "entry, and apply it with `clearance {kind} import FILE`."
)


def open_editor(
    deps: Deps, client: WebClient, *, kind: str, action: str, target: str, trigger_id: str
) -> None:
    """Open the modal for `rule add|edit|retire` or `customer add|edit` (the caller checks admin)."""
    client.views_open(
        trigger_id=trigger_id, view=_editor_view(deps, kind=kind, action=action, target=target)
    )


def _editor_view(deps: Deps, *, kind: str, action: str, target: str) -> dict[str, Any]:
    kb = deps.cache.get()
    plural = KINDS[kind]
    if action == "add":
        template = RULE_TEMPLATE if kind == "rule" else CUSTOMER_TEMPLATE
        return edit_modal(
            callback_id="edit_entity",
            title=f"Add {kind}",
            yaml_text=template,
            hint=HINTS[plural],
            metadata={"kind": plural, "mode": "add"},
        )
    if not target:
        raise BotError(f"Say which {kind}: `/clearance {kind} {action} ID`.")
    if kind == "rule":
        rule = kb.table.rules.get(target)
        if rule is None:
            raise BotError(f"No rule with id '{target}'.")
        if action == "retire":
            return retire_modal(rule)
        entity: Any = rule
    else:
        entity = registered_customer(kb, target)
        if entity is None:
            raise BotError(f"No registered customer called '{target}'.")
    text = _dump(entity)
    metadata: dict[str, Any] = {"kind": plural, "mode": "edit", "id": entity.id}
    note = None
    if len(text) > MAX_INPUT and kind == "customer":
        text = _dump(entity, leave_out=KEPT_PARTS)
        metadata["keep"] = list(KEPT_PARTS)
        note = (
            f"{len(entity.uses):,} recorded usages are not shown and are kept as they are. "
            "Change them with `clearance customers import`."
        )
    if len(text) > MAX_INPUT:
        raise BotError(
            TOO_LARGE.format(name=entity.id, size=len(text), limit=MAX_INPUT, kind=plural)
        )
    return edit_modal(
        callback_id="edit_entity",
        title=f"Edit {kind} {entity.id}",
        yaml_text=text,
        hint=HINTS[plural],
        metadata=metadata,
        note=note,
    )
