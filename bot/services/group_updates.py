"""Update group: apply a country-list change to its linked group, as a reviewed change.

`plan_group_update` says what applying would do (places added, removed, excluded; the group's
size before and after; which recorded usages flip) without changing anything; the admin confirms
it, and `apply_group_update` plans again against the newest table and writes one new revision.
A change whose removals are beyond the shape guard's share is never applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.engine import Engine

from bot.domain.asking.knowledge import build_knowledge
from bot.domain.errors import BotError
from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.checks import validate_table
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import RuleTable
from bot.domain.tracking.impact import flips_between
from bot.domain.tracking.shape import DEFAULT_MAX_REMOVED_SHARE
from storage.db import session_scope
from storage.rules import current_revision, load_table, write_revision
from storage.tables.rule_table import Revision
from storage.tables.tracking import PolicyChange, PolicySource


@dataclass
class GroupUpdate:
    """What applying a country-list change to its group would do."""

    change_id: int
    group: str
    group_name: str
    revision: int  # the revision the plan was made against
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    readmitted: list[str] = field(default_factory=list)
    size_before: int = 0
    size_after: int = 0
    flips: list[str] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)  # usages in changed places that do not flip

    @property
    def empty(self) -> bool:
        """Return whether the group already reflects the change."""
        return not (self.added or self.removed or self.excluded or self.readmitted)

    def describe(self) -> str:
        """Return e.g. "added ET; removed VA; excluded UA-65"."""
        parts = [
            f"{verb} {', '.join(codes)}"
            for verb, codes in (
                ("added", self.added),
                ("removed", self.removed),
                ("excluded", self.excluded),
                ("no longer excluded", self.readmitted),
            )
            if codes
        ]
        return "; ".join(parts) or "nothing to change"


def _updated(table: RuleTable, plan: GroupUpdate) -> RuleTable:
    group = table.groups[plan.group]
    members = tuple(m for m in group.members if m not in plan.removed) + tuple(plan.added)
    gone = set(plan.removed)
    excepts = tuple(
        x
        for x in (*group.except_, *plan.excluded)
        if x not in plan.readmitted and x.split("-")[0] not in gone
    )
    new = replace(table, groups=dict(table.groups))
    new.groups[plan.group] = replace(group, members=members, except_=tuple(dict.fromkeys(excepts)))
    return new


def _plan(
    table: RuleTable, change: PolicyChange, source: PolicySource, revision: int, share: float
) -> GroupUpdate:
    gid = source.country_list_group or ""
    group = table.groups.get(gid)
    if group is None:
        raise BotError(f"The linked group '{gid}' no longer exists.")
    details = change.details or {}
    members, excepts = set(group.members), set(group.except_)
    plan = GroupUpdate(change.id or 0, gid, group.name, revision)
    plan.added = [c for c in details.get("added") or [] if c not in members]
    plan.removed = [c for c in details.get("removed") or [] if c in members]
    plan.excluded = [c for c in details.get("excluded") or [] if c not in excepts]
    plan.readmitted = [c for c in details.get("readmitted") or [] if c in excepts]
    countries = [m for m in group.members if not m.startswith("group:")]
    # The shape guard's rule again: a change that takes away more than the share of the group
    # at once (and more than one place) is a broken page, not a policy change.
    if len(plan.removed) > max(1.0, len(countries) * share):
        raise BotError(
            f"Change #{plan.change_id} would remove {len(plan.removed)} of {len(countries)} "
            f"places from {gid} (more than {share:.0%} at once): it fails the shape guard, so "
            "it is not applied. Check the source page."
        )
    plan.size_before = len(countries)
    plan.size_after = len(countries) - len(plan.removed) + len(plan.added)
    return plan


def _impact(old: RuleTable, new: RuleTable, plan: GroupUpdate, on: date) -> None:
    """Fill in the usages that flip, and those in the changed places that hold."""
    old_kb, new_kb = build_knowledge(old), build_knowledge(new)
    flips = flips_between(old_kb, new_kb, on=on)
    plan.flips = [f.describe() for f in flips]
    flipped = {(f.customer_id, f.model, f.country, f.access) for f in flips}
    changed = {*plan.added, *plan.removed, *plan.excluded, *plan.readmitted}
    for c in new.customers.values():
        for u in c.uses:
            key = (c.id, u.model, u.country, u.access)
            parent = new_kb.places.parent_of(u.country)
            touched = (
                u.country in changed
                or (parent in changed)
                or any(x.startswith(f"{u.country}-") for x in changed)
            )
            if key in flipped or not touched or u.model not in new.models:
                continue
            ev = new_kb.engine.evaluate(Subject(c, c.hq, u.country, u.model, u.access), on)
            rules = ", ".join(m.rule.id for m in ev.deciding) or "no rule"
            plan.holds.append(
                f"{c.name}: {u.model} in {u.country} stays {ev.verdict.replace('_', ' ')} ({rules})"
            )


def _load(engine: Engine, change_id: int) -> tuple[PolicyChange, PolicySource]:
    with session_scope(engine) as session:
        change = session.get(PolicyChange, change_id)
        source = (
            session.get(PolicySource, change.source_id) if change and change.source_id else None
        )
    if change is None or source is None or not source.country_list_group:
        raise BotError("That change is not from a country-list source.")
    return change, source


def plan_group_update(
    engine: Engine, change_id: int, *, on: date, share: float = DEFAULT_MAX_REMOVED_SHARE
) -> GroupUpdate:
    """Return what applying the change would do, with its impact preview; change nothing."""
    change, source = _load(engine, change_id)
    with session_scope(engine) as session:
        revision = current_revision(session=session)
        table = load_table(session=session)
    plan = _plan(table, change, source, revision, share)
    if not plan.empty:
        _impact(table, _updated(table, plan), plan, on)
    return plan


def apply_group_update(
    engine: Engine,
    change_id: int,
    *,
    user: str,
    now: datetime,
    places: PlaceCatalog,
    share: float = DEFAULT_MAX_REMOVED_SHARE,
) -> tuple[GroupUpdate, Revision]:
    """Apply the change to the newest table as one new revision; return the plan and revision."""
    change, source = _load(engine, change_id)
    with session_scope(engine) as session:
        old = load_table(session=session)
        plan = _plan(old, change, source, current_revision(session=session), share)
        if plan.empty:
            raise BotError(f"Group {plan.group} already reflects change #{change_id}.")
        new = _updated(old, plan)
        problems = validate_table(new, places)
        if problems:
            raise BotError(
                "Updating the group would break: "
                + "; ".join(f"{p.kind} {p.id}: {p.message}" for p in problems[:5])
            )
        rev = write_revision(
            session=session,
            old=old,
            new=new,
            author=f"slack:{user}",
            now=now,
            summary=f"update group {plan.group} from change #{change_id}: {plan.describe()}",
        )
        session.commit()
        session.refresh(rev)
    return plan, rev
