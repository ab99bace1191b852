"""Builders for tests: rule tables and knowledge from inline YAML."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from typing import Any

import yaml

from bot.domain.asking.answers import Answer
from bot.domain.asking.deciding import answer
from bot.domain.asking.knowledge import Knowledge, build_knowledge
from bot.domain.asking.questions import parse_question
from bot.domain.rules.files import parse_text
from bot.domain.rules.merging import check_merged, merge
from bot.domain.rules.table import RuleTable

BASE_MODELS = """
models:
  - {id: acme-1, name: Acme 1, vendor: acme, family: acme, open_weights: false, aliases: [Acme One]}
  - {id: acme-open, name: Acme Open, vendor: acme, family: acme-open, open_weights: true}
  - {id: zeta-2, name: Zeta 2, vendor: zeta, family: zeta, open_weights: false, tags: [frontier]}
"""


PLACEHOLDER_SOURCE = {"citation": "test fixture", "url": "https://example.org/test-fixture"}


def with_sources(doc: str) -> str:
    """Give the rules of a domain fixture what a file import requires of their provenance.

    Domain fixtures describe evaluation: a deciding rule without a citation or URL gets a
    placeholder, and a rule without conditions says `everywhere: true`. The requirements
    themselves are tested on files (tests/storage/test_files.py).
    """
    from bot.domain.rules.parsed_file import plain_data
    from bot.domain.rules.provenance import CONDITION_FIELDS, DECIDING
    from bot.domain.rules.yaml_lines import LineLoader

    loader = LineLoader(doc)
    loader.duplicates = []
    try:
        data = plain_data(loader.get_single_data())
    finally:
        loader.dispose()
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        return doc
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        if rule.get("effect") in DECIDING:
            for key, value in PLACEHOLDER_SOURCE.items():
                rule.setdefault(key, value)
        if not any(rule.get(f) is not None for f in CONDITION_FIELDS):
            rule.setdefault("everywhere", True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def table_from_yaml(text: str, *, with_models: bool = True) -> RuleTable:
    """Parse and fully validate a version-1 YAML table (models from BASE_MODELS by default)."""
    body = textwrap.dedent(text)
    own_models = re.search(r"^models:", body, re.M) is not None
    doc = "version: 1\n" + (BASE_MODELS if with_models and not own_models else "") + body
    parsed = parse_text(with_sources(doc), "test.yaml")
    table = merge(RuleTable(), parsed, replace=True)
    from bot.domain.names.places import build_place_catalog

    check_merged(table, parsed, build_place_catalog())
    return table


def with_listed_rules(text: str) -> str:
    """Add the default pack's list-membership rules (those with `listed:`) to a YAML table."""
    from storage.rules import DEFAULT_PACK

    pack = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    data = yaml.safe_load(textwrap.dedent(text)) or {}
    data["rules"] = [*(data.get("rules") or []), *(r for r in pack["rules"] if "listed" in r)]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def knowledge(text: str) -> Knowledge:
    """Build knowledge from inline YAML."""
    return build_knowledge(table_from_yaml(text))


def ask(kb: Knowledge, question: str, *, today: date = date(2026, 11, 26)) -> Answer:
    """Parse and answer a question against knowledge, with a fixed today."""
    q = parse_question(question, places=kb.places, models=kb.models)
    return answer(q, kb, today=today, decision_id="test")


def import_legacy(*, session: Any, parsed: Any, replace: bool, author: str, now: Any) -> Any:
    """Store a parsed file as one revision without today's import checks.

    For a database imported before a check existed: two customers sharing an alias are refused
    at import now, but a database may still hold them, and answers must handle it.
    """
    from storage.rules import load_table, write_revision

    current = load_table(session=session)
    new = merge(current, parsed, replace=replace)
    return write_revision(session=session, old=current, new=new, author=author, now=now)
