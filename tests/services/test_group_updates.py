"""Update group: a country-list change applied to its linked group as one new revision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.domain.errors import BotError
from bot.domain.names.places import build_place_catalog
from bot.services.group_updates import apply_group_update
from storage.db import session_scope
from storage.rules import current_revision, load_table
from storage.tables.tracking import PolicyChange, PolicySource

pytestmark = pytest.mark.storage
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GROUP = "g-anthropic-supported"


def add_change(engine: Engine, details: dict[str, list[str]], *, group: str | None = GROUP) -> int:
    with session_scope(engine) as session:
        source = PolicySource(
            name=f"list {len(details)} {group}",
            kind="webpage",
            url="http://127.0.0.1/list",
            country_list_group=group,
            next_poll_at=NOW,
            created_at=NOW,
        )
        session.add(source)
        session.flush()
        change = PolicyChange(
            dedupe_key=f"c:{source.id}",
            source_id=source.id,
            detected_at=NOW,
            summary="the list changed",
            details=details,
        )
        session.add(change)
        session.commit()
        assert change.id is not None
        return change.id


def members(engine: Engine) -> tuple[str, ...]:
    with session_scope(engine) as session:
        return load_table(session=session).groups[GROUP].members


def test_a_change_becomes_one_revision_of_the_group(engine: Engine) -> None:
    change = add_change(engine, {"added": ["CN", "DE"], "removed": ["FR"]})
    before = members(engine)
    plan, rev = apply_group_update(engine, change, user="U1", now=NOW, places=build_place_catalog())
    after = members(engine)
    assert (plan.group, "CN" in after, "FR" in after) == (GROUP, True, False)
    assert len(after) == len(before)  # DE was a member already: added once, FR removed
    with session_scope(engine) as session:
        assert current_revision(session=session) == rev.number
    assert plan.describe() == "added CN; removed FR"
    assert rev.author == "slack:U1"
    with pytest.raises(BotError, match="already reflects"):
        apply_group_update(engine, change, user="U1", now=NOW, places=build_place_catalog())


@pytest.mark.parametrize(
    ("details", "group", "message"),
    [
        ({"added": ["CN"]}, None, "not from a country-list source"),
        ({"added": ["CN"]}, "g-gone", "no longer exists"),
        ({"added": ["XX"]}, GROUP, "would break"),
    ],
)
def test_a_change_that_cannot_apply_changes_nothing(
    engine: Engine, details: dict[str, list[str]], group: str | None, message: str
) -> None:
    change = add_change(engine, details, group=group)
    with session_scope(engine) as session:
        revision = current_revision(session=session)
    with pytest.raises(BotError, match=message):
        apply_group_update(engine, change, user="U1", now=NOW, places=build_place_catalog())
    with session_scope(engine) as session:
        assert current_revision(session=session) == revision
