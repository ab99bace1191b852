"""`/clearance`: questions and subcommands. Ack first (with the answer when it is ready)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.asking.customer_names import CustomerIndex
from bot.domain.asking.profiles import profile_customer
from bot.domain.errors import BotError
from handlers import admin, policy, workspace_settings
from handlers.deps import Deps, answer_in_ack, guarded
from handlers.render.blocks import Payload, escape, render_help, render_notice
from handlers.render.views import (
    MAX_LIST,
    render_audit,
    render_customer,
    render_revisions,
    render_rule,
    render_rule_list,
)
from storage.choices import store_choice
from storage.db import session_scope
from storage.decisions import list_decisions
from storage.reviews import reviews_of
from storage.rules import list_revisions

SUBCOMMANDS = {"help", "customer", "rules", "rule", "revisions", "audit", "screen"}
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")


def register(app: App, deps: Deps) -> None:
    """Register the slash command."""

    @app.command("/clearance")
    def handle_clearance(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        text = " ".join((command.get("text") or "").split())
        user = command["user_id"]
        word, _, rest = text.partition(" ")
        word = word.lower()
        if word in ("rule", "customer") and rest.split(" ")[0].lower() in admin.ACTIONS[word]:
            ack()
            deps.later(
                lambda: admin.open_editor(
                    deps,
                    client,
                    respond,
                    kind=word,
                    text=rest,
                    user=user,
                    trigger_id=command["trigger_id"],
                ),
                respond=respond,
            )
            return
        if not text or word == "help":
            ack(**render_help(admin=deps.is_admin(user, client)))
            return
        if word in SUBCOMMANDS and "=" not in text:
            ack(**guarded(lambda: subcommand(deps, client, word, rest, user)))
            return
        if word in workspace_settings.SUBCOMMANDS:
            ack(**guarded(lambda: workspace_settings.subcommand(deps, client, rest, user=user)))
            return
        if word in policy.SUBCOMMANDS:
            ack(
                **guarded(
                    lambda: policy.subcommand(
                        deps, client, word, rest, user=user, channel=command["channel_id"]
                    )
                )
            )
            return
        if " " not in text:
            ack(
                **render_help(
                    f"I don't know the command `{escape(text)}`. Here is what I can do:",
                    admin=deps.is_admin(user, client),
                )
            )
            return
        payload = answer_in_ack(
            deps,
            text,
            actor=user,
            on_late=lambda p: respond(**p, response_type="ephemeral", replace_original=False),
        )
        if payload is None:
            ack(text="Working on it…", response_type="ephemeral")
        else:
            # As one dict: Bolt's ack(blocks=, attachments=) keeps only the attachments.
            ack({**payload, "response_type": "ephemeral"})


def subcommand(deps: Deps, client: WebClient, word: str, rest: str, user: str) -> Payload:
    """Run a read-only subcommand and return its message."""
    if word == "screen":
        from handlers.screening import screen_payload

        return screen_payload(deps, client, rest, user)
    kb = deps.cache.get()
    if word == "customer":
        if not rest:
            raise BotError("Say which customer: `/clearance customer Nimbus Pte Ltd`.")
        customer = kb.table.customers.get(rest) or CustomerIndex(kb.table.customers).find(rest)
        if customer is None:
            similar = CustomerIndex(kb.table.customers).similar(rest)
            hint = (" Did you mean " + ", ".join(c.name for c in similar) + "?") if similar else ""
            raise BotError(f"No registered customer called '{rest}'.{hint}")
        return render_customer(profile_customer(kb, customer, on=deps.clock().date()))
    if word == "rules":
        return rules_page(deps, rest)
    if word == "rule":
        if not rest.strip():
            raise BotError(
                "Say which rule: `/clearance rule ofac-iran-place`. "
                "`/clearance rules WORD` searches the rules."
            )
        rule = kb.table.rules.get(rest.strip())
        if rule is None:
            raise BotError(f"No rule with id '{rest}'. `/clearance rules {rest}` searches.")
        return render_rule(rule, revision=kb.revision)
    if word == "revisions":
        with session_scope(deps.engine) as session:
            return render_revisions(list_revisions(session=session, limit=10))
    if word == "audit":
        if not deps.is_admin(user, client):
            deps.record_admin_action(
                user_id=user, action="audit", target=rest or None, allowed=False
            )
            return render_notice(
                "Sorry, the audit log is for compliance admins only. Your request was noted."
            )
        mention = _USER_MENTION.match(rest)
        actor = (mention.group(1) or mention.group(2)) if mention else None
        customer_id = None
        if rest and actor is None:
            found = kb.table.customers.get(rest) or CustomerIndex(kb.table.customers).find(rest)
            customer_id = found.id if found else rest
        scope = f"<@{actor}>" if actor else escape(rest or "everyone")
        return audit_page(deps, {"actor": actor, "customer": customer_id, "scope": scope})
    return render_help()


def rules_page(deps: Deps, query: str, *, offset: int = 0, pager: str | None = None) -> Payload:
    """Return a page of the rules matching a query, with a Next button when more match."""
    kb = deps.cache.get()
    needle = query.lower()
    rules = [
        r
        for r in sorted(kb.table.rules.values(), key=lambda r: r.id)
        if not needle
        or any(needle in (f or "").lower() for f in (r.id, r.title, r.explanation, r.citation))
    ]
    if pager is None and len(rules) > offset + MAX_LIST:
        pager = store_choice(deps.engine, {"kind": "rules", "q": query}, now=deps.clock())
    return render_rule_list(rules, query=query, revision=kb.revision, offset=offset, pager=pager)


def audit_page(
    deps: Deps, scope: dict[str, Any], *, offset: int = 0, pager: str | None = None
) -> Payload:
    """Return a page of the audit log for a stored scope (asker, customer, label)."""
    with session_scope(deps.engine) as session:
        rows = list_decisions(
            session=session,
            actor=scope.get("actor"),
            customer=scope.get("customer"),
            limit=MAX_LIST + 1,
            offset=offset,
            team=deps.team_scope(),
        )
        more = len(rows) > MAX_LIST
        rows = rows[:MAX_LIST]
        reviews = reviews_of(session=session, decision_ids=[r.id for r in rows])
    if more and pager is None:
        pager = store_choice(deps.engine, {"kind": "audit", **scope}, now=deps.clock())
    return render_audit(
        rows,
        scope=str(scope.get("scope") or "everyone"),
        reviews=reviews,
        offset=offset,
        pager=pager,
        more=more,
    )
