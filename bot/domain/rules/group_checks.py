"""Checks of groups: members, dates, dated versions, and groups that contain themselves."""

from __future__ import annotations

from datetime import date

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.problems import Problem, never_in_force
from bot.domain.rules.reference_checks import check_refs
from bot.domain.rules.table import RuleTable


def _group_versions(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Report bad members, backwards dates and overlaps in groups' dated versions."""
    out: list[Problem] = []
    for g in table.groups.values():
        spans: list[tuple[int, tuple[date, date]]] = []
        for v, version in enumerate(g.versions):
            where = f"versions[{v}]"
            out += [
                Problem("groups", g.id, f"{where}.members[{i}]", m, ref)
                for i, m, ref in check_refs(version.members, table, places)
            ]
            if version.start and version.end and version.end < version.start:
                out.append(
                    Problem(
                        "groups",
                        g.id,
                        f"{where}.to",
                        never_in_force(version.start, version.end, "from", "version never holds"),
                    )
                )
                continue
            lo, hi = version.start or date.min, version.end or date.max
            for other, (olo, ohi) in spans:
                if lo <= ohi and olo <= hi:
                    out.append(
                        Problem(
                            "groups",
                            g.id,
                            where,
                            f"overlaps versions[{other}]: on any date at most one version may "
                            "hold; end one before the next begins",
                        )
                    )
            spans.append((v, (lo, hi)))
    return out


def _group_cycles(table: RuleTable) -> list[Problem]:
    """Report each member that leads a group back to itself."""
    out = []
    for gid, group in table.groups.items():
        for i, member in enumerate(group.members):
            if not member.startswith("group:"):
                continue
            # Breadth-first from the member, remembering how each group was reached.
            start = member[len("group:") :]
            came_from: dict[str, str | None] = {start: None}
            queue = [start]
            while queue and gid not in came_from:
                cur = queue.pop(0)
                for m in table.groups[cur].members if cur in table.groups else ():
                    ref = m[len("group:") :]
                    if m.startswith("group:") and ref not in came_from:
                        came_from[ref] = cur
                        queue.append(ref)
            if gid in came_from:
                chain: list[str] = []
                node: str | None = gid
                while node is not None:
                    chain.append(node)
                    node = came_from[node]
                path = " -> ".join([gid, *reversed(chain)])
                out.append(
                    Problem(
                        "groups",
                        gid,
                        f"members[{i}]",
                        f"group '{gid}' contains itself ({path}); remove this member "
                        "or the member that leads back",
                        ("groups", start),
                    )
                )
    return out


def group_problems(table: RuleTable, places: PlaceCatalog) -> list[Problem]:
    """Return the problems of every group: members, dates, versions and cycles."""
    out: list[Problem] = []
    for g in table.groups.values():
        out += [
            Problem("groups", g.id, f"members[{i}]", m, ref)
            for i, m, ref in check_refs(g.members, table, places)
        ]
        out += [
            Problem("groups", g.id, f"except[{i}]", m, ref)
            for i, m, ref in check_refs(g.except_, table, places, groups=False)
        ]
        if g.effective_from and g.effective_to and g.effective_to < g.effective_from:
            out.append(
                Problem(
                    "groups",
                    g.id,
                    "effective_to",
                    never_in_force(
                        g.effective_from,
                        g.effective_to,
                        "effective_from",
                        "group is never in force",
                    ),
                )
            )
    out += _group_versions(table, places)
    out += _group_cycles(table)
    return out
