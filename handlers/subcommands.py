"""The `/clearance` subcommands: one table, from which dispatch, the help and admin checks follow.

A text names a subcommand by its first two words (`rule edit`) or its first word (`rule`),
matched exactly and ignoring case; anything else is a question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.settings import Settings
from handlers import entity_editor, lookups, screening, tracking, workspace_settings
from handlers.deps import Deps, guarded
from handlers.render.blocks import Payload
from handlers.render.help import HelpLine, render_help
from handlers.render.notices import render_notice


@dataclass(frozen=True)
class Invocation:
    """One use of a subcommand: who typed it where, and the text after its name."""

    deps: Deps
    client: WebClient
    user: str
    channel: str
    text: str = ""
    trigger_id: str = ""


def _typed(inv: Invocation) -> str | None:
    return inv.text or None


def _never(settings: Settings) -> bool:
    return False


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its name, how it is used, what it does, and who may run it."""

    name: str  # one word, or two for an admin action on a thing (`rule edit`)
    usage: str  # as the help shows it, after `/clearance`
    summary: str
    handler: Callable[[Invocation], Payload | None]
    aliases: tuple[str, ...] = ()
    admin_only: bool = False
    open_to_all: Callable[[Settings], bool] = _never  # a setting that lifts admin_only
    refusal: str = "Sorry, this is for compliance admins only. Your request was noted."
    refusal_target: Callable[[Invocation], str | None] = _typed  # what the audit log names
    # Runs after the ack: it opens a modal (a Slack call), and replies through `respond`.
    after_ack: bool = False
    # Text with `=` is then a `customer=... country=...` question, not this subcommand.
    keyed_is_question: bool = False

    @property
    def section(self) -> str:
        """Return the part of the help that lists it: "Admin" or "Ask"."""
        return "Admin" if self.admin_only else "Ask"

    @property
    def names(self) -> tuple[str, ...]:
        """Return the name and the aliases."""
        return (self.name, *self.aliases)


def _editor(kind: str, action: str) -> Callable[[Invocation], None]:
    def open_it(inv: Invocation) -> None:
        entity_editor.open_editor(
            inv.deps,
            inv.client,
            kind=kind,
            action=action,
            target=inv.text,
            trigger_id=inv.trigger_id,
        )

    return open_it


_CHANGE = (
    "Sorry, only compliance admins can change rules and customers. "
    "Your request was noted in the audit log."
)
_SUBSCRIBE = "Sorry, only compliance admins can change subscriptions."


def _editor_entry(kind: str, action: str, usage: str, summary: str) -> Subcommand:
    return Subcommand(
        f"{kind} {action}",
        usage,
        summary,
        _editor(kind, action),
        admin_only=True,
        refusal=_CHANGE,
        after_ack=True,
    )


def _subscription_entry(name: str, usage: str, summary: str) -> Subcommand:
    act = tracking.subscribe_channel if name == "subscribe" else tracking.unsubscribe_channel
    return Subcommand(
        name,
        usage,
        summary,
        lambda i: act(i.deps, i.text, user=i.user, channel=i.channel),
        admin_only=True,
        open_to_all=lambda s: s.subscribe_anyone,
        refusal=_SUBSCRIBE,
        refusal_target=lambda i: i.channel,
    )


def _setting_entry(name: str, summary: str) -> Subcommand:
    return Subcommand(
        f"settings {name}",
        f"settings {name} #channel",
        f"{summary} (`none` clears)",
        lambda i: workspace_settings.set_channel(i.deps, name, i.text, user=i.user),
        admin_only=True,
        refusal="Sorry, only compliance admins can change settings.",
    )


QUESTION: HelpLine = (
    "QUESTION",
    "Add `as of 2025-08-01` or `with weights access` if needed. Answers are private; "
    "you can also @mention me or DM me a question.",
)

SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "customer",
        "customer NAME",
        "profile, ownership chain, control result and current verdicts for the customer's "
        "recorded usage",
        lambda i: lookups.customer_profile(i.deps, i.text),
        keyed_is_question=True,
    ),
    Subcommand(
        "rules",
        "rules [TEXT]",
        "search the rules",
        lambda i: lookups.rules_page(i.deps, i.text),
        keyed_is_question=True,
    ),
    Subcommand(
        "rule",
        "rule ID",
        "one rule with its citation",
        lambda i: lookups.rule_detail(i.deps, i.text),
        keyed_is_question=True,
    ),
    Subcommand(
        "revisions",
        "revisions",
        "recent changes to the rule table",
        lambda i: lookups.recent_revisions(i.deps),
        keyed_is_question=True,
    ),
    Subcommand(
        "screen",
        "screen NAME",
        "screen a name against the restricted-party lists",
        lambda i: screening.screen_payload(i.deps, i.client, i.text, i.user),
        keyed_is_question=True,
    ),
    Subcommand(
        "subscriptions",
        "subscriptions",
        "the channels that get policy-change digests",
        lambda i: tracking.subscriptions(i.deps),
    ),
    Subcommand(
        "sources",
        "sources",
        "the tracked policy sources and their health",
        lambda i: tracking.sources(i.deps),
    ),
    Subcommand(
        "changes",
        "changes [since DATE]",
        "recent policy changes",
        lambda i: tracking.changes(i.deps, i.text),
    ),
    Subcommand(
        "digest",
        "digest preview",
        "the next digest of this channel, shown only to you",
        lambda i: tracking.digest_preview(i.deps, i.text, channel=i.channel),
    ),
    Subcommand(
        "help",
        "help",
        "this help",
        lambda i: help_message(admin=i.deps.is_admin(i.user, i.client)),
    ),
    Subcommand(
        "audit",
        "audit [@user | customer]",
        "recent decisions and how reviews ended them",
        lambda i: lookups.audit_log(i.deps, i.text),
        admin_only=True,
        refusal="Sorry, the audit log is for compliance admins only. Your request was noted.",
        keyed_is_question=True,
    ),
    _editor_entry("rule", "add", "rule add", "add a rule"),
    _editor_entry("rule", "edit", "rule edit ID", "change a rule"),
    _editor_entry("rule", "retire", "rule retire ID", "retire a rule"),
    _editor_entry("customer", "add", "customer add", "add a customer"),
    _editor_entry("customer", "edit", "customer edit NAME", "change a customer"),
    _subscription_entry(
        "subscribe",
        "subscribe [SOURCES or TAGS] [daily HH:MM TZ | weekly DAY HH:MM TZ]",
        "policy-change digests in this channel",
    ),
    _subscription_entry(
        "unsubscribe",
        "unsubscribe [SOURCES or TAGS]",
        "stop this channel's digests, or some of their sources",
    ),
    Subcommand(
        "settings",
        "settings",
        "this workspace's review and audit channels",
        lambda i: workspace_settings.show(i.deps),
    ),
    _setting_entry("review-channel", "where this workspace's review requests go"),
    _setting_entry("audit-channel", "where this workspace's rule and customer changes are told"),
)
BY_NAME = {name: s for s in SUBCOMMANDS for name in s.names}


def match(text: str) -> tuple[Subcommand, str] | None:
    """Return the subcommand a text names and the text after its name; None for a question."""
    words = text.split()
    for size in (2, 1):  # `rule edit ID` is `rule edit`, not `rule` with the id "edit ID"
        found = BY_NAME.get(" ".join(words[:size]).lower()) if len(words) >= size else None
        if found is not None:
            if found.keyed_is_question and "=" in text:
                return None
            return found, " ".join(words[size:])
    return None


def refusal(sub: Subcommand, inv: Invocation) -> Payload | None:
    """Return the refusal for someone who may not run the subcommand (it is audited), or None."""
    deps = inv.deps
    if not sub.admin_only or sub.open_to_all(deps.settings) or deps.is_admin(inv.user, inv.client):
        return None
    deps.record_admin_action(
        user_id=inv.user, action=sub.name, target=sub.refusal_target(inv), allowed=False
    )
    return render_notice(sub.refusal)


def run(sub: Subcommand, inv: Invocation) -> Payload:
    """Run a subcommand: its message, a refusal, or the user's error as a notice."""
    # Only the after-ack subcommands (modals) return no message.
    return guarded(lambda: refusal(sub, inv) or sub.handler(inv) or {})


def run_after_ack(sub: Subcommand, inv: Invocation, respond: Respond) -> None:
    """Run a subcommand after the ack, and send what it has to say through `respond`."""
    payload = run(sub, inv)
    if payload:
        respond(**payload, response_type="ephemeral")


def help_lines(section: str) -> list[HelpLine]:
    """Return the help lines of one section ("Ask" or "Admin"), in table order."""
    lines = [QUESTION] if section == "Ask" else []
    return lines + [(s.usage, s.summary) for s in SUBCOMMANDS if s.section == section]


def help_message(*, admin: bool, note: str | None = None) -> Payload:
    """Return the help; the admin subcommands only for admins."""
    return render_help(help_lines("Ask"), help_lines("Admin") if admin else (), note=note)
