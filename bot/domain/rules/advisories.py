"""Advisories: a rule table that is valid but could say more than its sources do.

They never block an import; `rules validate` and `rules import` print them as warnings.
"""

from __future__ import annotations

from bot.domain.rules.table import RuleTable


def table_advisories(table: RuleTable) -> list[str]:
    """Return one warning per allow rule with no `access:` limit that covers closed models."""
    out = []
    for rule in sorted(table.rules.values(), key=lambda r: r.id):
        if rule.effect != "allow" or rule.access is not None:
            continue
        closed = sorted(
            m.id
            for m in table.models.values()
            if not m.open_weights and (rule.models is None or rule.models.matches(m))
        )
        if closed:
            shown = ", ".join(closed[:5]) + (
                f" and {len(closed) - 5} more" if len(closed) > 5 else ""
            )
            out.append(
                f"rules[{rule.id}]: allow rule without an access: limit covers closed-weight "
                f"models ({shown}); add access: [api, hosted] (their weights are always denied)"
            )
    return out
