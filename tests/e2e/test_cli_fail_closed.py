"""No false "allowed" from the command line: --hq, closed weights, ambiguous_customer (issue #10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import run

pytestmark = pytest.mark.e2e


@pytest.fixture
def with_dragon(db_url: str, tmp_path: Path) -> str:
    customers = tmp_path / "customers.yaml"
    customers.write_text(
        "version: 1\ncustomers:\n  - {id: dragon, name: Dragon Holdings Co, hq: CN}\n"
    )
    run(db_url, "customers", "import", str(customers))
    return db_url


def test_hq_option_makes_the_place_only_the_place_of_use(db_url: str) -> None:
    question = "can Globex in Norway use Llama 3.2 90B Vision"
    placed = json.loads(run(db_url, "ask", "--json", question).stdout)
    # Conditional only on screening: no restricted-party list is loaded in this database.
    assert (placed["verdict"], placed["customer"]["hq"]) == ("conditional", "NO")
    assert [c for c in placed["conditions"] if "restricted party" not in c] == []
    stated = json.loads(run(db_url, "ask", "--json", "--hq", "Germany", question).stdout)
    assert (stated["verdict"], stated["country"], stated["customer"]["hq"]) == (
        "denied",
        "NO",
        "DE",
    )
    assert stated["customer"]["hq_source"] == "stated"


def test_unstated_headquarters_is_conditional_in_plain_text(db_url: str) -> None:
    out = run(db_url, "ask", "can Globex use Llama 3.2 11B Vision in Norway").stdout
    assert out.startswith("CONDITIONAL") and "HQ unknown" in out
    assert "EU member states (else rule llama-3-2-multimodal-eu: denied)" in out


def test_weights_of_a_closed_model_are_denied(db_url: str) -> None:
    out = run(db_url, "ask", "--json", "--access", "weights", "can Acme in Germany use gpt-5")
    answer = json.loads(out.stdout)
    assert answer["verdict"] == "denied" and answer["reasons"][0]["rule"] == "closed-weights"


def test_before_release_is_an_error(db_url: str) -> None:
    proc = run(
        db_url, "ask", "--json", "--as-of", "2023-01-01", "can Acme in Germany use gpt-5", ok=2
    )
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "not_released" and "2025-08-07" in error["message"]


def test_lookalike_of_a_registered_customer_lists_each_candidates_verdict(with_dragon: str) -> None:
    question = "can Dragon Hold\u0456ngs Co in Germany use Claude Sonnet 4.5"
    proc = run(with_dragon, "ask", "--json", question, ok=2)
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "ambiguous_customer"
    assert [c["label"] for c in error["candidates"]] == [
        "Dragon Holdings Co (China (CN)): denied",
        "Dragon Hold\u0456ngs Co, not registered: conditional",
    ]
    # Each candidate's value is what to ask with to pick it.
    picked = run(
        with_dragon,
        "ask",
        "--json",
        question.replace("Dragon Hold\u0456ngs Co", error["candidates"][0]["value"]),
    ).stdout
    assert json.loads(picked)["verdict"] == "denied"
    plain = run(with_dragon, "ask", question, ok=2).stderr
    assert "Dragon Holdings Co (China (CN)): denied  [Dragon Holdings Co]" in plain


def test_rules_list_reads_plainly(db_url: str) -> None:
    out = run(db_url, "rules", "list").stdout
    assert "…" not in out and "(unverified) (unverified)" not in out
    assert "from 2025-09-05" in out and "always" in out


def test_validate_warns_about_allow_rules_without_access(db_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {id: wide-allow, effect: allow, title: Claude anywhere,\n"
        "     models: {vendors: [anthropic]}, citation: c, url: 'https://example.org'}\n"
    )
    proc = run(db_url, "rules", "validate", str(rules))
    assert "warning: rules[wide-allow]: allow rule without an access: limit" in proc.stderr
