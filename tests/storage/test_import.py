"""Importing rule-table and customer files into a real database (SQLite or PostgreSQL).

A failed import must leave every table exactly as it was; a good one adds exactly one revision.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.services.rule_changes
from bot.domain.errors import InvalidFile
from bot.domain.rules.files import read_file
from bot.domain.rules.merging import merge
from bot.domain.rules.table import KINDS, RuleTable
from bot.services.rule_changes import import_file
from storage.db import session_scope
from storage.rules import DEFAULT_PACK, get_revision, load_table
from storage.tables.rule_table import Revision  # also registers every table on SQLModel.metadata
from tests.storage.test_files import BAD_FILES, doc, licensed

pytestmark = pytest.mark.storage
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
CLEARANCE = (sys.executable, "-m", "bot")


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every row of every table in a stable order, plus the table as loaded."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
    with session_scope(engine) as session:
        out["loaded"] = load_table(session=session).to_dict()
    return out


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def do_import(
    engine: Engine,
    path: Path,
    *,
    replace: bool = False,
    allowed: tuple[str, ...] = KINDS,
    author: str = "alice",
) -> Revision:
    """Import the way the CLI does: one session, committed only when the import succeeds."""
    with session_scope(engine) as session:
        rev = import_file(
            session=session, path=path, replace=replace, author=author, now=NOW, allowed=allowed
        )
        session.commit()
    return rev


def pack_table() -> RuleTable:
    return merge(RuleTable(), read_file(DEFAULT_PACK), replace=True)


# ---------------------------------------------------------------- atomicity

BAD_IMPORTS: list[tuple[str, str, bool]] = [
    *((name, doc(text), False) for name, text, _ in BAD_FILES),
    (
        "bad file with --replace",
        doc("""
        version: 1
        rules:
          - {id: a, effect: deny, title: T, places: {in: [XX]}}
        """),
        True,
    ),
    # Many good entries before the bad one: none of them may be written.
    (
        "good entries then one bad",
        doc("""
        version: 1
        vendors:
          - {id: newco, name: NewCo, hq: US}
        models:
          - {id: new-model, name: New, vendor: newco, family: new}
        customers:
          - {id: c1, name: C1, hq: DE}
        rules:
          - {id: ofac-cuba-place, effect: deny, title: Changed title, places: {in: [CU]}}
          - {id: new-rule, effect: allow, title: T, models: {ids: [new-model]}}
          - {id: broken, effect: allow, title: T, places: {in: [Atlantis]}}
        """),
        False,
    ),
]


@pytest.mark.parametrize(
    ("text", "replace"),
    [(t, r) for _, t, r in BAD_IMPORTS],
    ids=[name for name, _, _ in BAD_IMPORTS],
)
def test_failed_import_changes_nothing(
    engine: Engine, tmp_path: Path, text: str, replace: bool
) -> None:
    before = snapshot(engine)
    assert len(before["revision"]) == 1
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(InvalidFile) as exc:
        do_import(engine, path, replace=replace)
    assert exc.value.errors
    assert all(str(e).startswith(f"{path}:") for e in exc.value.errors)
    assert snapshot(engine) == before


def test_failed_csv_import_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    path = write(
        tmp_path, "rules.csv", "id,effect,title,places.in\nok,review,T,CU\nbad,review,T,XX\n"
    )
    with pytest.raises(InvalidFile) as exc:
        do_import(engine, path)
    assert [(e.line, e.field) for e in exc.value.errors] == [(3, "rules[bad].places.in[0]")]
    assert snapshot(engine) == before


def test_a_crash_while_writing_rolls_everything_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = bot.services.rule_changes.write_revision

    def write_then_crash(**kwargs: Any) -> Revision:
        original(**kwargs)  # the rows are flushed to the database by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(bot.services.rule_changes, "write_revision", write_then_crash)
    before = snapshot(engine)
    path = write(tmp_path, "good.yaml", "version: 1\ncustomers:\n  - {id: c, name: C, hq: DE}\n")
    with pytest.raises(RuntimeError):
        do_import(engine, path)
    assert snapshot(engine) == before


# ---------------------------------------------------------------- good imports

GOOD = doc("""
    version: 1
    customers:
      - {id: acme, name: Acme GmbH, hq: DE}
    rules:
      - id: ofac-cuba-place
        effect: deny
        title: Cuba, retitled
        places: {in: [CU]}
        citation: 31 CFR 515
        url: https://www.ecfr.gov/current/title-31/part-515
      - {id: new-rule, effect: review, title: New, places: {in: ["NO"]}}
    """)


def test_good_import_creates_exactly_one_revision(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    rev = do_import(engine, write(tmp_path, "good.yaml", GOOD), author="bob")
    assert rev.number == 2
    after = snapshot(engine)
    assert len(after["revision"]) == 2
    with session_scope(engine) as session:
        stored = get_revision(session=session, number=2)
        assert stored is not None
        assert stored.author == "bob"
        created = stored.created_at
        assert (created if created.tzinfo else created.replace(tzinfo=UTC)) == NOW
        assert stored.summary == "import good.yaml (customers: 1 added; rules: 1 added, 1 changed)"
        assert stored.source is not None and stored.source.endswith("good.yaml")
        assert stored.changes == [
            {"kind": "customers", "id": "acme", "op": "added"},
            {"kind": "rules", "id": "new-rule", "op": "added"},
            {"kind": "rules", "id": "ofac-cuba-place", "op": "changed"},
        ]
    # Only the changed and added entities got rows; places and other tables are untouched.
    assert after["place"] == before["place"]
    assert len(after["rule"]) == len(before["rule"]) + 2
    assert len(after["customer"]) == len(before["customer"]) + 1
    assert after["model"] == before["model"] and after["place_group"] == before["place_group"]


def test_upsert_keeps_every_other_entity(engine: Engine, tmp_path: Path) -> None:
    do_import(engine, write(tmp_path, "good.yaml", GOOD))
    expected = pack_table()
    with session_scope(engine) as session:
        table = load_table(session=session)
    assert table.rules["ofac-cuba-place"].title == "Cuba, retitled"
    assert table.rules["new-rule"].places is not None
    assert table.rules["new-rule"].places.in_ == ("NO",)
    assert table.customers["acme"].hq == "DE"
    del table.rules["new-rule"], table.customers["acme"]
    table.rules["ofac-cuba-place"] = expected.rules["ofac-cuba-place"]
    assert table.to_dict() == expected.to_dict()


REPLACEMENT = doc("""
    version: 1
    vendors:
      - {id: acme, name: Acme}
    models:
      - {id: acme-1, name: Acme 1, vendor: acme, family: acme}
    groups:
      - {id: g, name: G, members: [DE, FR]}
    rules:
      - {id: only-rule, effect: allow, title: Only, places: {in: [group:g]}, citation: C, url: "https://example.org/c"}
    """)


def test_replace_makes_the_file_the_whole_table(engine: Engine, tmp_path: Path) -> None:
    do_import(engine, write(tmp_path, "good.yaml", GOOD))
    rev = do_import(engine, write(tmp_path, "all.yaml", REPLACEMENT), replace=True)
    with session_scope(engine) as session:
        table = load_table(session=session)
    assert set(table.rules) == {"only-rule"} and set(table.models) == {"acme-1"}
    assert set(table.groups) == {"g"} and set(table.vendors) == {"acme"}
    assert table.customers == {} and table.licenses == {}
    assert rev.summary.startswith("replace all.yaml (")
    removed = {(c["kind"], c["id"]) for c in rev.changes if c["op"] == "removed"}
    assert ("customers", "acme") in removed and ("rules", "ofac-cuba-place") in removed
    assert ("models", "gpt-4o") in removed and ("groups", "g-eu") in removed


def test_every_earlier_revision_can_be_rebuilt(engine: Engine, tmp_path: Path) -> None:
    do_import(engine, write(tmp_path, "good.yaml", GOOD))
    do_import(engine, write(tmp_path, "all.yaml", REPLACEMENT), replace=True)
    do_import(
        engine,
        write(
            tmp_path,
            "more.yaml",
            doc("""
        version: 1
        rules:
          - {id: only-rule, effect: deny, title: Now deny, places: {in: [group:g]}, citation: C, url: "https://example.org/c"}
        """),
        ),
    )
    with session_scope(engine) as session:
        tables = {n: load_table(session=session, revision=n) for n in (1, 2, 3, 4)}
        newest = load_table(session=session)
    assert tables[1].to_dict() == pack_table().to_dict()
    assert tables[2].rules["ofac-cuba-place"].title == "Cuba, retitled"
    assert "acme" in tables[2].customers and "only-rule" not in tables[2].rules
    assert set(tables[3].rules) == {"only-rule"} and tables[3].rules["only-rule"].effect == "allow"
    assert tables[4].rules["only-rule"].effect == "deny"
    assert newest.to_dict() == tables[4].to_dict() and newest.revision == 4
    assert [t.revision for t in tables.values()] == [1, 2, 3, 4]


def test_importing_the_same_file_again_is_a_revision_with_no_changes(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    do_import(engine, path)
    rev = do_import(engine, path)
    assert rev.number == 3 and rev.changes == []
    assert rev.summary == "import good.yaml (no changes)"


def test_customers_import_refuses_other_sections(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    path = write(tmp_path, "customers.yaml", GOOD)
    with pytest.raises(InvalidFile) as exc:
        do_import(engine, path, allowed=("customers",))
    assert [(e.line, e.field) for e in exc.value.errors] == [(4, "rules")]
    assert "use `clearance rules import`" in exc.value.errors[0].message
    assert snapshot(engine) == before
    customers_only = write(
        tmp_path, "c.yaml", "version: 1\ncustomers:\n  - {id: c, name: C, hq: DE}\n"
    )
    with pytest.raises(ValueError, match="replace is only for whole rule tables"):
        do_import(engine, customers_only, allowed=("customers",), replace=True)
    assert snapshot(engine) == before
    rev = do_import(engine, customers_only, allowed=("customers",))
    assert rev.changes == [{"kind": "customers", "id": "c", "op": "added"}]


LICENSE_FILE = licensed("""
    licenses:
      - {id: lic, customer: acme, rules: [needs-license]}
    """)


def test_a_rule_edit_that_would_orphan_a_license_is_refused(engine: Engine, tmp_path: Path) -> None:
    do_import(engine, write(tmp_path, "lic.yaml", LICENSE_FILE))
    before = snapshot(engine)
    edit = write(
        tmp_path,
        "edit.yaml",
        doc("""
        version: 1
        rules:
          - {id: unrelated, effect: deny, title: T, places: {in: [CU]}, citation: C, url: "https://example.org/c"}
          - id: needs-license
            effect: deny
            title: T
            places: {in: [BR]}
            citation: C
            url: https://example.org/c
        """),
    )
    with pytest.raises(InvalidFile) as exc:
        do_import(engine, edit)
    assert [(e.line, e.field) for e in exc.value.errors] == [(4, "licenses[lic].rules[0]")]
    message = exc.value.errors[0].message
    assert "rule 'needs-license' is 'deny'" in message
    assert "licenses[lic] is already in the database" in message
    assert snapshot(engine) == before


# ---------------------------------------------------------------- the command line

ERROR_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<field>\S+): (?P<message>.+)$")


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLEARANCE, "--db", db_url, "--author", "carol", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


MULTI = doc("""
    version: 1
    rules:
      - id: a
        efect: deny
        effect: review
        title: T
        places: {in: [Atlantis]}
      - {id: b, effect: forbid, title: T, everywhere: true}
    """)


@pytest.mark.e2e  # runs the CLI as a process
@pytest.mark.parametrize(
    "action", [("rules", "validate"), ("rules", "import"), ("rules", "import", "--replace")]
)
def test_cli_lists_every_error_and_changes_nothing(
    engine: Engine, db_url: str, tmp_path: Path, action: tuple[str, ...]
) -> None:
    path = write(tmp_path, "multi.yaml", MULTI)
    before = snapshot(engine)
    proc = cli(db_url, *action, str(path))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[-1] == "3 error(s); nothing was changed."
    parsed = [ERROR_LINE.match(line) for line in lines[:-1]]
    assert all(parsed), lines
    assert [(m["file"], int(m["line"]), m["field"]) for m in parsed if m] == [
        (str(path), 4, "rules[a].efect"),
        (str(path), 7, "rules[a].places.in[0]"),
        (str(path), 8, "rules[b].effect"),
    ]
    assert snapshot(engine) == before


@pytest.mark.e2e  # runs the CLI as a process
def test_cli_syntax_error(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "version: 1\nrules:\n  - {id: a, effect: deny\n")
    proc = cli(db_url, "rules", "import", str(path))
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"{path}:4: yaml: syntax error: ")
    assert proc.stderr.splitlines()[-1] == "1 error(s); nothing was changed."


@pytest.mark.e2e  # runs the CLI as a process
def test_cli_customers_import_refuses_rules(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "customers.yaml", GOOD)
    before = snapshot(engine)
    proc = cli(db_url, "customers", "import", str(path))
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0].startswith(f"{path}:4: rules: 'rules' cannot be imported")
    assert snapshot(engine) == before


@pytest.mark.e2e  # runs the CLI as a process
def test_cli_validate_then_import_a_good_file(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    before = snapshot(engine)
    proc = cli(db_url, "rules", "validate", str(path))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"{path}: OK (1 customers, 2 rules)\n"
    assert snapshot(engine) == before
    proc = cli(db_url, "rules", "import", str(path))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == (
        "Revision 2: import good.yaml (customers: 1 added; rules: 1 added, 1 changed)\n"
    )
    with session_scope(engine) as session:
        rev = get_revision(session=session, number=2)
        assert rev is not None and rev.author == "carol"
        assert load_table(session=session).rules["new-rule"].title == "New"


@pytest.mark.e2e  # runs the CLI as a process
def test_cli_replace(engine: Engine, db_url: str, tmp_path: Path) -> None:
    proc = cli(
        db_url, "rules", "import", "--replace", str(write(tmp_path, "all.yaml", REPLACEMENT))
    )
    assert proc.returncode == 0, proc.stderr
    with session_scope(engine) as session:
        table = load_table(session=session)
    assert set(table.rules) == {"only-rule"} and table.revision == 2
