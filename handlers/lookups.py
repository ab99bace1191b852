"""Read-only subcommands: a customer's profile, the rules, the revisions and the audit log."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.asking.profiles import profile_customer
from bot.domain.errors import BotError
from bot.services.customer_lookup import registered_customer
from handlers.deps import Deps
from handlers.render.blocks import Payload, escape
from handlers.render.lists import MAX_LIST, render_audit, render_revisions, render_rule_list
from handlers.render.profiles import render_customer
from handlers.render.rules import render_rule
from storage.choices import store_choice
from storage.db import session_scope
from storage.decisions import list_decisions
from storage.reviews import reviews_of
from storage.rules import list_revisions

_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")


def customer_profile(deps: Deps, name: str) -> Payload:
    """`customer NAME`: the profile, or the names that look like it."""
    if not name:
        raise BotError("Say which customer: `/clearance customer Nimbus Pte Ltd`.")
    kb = deps.cache.get()
    customer = registered_customer(kb, name)
    if customer is None:
        similar = kb.customers.similar(name)
        hint = (" Did you mean " + ", ".join(c.name for c in similar) + "?") if similar else ""
        raise BotError(f"No registered customer called '{name}'.{hint}")
    return render_customer(profile_customer(kb, customer, on=deps.clock().date()))


def rule_detail(deps: Deps, rule_id: str) -> Payload:
    """`rule ID`: one rule with its citation."""
    if not rule_id.strip():
        raise BotError(
            "Say which rule: `/clearance rule ofac-iran-place`. "
            "`/clearance rules WORD` searches the rules."
        )
    kb = deps.cache.get()
    rule = kb.table.rules.get(rule_id.strip())
    if rule is None:
        raise BotError(f"No rule with id '{rule_id}'. `/clearance rules {rule_id}` searches.")
    return render_rule(rule, revision=kb.revision)


def recent_revisions(deps: Deps) -> Payload:
    """`revisions`: the latest changes to the rule table."""
    with session_scope(deps.engine) as session:
        return render_revisions(list_revisions(session=session, limit=10))


def audit_log(deps: Deps, scope: str) -> Payload:
    """`audit [@user | customer]`: the first page of decisions, for one asker or customer."""
    mention = _USER_MENTION.match(scope)
    actor = (mention.group(1) or mention.group(2)) if mention else None
    customer_id = None
    if scope and actor is None:
        found = registered_customer(deps.cache.get(), scope)
        customer_id = found.id if found else scope
    label = f"<@{actor}>" if actor else escape(scope or "everyone")
    return audit_page(deps, {"actor": actor, "customer": customer_id, "scope": label})


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
