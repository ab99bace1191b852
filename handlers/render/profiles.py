"""A customer's profile: ownership chain, control tests and the verdicts for recorded usage."""

from __future__ import annotations

from bot.domain.asking.profiles import CustomerProfile
from handlers.render.answer_card import verdict_label
from handlers.render.blocks import (
    Block,
    Payload,
    escape,
    header,
    list_section,
    message,
    section,
)


def render_customer(p: CustomerProfile) -> Payload:
    """Return a customer's profile, ownership chain, control results and usage verdicts."""
    c = p.customer
    lines = [f"*{escape(c.name)}* (`{escape(c.id)}`), headquartered in {escape(c.hq)}"]
    if c.aliases:
        lines.append("Also known as: " + escape(", ".join(c.aliases)))
    if c.tags:
        lines.append("Tags: " + escape(", ".join(c.tags)))
    blocks: list[Block] = [header(f"Customer: {c.name}"), section("\n".join(lines))]
    if p.chain:
        blocks.append(
            list_section(
                "Ownership chain",
                [f"{'  ' * (h.depth - 1)}{h.name} ({h.hq}) holds {h.share:g}%" for h in p.chain],
                limit=15,
            )
        )
    else:
        blocks.append(section("*Ownership chain*\nNo owners recorded."))
    if p.controls:
        blocks.append(
            list_section(
                "Control tests",
                [
                    f"{'Yes' if r.controlled else 'No'}: {r.description} (rules {', '.join(r.rule_ids)})"
                    + (f". {r.path}" if r.path else "")
                    for r in p.controls
                ],
            )
        )
    if p.usages:
        blocks.append(
            list_section(
                "Current verdicts for recorded usage",
                [
                    f"{verdict_label(u.verdict)}: {u.model} in {u.country} ({u.access})"
                    + (f" by {', '.join(u.rule_ids)}" if u.rule_ids else "")
                    for u in p.usages
                ],
                limit=15,
            )
        )
    else:
        blocks.append(section("*Recorded usage*\nNone recorded."))
    return message(f"Customer {escape(c.name)} ({escape(c.hq)})", blocks)
