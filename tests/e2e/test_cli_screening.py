"""`clearance lists …` and `clearance screen …` as a user runs them: real processes, a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "bot"]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"


def run(
    db_url: str, *args: str, ok: int | None = 0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*CLI, "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        input=stdin,
    )
    if ok is not None:
        assert proc.returncode == ok, proc.stderr
    return proc


@pytest.fixture
def loaded(db_url: str) -> str:
    run(
        db_url,
        "lists",
        "import",
        "--kind",
        "ofac_sdn",
        "--alt",
        str(FIXTURES / "alt.csv"),
        "--add",
        str(FIXTURES / "add.csv"),
        str(FIXTURES / "sdn.csv"),
    )
    run(db_url, "lists", "import", "--kind", "csl", str(FIXTURES / "consolidated.json"))
    return db_url


def test_lists_list_show_history(loaded: str) -> None:
    lists = json.loads(run(loaded, "lists", "list", "--json").stdout)
    assert [(x["id"], x["kind"]) for x in lists] == [("csl", "csl"), ("ofac_sdn", "ofac_sdn")]
    assert lists[1]["version"]["entries"] == lists[1]["version"]["added"] > 10
    shown = json.loads(run(loaded, "lists", "show", "ofac_sdn", "--json").stdout)
    assert {c["entry_id"] for c in shown["changes"]} >= {"44973", "11195"}
    assert len(json.loads(run(loaded, "lists", "history", "csl", "--json").stdout)) == 1
    missing = run(loaded, "lists", "show", "nope", ok=1)
    assert "No list 'nope'" in missing.stderr


def test_screen_json_shape_and_entry_id(loaded: str) -> None:
    out = json.loads(
        run(loaded, "screen", "--json", "--hq", "RU", "Russian Highways State Company").stdout
    )
    assert out["query"] == "Russian Highways State Company"
    # Legal forms become one low-weight token.
    assert out["normalized"] == "russian highways state ~co"
    assert {x["id"] for x in out["lists"]} == {"ofac_sdn", "csl"}
    m = out["matches"][0]
    assert {
        "list",
        "entry_id",
        "name",
        "matched_name",
        "type",
        "programs",
        "countries",
        "score",
        "strength",
        "url",
        "citation",
    } <= set(m)
    assert (m["entry_id"], m["strength"], m["programs"]) == ("44973", "match", ["RUSSIA-EO14024"])


def test_batch_screening_prints_one_line_per_name_in_order(loaded: str) -> None:
    names = ["Rosneft Trading SA", "Zebra Foods GmbH", "HUAWEI TECH CO LTD", ""]
    proc = run(loaded, "screen", "--json", "-", stdin="\n".join(names) + "\n")
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [x["query"] for x in lines] == names
    assert [bool(x["matches"]) for x in lines] == [True, False, True, False]


def test_confirm_and_dismiss_are_audited_and_change_answers(loaded: str) -> None:
    q = "can Quasar Holdings in Germany use GPT-4o?"
    assert json.loads(run(loaded, "ask", "--json", q).stdout)["screening"]["status"] == "clear"
    possible = json.loads(run(loaded, "ask", "--json", "can Rosneft in Germany use GPT-4o?").stdout)
    assert possible["verdict"] == "review" and possible["screening"]["status"] == "possible"
    run(
        loaded,
        "screen",
        "dismiss",
        "Rosneft",
        "18299",
        "--list",
        "ofac_sdn",
        "--why",
        "state oil company, not the trading arm",
    )
    run(loaded, "screen", "dismiss", "Rosneft", "18299", "--list", "csl", "--why", "same")
    after = json.loads(run(loaded, "ask", "--json", "can Rosneft in Germany use GPT-4o?").stdout)
    assert after["screening"]["status"] == "dismissed"
    assert after["verdict"] != "review"
    refused = run(loaded, "screen", "dismiss", "Rosneft", "18299", ok=1)
    assert "--why" in refused.stderr


def test_screen_customers_lists_open_hits(loaded: str, tmp_path: Path) -> None:
    customers = tmp_path / "c.yaml"
    customers.write_text("""version: 1
customers:
  - {id: rt, name: Rosneft Trading SA, hq: CH}
  - {id: zebra, name: Zebra Foods GmbH, hq: DE, owners: [{owner: rt, share: 50}]}
""")
    imported = run(loaded, "customers", "import", str(customers)).stdout
    assert "Screened 2 customers and their owners" in imported  # screened at import
    hits = json.loads(run(loaded, "screen", "customers", "--json").stdout)
    assert {(h["customer"], h["party"], h["entry"]) for h in hits} >= {
        ("rt", "rt", "18299"),
        ("zebra", "rt", "18299"),
    }
    answer = json.loads(
        run(loaded, "ask", "--json", "can Zebra Foods GmbH use GPT-4o in Germany?").stdout
    )
    assert answer["verdict"] == "denied"
    assert "scr-sdn-50-percent" in [r["rule"] for r in answer["reasons"]]
    # The list-membership rules are rules of the table like any other.
    listed = run(loaded, "rules", "list").stdout
    assert any(line.startswith("scr-sdn-50-percent ") for line in listed.splitlines())
    shown = run(loaded, "rules", "show", "scr-sdn-50-percent").stdout
    assert "listed:" in shown and "party: owners" in shown


def test_import_guards(loaded: str, tmp_path: Path) -> None:
    empty = tmp_path / "sdn.csv"
    empty.write_bytes(b"")
    assert "empty" in run(loaded, "lists", "import", "--kind", "ofac_sdn", str(empty), ok=1).stderr
    small = tmp_path / "small.csv"
    small.write_bytes((FIXTURES / "sdn.csv").read_bytes().split(b"\r\n", 1)[0] + b"\r\n")
    refused = run(loaded, "lists", "import", "--kind", "ofac_sdn", str(small), ok=1)
    assert "would remove" in refused.stderr and "stored version stays" in refused.stderr
    assert len(json.loads(run(loaded, "lists", "history", "ofac_sdn", "--json").stdout)) == 1
