"""Dated groups: rules read the version in force, and nothing before `known_from` (issue #10 §3)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import InvalidFile
from bot.domain.rules.table import RuleTable
from tests.support.factories import ask, knowledge, table_from_yaml

TABLE = """
groups:
  - id: g-served
    name: Acme's supported countries
    members: [DE, FR, SA]
    known_from: 2024-01-01
    versions:
      - {to: 2024-06-30, members: [DE, FR], citation: "list of January 2024"}
      - {from: 2024-07-01, members: [DE, FR, SA], citation: "list of July 2024"}
rules:
  - {id: served-allow, effect: allow, title: Acme where served, models: {vendors: [acme]},
     places: {in: [group:g-served]}, access: [api], citation: c, url: "https://example.org/a"}
  - {id: unserved-deny, effect: deny, title: Acme elsewhere, models: {vendors: [acme]},
     places: {not_in: [group:g-served]}, citation: c, url: "https://example.org/b"}
"""

CASES = [
    # (place, as of, verdict, deciding rules, why)
    ("SA", date(2024, 6, 30), "denied", ["unserved-deny"], "the January list has no SA"),
    ("SA", date(2024, 7, 1), "allowed", ["served-allow"], "the July list adds SA"),
    ("DE", date(2024, 1, 1), "allowed", ["served-allow"], "known from that day"),
    ("DE", date(2023, 12, 31), "review", ["served-allow", "unserved-deny"], "not known yet"),
    ("CN", date(2023, 12, 31), "review", ["served-allow", "unserved-deny"], "not known yet"),
    ("CN", date(2025, 1, 1), "denied", ["unserved-deny"], "today's list"),
]


@pytest.mark.parametrize(("place", "as_of", "verdict", "rules", "why"), CASES)
def test_rules_read_the_version_in_force(
    place: str, as_of: date, verdict: str, rules: list[str], why: str
) -> None:
    kb = knowledge(TABLE)
    a = ask(kb, f"can Globex in {place} use Acme 1 as of {as_of.isoformat()}")
    assert (a.verdict, a.rule_ids()) == (verdict, rules), why
    if verdict == "review":
        assert all(
            "Acme's supported countries is not known before 2024-01-01" in r["detail"]
            for r in a.reasons
        )
        assert {r["effect"] for r in a.reasons} == {"review"}


def test_versions_round_trip_through_the_file_form() -> None:
    table = table_from_yaml(TABLE)
    again = RuleTable.from_dict(table.to_dict())
    assert again.groups == table.groups
    assert again.groups["g-served"].members_on(date(2024, 3, 1)) == ("DE", "FR")


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ("[{to: 2024-06-30, members: [DE]}, {from: 2024-06-01, members: [FR]}]", "overlaps"),
        ("[{from: 2024-06-30, to: 2024-01-01, members: [DE]}]", "version never holds"),
        ("[{members: [XX-NOPE]}]", "versions[0].members[0]"),
    ],
)
def test_bad_versions_are_refused(versions: str, message: str) -> None:
    text = f"groups:\n  - {{id: g, name: G, members: [DE], versions: {versions}}}\n"
    with pytest.raises(InvalidFile) as exc:
        table_from_yaml(text)
    assert message in str(exc.value)


def test_a_retired_model_is_answered_with_a_warning() -> None:
    kb = knowledge(
        """
models:
  - {id: old-1, name: Old 1, vendor: acme, family: old, released: 2024-01-01, retired: 2025-01-31}
rules:
  - {id: old-allow, effect: allow, title: Old anywhere, models: {ids: [old-1]}, access: [api],
     citation: c, url: "https://example.org/o"}
"""
    )
    before = ask(kb, "can Globex in Germany use Old 1 as of 2025-01-31")
    after = ask(kb, "can Globex in Germany use Old 1 as of 2025-02-01")
    assert not any("retired" in w for w in before.warnings)
    assert "Old 1 was retired on 2025-01-31." in after.warnings
