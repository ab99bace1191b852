"""Next buttons: the following page of `rules` and `audit`, in place of the current one."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import BotError
from handlers.deps import Deps, guarded
from handlers.lookups import audit_page, rules_page
from handlers.render.blocks import Payload
from handlers.render.notices import render_notice
from storage.choices import load_choice


def _page(deps: Deps, value: str, kind: str) -> tuple[str, dict[str, Any], int]:
    """Return the stored query of a Next button ("<choice>:<offset>") and the offset."""
    pager, _, offset = value.rpartition(":")
    data = load_choice(deps.engine, pager) if offset.isdigit() else None
    if data is None or data.get("kind") != kind:
        raise BotError("That list is no longer available; run the command again.")
    return pager, data, int(offset)


def register(app: App, deps: Deps) -> None:
    """Register the Next buttons."""

    @app.action("page_rules")
    def handle_rules(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()

        def page() -> Payload:
            pager, data, offset = _page(deps, action.get("value") or "", "rules")
            return rules_page(deps, str(data.get("q") or ""), offset=offset, pager=pager)

        deps.later(
            lambda: respond(**guarded(page), response_type="ephemeral", replace_original=True),
            respond=respond,
        )

    @app.action("page_audit")
    def handle_audit(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        user = body["user"]["id"]

        def page() -> Payload:
            if not deps.is_admin(user, client):
                deps.record_admin_action(user_id=user, action="audit", target=None, allowed=False)
                return render_notice("Sorry, the audit log is for compliance admins only.")
            pager, data, offset = _page(deps, action.get("value") or "", "audit")
            return audit_page(deps, data, offset=offset, pager=pager)

        deps.later(
            lambda: respond(**guarded(page), response_type="ephemeral", replace_original=True),
            respond=respond,
        )
