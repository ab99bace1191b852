"""Dated groups: the windows of time in which a rule reads the same group contents.

A group with `versions` holds different members on different dates, and a group with
`known_from` holds nothing known before that date. A rule that reads such a group (directly or
through nested groups) is compiled once per window between those dates, so the bit-set index
keeps deciding by date masks alone. In a window before a group's `known_from` the rule can at
most give `review`: it matches wherever it could match, whatever the unknown list holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.rules.table import Rule, RuleTable


@dataclass(frozen=True)
class Window:
    """Dates (both inclusive, None = open) in which a rule reads the same group contents."""

    start: date | None
    end: date | None
    on: date  # a day inside the window, to read the groups' versions with
    unknown: frozenset[str]  # groups whose contents are not known in the window


def rule_refs(rule: Rule) -> list[str]:
    """Return every place reference a rule states (places, headquarters, control)."""
    out: list[str] = []
    if rule.places is not None:
        out += [*(rule.places.in_ or ()), *rule.places.not_in]
    c = rule.customer
    if c is not None:
        out += [*(c.hq_in or ()), *c.hq_not_in]
        if c.controlled_from is not None:
            out += [*(c.controlled_from.places.in_ or ()), *c.controlled_from.places.not_in]
    return out


def groups_read(refs: list[str], table: RuleTable) -> list[str]:
    """Return the groups the references read, nested ones and their versions' members too."""
    seen: dict[str, None] = {}
    stack = [r[len("group:") :] for r in refs if r.startswith("group:")]
    while stack:
        gid = stack.pop()
        if gid in seen:
            continue
        seen[gid] = None
        group = table.groups.get(gid)
        if group is None:
            continue
        members = [*group.members, *(m for v in group.versions for m in v.members)]
        stack.extend(m[len("group:") :] for m in members if m.startswith("group:"))
    return list(seen)


def rule_windows(rule: Rule, table: RuleTable) -> list[Window] | None:
    """Return the rule's windows, or None when it reads no dated group."""
    dated = [
        table.groups[g]
        for g in groups_read(rule_refs(rule), table)
        if g in table.groups and table.groups[g].is_dated()
    ]
    if not dated:
        return None
    cuts: set[date] = set()
    for group in dated:
        if group.known_from is not None:
            cuts.add(group.known_from)
        for v in group.versions:
            if v.start is not None:
                cuts.add(v.start)
            if v.end is not None and v.end < date.max:
                cuts.add(v.end + timedelta(days=1))
    bounds = sorted(cuts)
    starts: list[date | None] = [None, *bounds]
    out = []
    for i, start in enumerate(starts):
        end = bounds[i] - timedelta(days=1) if i < len(bounds) else None
        # Clip to the rule's own dates; a window outside them is never in force.
        lo = max((d for d in (start, rule.effective_from) if d is not None), default=None)
        hi = min((d for d in (end, rule.effective_to) if d is not None), default=None)
        if lo is not None and hi is not None and hi < lo:
            continue
        on = lo if lo is not None else (hi if hi is not None else date(2000, 1, 1))
        unknown = frozenset(g.id for g in dated if g.known_from is not None and on < g.known_from)
        out.append(Window(lo, hi, on, unknown))
    return out


def unknown_note(unknown: frozenset[str], table: RuleTable) -> str:
    """Say which lists are not known in a window, for the answer's reasons."""
    parts = []
    for gid in sorted(unknown):
        group = table.groups[gid]
        parts.append(f"{group.name} is not known before {group.known_from}")
    return "; ".join(parts) + ", so this rule cannot decide that date: review"
