"""The help message: "Ask" for everyone, "Admin" for admins, and examples to click."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.render.blocks import Block, Payload, button, context, header, message, section

# One help line: the command as typed (without `/clearance`) and what it does.
HelpLine = tuple[str, str]

# Clicking one asks it (the `help_example` action); the value is the index.
EXAMPLES = [
    "can Acme GmbH in Germany use Claude Sonnet 4.5?",
    "can someone in Japan use gpt-oss-120b with weights access?",
    "does Acme GmbH have API access to GPT-4o as of 2025-08-01?",
]


def _lines(title: str, lines: Sequence[HelpLine]) -> Block:
    return section(f"*{title}*\n" + "\n".join(f"• `/clearance {u}`: {what}" for u, what in lines))


def render_help(
    ask: Sequence[HelpLine], admin: Sequence[HelpLine] = (), *, note: str | None = None
) -> Payload:
    """Return the help: the "Ask" lines, the examples, then the "Admin" lines when given."""
    blocks: list[Block] = [header("Clearance: can customer X in country Y use model Z?")]
    if note:
        blocks.append(section(note))
    blocks.append(_lines("Ask", ask))
    blocks.append(
        {
            "type": "actions",
            "block_id": "help_examples",
            "elements": [
                button(f"Try: {example}", "help_example", str(i))
                for i, example in enumerate(EXAMPLES)
            ],
        }
    )
    if admin:
        blocks.append(_lines("Admin", admin))
    blocks.append(
        context(
            "Verdicts: ⛔ denied > 📄 license required > 🔎 review > "
            "🟡 conditional > ✅ allowed. Every answer cites its rules and is "
            "written to the audit log."
        )
    )
    return message("Clearance help: /clearance can CUSTOMER in COUNTRY use MODEL?", blocks)
