"""`/clearance settings`: a workspace's own review and audit channels, set by its admins.

`/clearance settings` shows them; `settings review-channel #c` and `settings audit-channel #c`
set them (`none` clears); `handlers.subcommands` lists both. Each workspace sets and sees only its own (see
`bot.services.workspace_channels` for the environment's channels in one workspace).
"""

from __future__ import annotations

import re

from bot.services.workspace import current_workspace
from bot.services.workspace_channels import configured_channel
from handlers.deps import Deps
from handlers.render.blocks import Payload, escape
from handlers.render.notices import render_notice
from storage.db import session_scope
from storage.workspace_channels import store_channel

SETTINGS = {"review-channel": "review", "audit-channel": "audit"}
CLEAR = {"none", "off", "-"}
# What Slack sends for "#reviews" in a command (escaped), or a bare channel id.
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$|^([CG][A-Z0-9]{6,})$")
USAGE = (
    "Use `/clearance settings review-channel #channel` or "
    "`/clearance settings audit-channel #channel` (`none` to clear)."
)


def show(deps: Deps) -> Payload:
    """Show this workspace's review and audit channels."""
    return render_notice(_describe(deps))


def set_channel(deps: Deps, name: str, value: str, *, user: str) -> Payload:
    """Set or clear one of this workspace's channels (the table checks the asker is an admin)."""
    kind = SETTINGS[name]
    match = _CHANNEL.match(value.strip())
    if value.strip().lower() not in CLEAR and match is None:
        return render_notice(f"`{escape(value)}` is not a channel. {USAGE}")
    channel = None if match is None else match.group(1) or match.group(2)
    with session_scope(deps.engine) as session:
        store_channel(session=session, workspace=current_workspace(), kind=kind, channel=channel)
        session.commit()
    deps.record_admin_action(user_id=user, action=f"set {name}", target=channel, allowed=True)
    if channel is None:
        return render_notice(f"The {kind} channel is cleared.\n{_describe(deps)}")
    what = "Review requests" if kind == "review" else "Rule and customer changes"
    return render_notice(
        f"{what} from this workspace now go to <#{channel}>. If the bot is not there yet, "
        "invite it with `/invite @Clearance`."
    )


def _describe(deps: Deps) -> str:
    """Return this workspace's review and audit channels, one line each."""
    lines = []
    for name, kind in SETTINGS.items():
        channel = configured_channel(deps.engine, deps.settings, current_workspace(), kind)
        lines.append(f"• `{name}`: " + (f"<#{channel}>" if channel else "not set"))
    return "*Settings of this workspace*\n" + "\n".join(lines) + f"\n{USAGE}"
