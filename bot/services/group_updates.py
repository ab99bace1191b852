"""Update a group from a country-list change: the Update group button's use case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.domain.asking.places import PlaceCatalog
from bot.domain.errors import BotError
from bot.domain.rules.checks import validate_table
from storage.db import session_scope
from storage.models import PolicyChange, PolicySource
from storage.rules import load_table, write_revision


@dataclass(frozen=True)
class GroupUpdate:
    """A group changed by one revision, and what changed in it."""

    group: str
    revision: int
    detail: str


def update_group(
    engine: Engine, *, change_id: int, author: str, now: datetime, places: PlaceCatalog
) -> GroupUpdate:
    """Apply a country-list change to its linked group as a new revision."""
    with session_scope(engine) as session:
        change = session.get(PolicyChange, change_id)
        source = (
            session.get(PolicySource, change.source_id) if change and change.source_id else None
        )
        if change is None or source is None or not source.country_list_group:
            raise BotError("That change is not from a country-list source.")
        old = load_table(session=session)
        group = old.groups.get(source.country_list_group)
        if group is None:
            raise BotError(f"The linked group '{source.country_list_group}' no longer exists.")
        added = [c for c in change.details.get("added") or [] if c not in group.members]
        removed = [c for c in change.details.get("removed") or [] if c in group.members]
        if not added and not removed:
            raise BotError(f"Group {group.id} already reflects change #{change_id}.")
        new = load_table(session=session)
        members = tuple(m for m in group.members if m not in removed) + tuple(added)
        new.groups[group.id] = replace(group, members=members)
        problems = validate_table(new, places)
        if problems:
            raise BotError(
                "Updating the group would break: "
                + "; ".join(f"{p.kind} {p.id}: {p.message}" for p in problems[:5])
            )
        detail = f"added {', '.join(added) or 'none'}; removed {', '.join(removed) or 'none'}"
        rev = write_revision(
            session=session,
            old=old,
            new=new,
            author=author,
            now=now,
            summary=f"update group {group.id} from change #{change_id}: {detail}",
        )
        session.commit()
    return GroupUpdate(group=group.id, revision=rev.number, detail=detail)
