"""A group's `except` members (issue #13): "Ukraine except Crimea" in a linked group."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.rules.entities import Group
from bot.domain.rules.subject import Subject
from tests.support.factories import knowledge

TABLE = """
groups:
  - {id: g-sup, name: Supported, members: [DE, UA, group:g-more], except: [UA-43, UA-14]}
  - {id: g-more, name: More, members: [SG, FR], except: [FR]}
  - {id: g-crimea-too, name: Crimea named, members: [UA-43]}
rules:
  - {id: sup-allow, effect: allow, title: Supported, models: {vendors: [acme]},
     places: {in: [group:g-sup]}}
  - {id: unsup-deny, effect: deny, title: Unsupported, models: {vendors: [acme]},
     places: {not_in: [group:g-sup]}}
  - {id: named-review, effect: review, title: Named, models: {vendors: [acme]},
     places: {not_in: [group:g-sup, group:g-crimea-too], in: [UA]}}
"""

D = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("place", "verdict"),
    [
        ("DE", "allowed"),
        ("UA", "allowed"),
        ("UA-09", "allowed"),  # a subdivision the group does not leave out
        ("UA-43", "denied"),  # left out: outside `in`, and not spared by `not_in`
        ("UA-14", "denied"),
        ("SG", "allowed"),  # through the nested group
        ("FR", "denied"),  # the nested group leaves it out
        ("CN", "denied"),
    ],
)
def test_except_members_are_outside_the_group(place: str, verdict: str) -> None:
    kb = knowledge(TABLE)
    customer = kb.table.customers.get("x")
    subject = Subject(customer, "DE", place, "acme-1", "api")
    assert kb.engine.evaluate(subject, D).verdict == verdict


def test_another_group_naming_the_place_brings_it_back() -> None:
    kb = knowledge(TABLE)
    # `named-review` excludes g-sup and g-crimea-too: Crimea is named by the second, so it is
    # excluded; Donetsk is left out of g-sup and named by neither, so the review rule applies.
    crimea = kb.engine.evaluate(Subject(None, "DE", "UA-43", "acme-1", "api"), D)
    donetsk = kb.engine.evaluate(Subject(None, "DE", "UA-14", "acme-1", "api"), D)
    assert "named-review" not in [m.rule.id for m in crimea.deciding + crimea.overridden]
    assert "named-review" in [m.rule.id for m in donetsk.deciding + donetsk.overridden]


def test_except_round_trips_in_the_file_form() -> None:
    g = Group("g", "G", ("UA",), except_=("UA-43",))
    assert g.to_dict()["except"] == ["UA-43"]
    assert Group.from_dict(g.to_dict()) == g
