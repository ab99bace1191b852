"""The `clearance` command as a user runs it: a real process on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "bot"]


def run(db_url: str, *args: str, ok: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*CLI, "--db", db_url, *args], capture_output=True, text=True, timeout=60, check=False
    )
    if ok is not None:
        assert proc.returncode == ok, proc.stderr
    return proc


def test_ask_on_a_new_database_loads_the_default_pack(db_url: str) -> None:
    out = run(db_url, "ask", "--json", "can Acme in Brazil use GPT-4o?").stdout
    answer = json.loads(out)
    # No restricted-party list is loaded, so an unregistered customer is never cleared outright.
    assert answer["verdict"] == "conditional"
    assert answer["screening"]["status"] == "not_screened"
    assert answer["model"] == "gpt-4o" and answer["country"] == "BR"
    assert answer["revision"] == 1
    assert answer["reasons"][0]["rule"] == "openai-supported-allow"
    assert answer["reasons"][0]["url"].startswith("https://")
    audit = json.loads(run(db_url, "audit", "--json").stdout)
    assert [row["id"] for row in audit] == [answer["decision_id"]]


@pytest.mark.parametrize(
    ("question", "verdict", "rule"),
    [
        ("can someone in Cuba use Llama 3.3 70B", "denied", "ofac-cuba-place"),
        ("can someone in China use Claude Sonnet 4.5", "denied", "anthropic-unsupported-deny"),
        ("can a customer in Germany use Llama 3.2 90B Vision", "denied", "llama-3-2-multimodal-eu"),
        ("can someone in Germany use Gemini 2.5 Pro", "review", None),
        # "someone" can't be screened: allowed only on that condition.
        ("can someone in Japan use gpt-oss-120b", "conditional", "open-weights-allow"),
    ],
)
def test_default_pack_answers(db_url: str, question: str, verdict: str, rule: str | None) -> None:
    answer = json.loads(run(db_url, "ask", "--json", question).stdout)
    assert answer["verdict"] == verdict
    assert (rule in [r["rule"] for r in answer["reasons"]]) if rule else answer["reasons"] == []


def test_as_of_before_anthropic_ownership_rule(db_url: str, tmp_path: Path) -> None:
    customers = tmp_path / "customers.yaml"
    customers.write_text("""version: 1
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - {id: nimbus, name: Nimbus Pte Ltd, hq: SG, owners: [{owner: dragon, share: 60}]}
""")
    run(db_url, "customers", "import", str(customers))
    q = "can Nimbus Pte Ltd in Singapore use Claude Opus 4.1"  # released before 2025-09-04
    after = json.loads(run(db_url, "ask", "--json", q).stdout)
    before = json.loads(run(db_url, "ask", "--json", "--as-of", "2025-09-04", q).stdout)
    assert after["verdict"] == "denied" and "anthropic-ownership" in [
        r["rule"] for r in after["reasons"]
    ]
    assert after["revision"] == 2
    assert before["verdict"] != "denied"


def test_unanswerable_question_exits_2_with_candidates(db_url: str) -> None:
    proc = run(db_url, "ask", "--json", "can Acme in Germny use GPT-4o", ok=2)
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "unknown_country"
    assert "DE" in [c["value"] for c in error["candidates"]]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (["--as-of", "2025-02-30"], "bad_date"),
        (["--as-of", "2025/01/01"], "bad_date"),
        (["--as-of", "2024-01-01"], "bad_date"),  # the question says 2025-01-01
        (["--access", "hosted"], "bad_access"),  # the question says weights
    ],
)
def test_a_bad_or_conflicting_option_is_a_json_error(
    db_url: str, options: list[str], code: str
) -> None:
    q = "can Acme in Brazil use gpt-oss-120b with weights access as of 2025-01-01"
    proc = run(db_url, "ask", "--json", *options, q, ok=2)
    assert json.loads(proc.stdout)["error"]["code"] == code
    assert proc.stderr == ""
    assert json.loads(run(db_url, "audit", "--json").stdout) == []  # nothing was answered


def test_human_answer_names_verdict_rules_and_revision(db_url: str) -> None:
    out = run(db_url, "ask", "can someone in Iran use GPT-4o").stdout
    assert out.startswith("DENIED")
    assert "ofac-iran-place" in out and "Rule-table revision 1" in out


def test_export_then_import_round_trips(db_url: str, tmp_path: Path) -> None:
    exported = tmp_path / "table.yaml"
    run(db_url, "rules", "export", str(exported))
    out = run(db_url, "rules", "import", "--replace", str(exported)).stdout
    assert out.strip() == f"Revision 2: replace {exported.name} (no changes)"
    shown = run(db_url, "revisions", "show", "2").stdout
    assert "no changes" in shown


def test_init_no_pack_keeps_the_table_empty(db_url: str) -> None:
    assert run(db_url, "init", "--no-pack").stdout.strip() == "Database ready at revision 1."
    # Later commands load the default pack only into a database with no revision at all.
    assert json.loads(run(db_url, "rules", "list", "--json").stdout)["rules"] == []
    revisions = json.loads(run(db_url, "revisions", "list", "--json").stdout)
    assert [(r["number"], r["summary"]) for r in revisions] == [
        (1, "empty rule table (no changes)")
    ]


def test_init_pack_names_its_file_and_is_refused_on_a_database_with_a_table(
    db_url: str, tmp_path: Path
) -> None:
    pack = tmp_path / "mine.yaml"
    pack.write_text("""version: 1
models:
  - {id: acme-1, name: Acme 1, vendor: acme, family: acme, open_weights: false}
rules:
  - {id: acme-deny, effect: deny, title: No Acme, citation: c, url: "https://example.com/a",
     everywhere: true}
""")
    run(db_url, "init", "--pack", str(pack))
    shown = run(db_url, "revisions", "show", "1").stdout
    assert "rule pack (mine.yaml)" in shown and "default rule pack" not in shown
    for flag in (["--pack", str(pack)], ["--no-pack"]):
        refused = run(db_url, "init", *flag, ok=1)
        assert "already holds revision 1" in refused.stderr
        assert "clearance rules import FILE" in refused.stderr
    assert len(json.loads(run(db_url, "revisions", "list", "--json").stdout)) == 1
    assert run(db_url, "init").stdout.strip() == "Database ready at revision 1."


@pytest.mark.parametrize("revision", ["99"])  # 0 and below are usage errors (test_cli_errors)
def test_export_of_a_revision_that_does_not_exist_fails(
    db_url: str, tmp_path: Path, revision: str
) -> None:
    target = tmp_path / "table.yaml"
    proc = run(db_url, "rules", "export", "--revision", revision, str(target), ok=1)
    assert f"No revision {revision}: the newest is 1" in proc.stderr
    assert not target.exists()


def test_rules_list_and_show(db_url: str) -> None:
    listing = json.loads(run(db_url, "rules", "list", "--json").stdout)
    ids = {r["id"] for r in listing["rules"]}
    assert {"ofac-cuba-place", "anthropic-ownership", "open-weights-allow"} <= ids
    assert all(r["citation"] and r["url"] for r in listing["rules"])
    shown = run(db_url, "rules", "show", "anthropic-ownership").stdout
    assert "more_than: 50" in shown and "2025-09-05" in shown
    missing = run(db_url, "rules", "show", "nope", ok=1)
    assert "No rule" in missing.stderr


def test_help_lists_every_command() -> None:
    out = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("init", "ask", "rules", "customers", "revisions", "audit"):
        assert command in out


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-your-token", "SLACK_SIGNING_SECRET": "abc123"},
            "SLACK_BOT_TOKEN still holds a placeholder",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1-real", "SLACK_SIGNING_SECRET": "changeme"},
            "SLACK_SIGNING_SECRET still holds a placeholder",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1-real", "SLACK_APP_TOKEN": "xapp-xxxx"},
            "SLACK_APP_TOKEN still holds a placeholder",
        ),
        (
            {"SLACK_BOT_TOKEN": "not-a-bot-token", "SLACK_SIGNING_SECRET": "abc123"},
            "SLACK_BOT_TOKEN should start with 'xoxb-'",
        ),
    ],
)
def test_serve_refuses_missing_or_placeholder_secrets(
    db_url: str, env: dict[str, str], named: str
) -> None:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CLEARANCE_"))}
    proc = subprocess.run(
        [*CLI, "--db", db_url, "serve", "--port", "1"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert named in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_reader_that_stops_early_gets_no_traceback(db_url: str) -> None:
    run(db_url, "ask", "can Acme in Brazil use GPT-4o?")  # the database is ready
    # Buffered, as in a user's shell: the answer is written when the command flushes it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with subprocess.Popen(
        [*CLI, "--db", db_url, "ask", "--json", "can Acme in Brazil use GPT-4o?"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # like `| head -c0`: nobody reads the answer
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert "Traceback" not in err, err
    assert code == 141
    # The answer was audited before it was printed.
    audit = json.loads(run(db_url, "audit", "--json").stdout)
    assert len(audit) == 2
