"""Validation without loopholes: deciding rules are cited, every rule says where it applies,
URLs are web addresses, customers do not share names, and CSV cells never run as formulas."""

from __future__ import annotations

import csv
import io
import textwrap
from pathlib import Path

import pytest

from bot.domain.errors import BotError, InvalidFile
from bot.domain.names.places import build_place_catalog
from bot.domain.rules.csv_import import CSV_FIELDS, parse_csv
from bot.domain.rules.csv_rules import guard_cell, rules_to_csv, unguard_cell
from bot.domain.rules.files import parse_text, read_file
from bot.domain.rules.merging import check_merged, merge
from bot.domain.rules.table import RuleTable
from storage.rules import DEFAULT_PACK

SOURCE = 'citation: "15 CFR 744.23", url: "https://www.ecfr.gov/current/title-15/section-744.23"'


@pytest.fixture(scope="module")
def pack() -> RuleTable:
    parsed = read_file(DEFAULT_PACK)
    table = merge(RuleTable(), parsed, replace=True)
    check_merged(table, parsed, build_place_catalog())
    return table


def problems(body: str, current: RuleTable) -> list[tuple[int, str, str]]:
    text = "version: 1\n" + textwrap.dedent(body).lstrip("\n")
    try:
        parsed = parse_text(text, "f.yaml", defer=True)
        check_merged(merge(current, parsed, replace=False), parsed, build_place_catalog())
    except InvalidFile as exc:
        return [(e.line, e.field, e.message) for e in exc.errors]
    return []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{id: r, effect: allow, title: T}", ["citation", "url", "everywhere"]),
        ("{id: r, effect: deny, title: T, places: {in: [CU]}}", ["citation", "url"]),
        (f"{{id: r, effect: allow, title: T, places: {{in: [DE]}}, {SOURCE}}}", []),
        ("{id: r, effect: review, title: T, places: {in: [DE]}}", []),
        ("{id: r, effect: license_required, title: T, places: {in: [DE]}}", []),
        (f"{{id: r, effect: allow, title: T, everywhere: true, {SOURCE}}}", []),
        (
            f"{{id: r, effect: deny, title: T, everywhere: true, places: {{in: [CU]}}, {SOURCE}}}",
            ["everywhere"],
        ),
        (
            "{id: r, effect: allow, title: T, places: {in: [DE]}, citation: C, "
            "url: 'javascript:alert(1)'}",
            ["url"],
        ),
        ("{id: r, effect: review, title: T, places: {in: [DE]}, url: 'ftp://x.org/a'}", ["url"]),
        ("{id: r, effect: review, title: T, places: {in: [DE]}, url: 'https://'}", ["url"]),
        (
            "{id: r, effect: deny, title: T, places: {in: [CU]}, citation: ' ', url: 'https://x.org'}",
            ["citation"],
        ),
    ],
)
def test_rules_say_where_they_come_from_and_where_they_apply(
    pack: RuleTable, rule: str, expected: list[str]
) -> None:
    found = problems(f"rules:\n  - {rule}\n", pack)
    assert [field.removeprefix("rules[r].") for _, field, _ in found] == expected, found
    assert all(line == 3 for line, _, _ in found)


def test_a_group_url_must_be_a_web_address(pack: RuleTable) -> None:
    found = problems(
        "groups:\n  - {id: g, name: G, members: [DE], url: 'file:///etc/passwd'}\n", pack
    )
    assert [(f, "not a web address" in m) for _, f, m in found] == [("groups[g].url", True)]


@pytest.mark.parametrize(
    ("customers", "field"),
    [
        ("- {id: a, name: Acme GmbH, hq: DE}\n  - {id: b, name: 'ACME, GmbH.', hq: FR}", "name"),
        (
            "- {id: a, name: Acme GmbH, hq: DE}\n  - {id: b, name: Beta, hq: FR, aliases: [acme gmbh]}",
            "aliases[0]",
        ),
        (
            "- {id: acme, name: Acme GmbH, hq: DE}\n  - {id: b, name: Beta, hq: FR, aliases: [ACME]}",
            "aliases[0]",
        ),
    ],
)
def test_customers_do_not_share_names(pack: RuleTable, customers: str, field: str) -> None:
    found = problems(f"customers:\n  {customers}\n", pack)
    assert [(f, "already a name, alias or id of customer" in m) for _, f, m in found] == [
        (f"customers[b].{field}", True)
    ]


def test_a_clash_with_a_customer_in_the_database_is_refused(pack: RuleTable) -> None:
    parsed = parse_text(
        "version: 1\ncustomers:\n  - {id: a, name: Acme GmbH, hq: DE}\n", "base.yaml"
    )
    current = merge(pack, parsed, replace=False)
    found = problems("customers:\n  - {id: z, name: Zeta, hq: FR, aliases: [Acme GmbH]}\n", current)
    assert [f for _, f, _ in found] == ["customers[z].aliases[0]"]


def test_the_default_pack_exports_to_csv_and_back_unchanged(
    pack: RuleTable, tmp_path: Path
) -> None:
    text = rules_to_csv(pack, CSV_FIELDS)
    path = tmp_path / "rules.csv"
    path.write_text(text, encoding="utf-8")
    parsed = read_file(path)
    assert parsed.errors == []
    again = merge(pack, parsed, replace=False)
    check_merged(again, parsed, build_place_catalog())
    assert {k: r.to_dict() for k, r in again.rules.items()} == {
        k: r.to_dict() for k, r in pack.rules.items()
    }


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_guarded_on_export_and_refused_unguarded_on_import(start: str) -> None:
    value = f'{start}HYPERLINK("http://evil")'
    assert guard_cell(value) == "'" + value
    assert unguard_cell(guard_cell(value)) == (value, None)
    assert unguard_cell(value)[1] is not None
    assert guard_cell("Plain title") == "Plain title"


def test_an_exported_title_that_looks_like_a_formula_is_text_in_the_file(pack: RuleTable) -> None:
    table = merge(
        pack,
        parse_text(
            "version: 1\nrules:\n  - {id: f, effect: review, title: '=1+1', places: {in: [DE]}}\n",
            "f.yaml",
        ),
        replace=False,
    )
    rows = list(csv.DictReader(io.StringIO(rules_to_csv(table, CSV_FIELDS))))
    [row] = [r for r in rows if r["id"] == "f"]
    assert row["title"] == "'=1+1"


def test_an_unguarded_formula_in_an_imported_csv_is_refused() -> None:
    with pytest.raises(InvalidFile) as exc:
        parse_csv("id,effect,title,everywhere\nr,review,=cmd|' /C calc'!A0,true\n", "r.csv")
    [error] = exc.value.errors
    assert (error.line, error.field) == (2, "rules[r].title")
    assert "runs as a formula" in error.message


def test_a_rule_that_does_not_fit_csv_is_refused_with_a_hint(pack: RuleTable) -> None:
    table = merge(
        pack,
        parse_text(
            "version: 1\nmodels:\n  - {id: m, name: M, vendor: v, family: f, tags: [two words]}\n"
            "rules:\n  - {id: t, effect: review, title: T, models: {tags: [two words]}}\n",
            "f.yaml",
        ),
        replace=False,
    )
    with pytest.raises(BotError, match="Export it as YAML"):
        rules_to_csv(table, CSV_FIELDS)
