"""The app runs as a PostgreSQL role that may only INSERT and SELECT on the audit tables.

The grants are the ones the README gives. The owner migrates and loads the database; the app's
role then answers, imports and verifies, and cannot rewrite, delete or empty the audit log.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.db import create_db_engine

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "bot"]

# As in the README ("Running with least privilege"), for the schema the tests use.
GRANTS = """
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
REVOKE UPDATE, DELETE ON decision, admin_action, revision FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
"""


@pytest.fixture
def app_role(engine: Engine, db_url: str) -> Iterator[str]:
    """A login role with the README's grants; yields the app's database URL as that role."""
    if engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = f"clr_app_{uuid.uuid4().hex[:10]}"
    schema = str(make_url(db_url).query["options"]).split("search_path=", 1)[1].split()[0]
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        for statement in GRANTS.format(schema=schema, role=role).strip().splitlines():
            conn.execute(text(statement))
    try:
        yield make_url(db_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--db", url, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_app_works_with_insert_and_select_only_on_audit_tables(
    app_role: str, tmp_path: Path
) -> None:
    asked = run(app_role, "ask", "--json", "can Acme GmbH in Germany use Claude Sonnet 4.5?")
    assert asked.returncode == 0, asked.stderr
    rules = tmp_path / "more.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {id: extra, effect: review, title: Extra, places: {in: [FR]}}\n"
    )
    imported = run(app_role, "--author", "carol", "rules", "import", str(rules))
    assert imported.returncode == 0, imported.stderr
    verified = run(app_role, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "decision: 1 rows, chain intact" in verified.stdout

    app = create_db_engine(app_role)
    try:
        for statement in (
            "UPDATE decision SET verdict = 'allowed'",
            "DELETE FROM decision",
            "TRUNCATE decision",
            "UPDATE revision SET author = 'mallory'",
            "DELETE FROM admin_action",
        ):
            with pytest.raises(Exception, match="permission denied"), app.begin() as conn:
                conn.execute(text(statement))
    finally:
        app.dispose()
