"""The shipped policy sources: seeded once, with real URLs and linked groups (never fetched)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from bot.services.asking import add_default_sources
from storage.db import session_scope
from storage.policies import list_sources

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_shipped_sources_are_added_once_with_their_groups(engine: Engine) -> None:
    assert add_default_sources(engine, now=NOW) == 8
    assert add_default_sources(engine, now=NOW) == 0
    with session_scope(engine) as session:
        sources = {s.name: s for s in list_sources(session=session)}
    assert sources["Federal Register - BIS"].url.startswith(
        "https://www.federalregister.gov/api/v1/documents.json?conditions[agencies][]="
        "industry-and-security-bureau"
    )
    assert "foreign-assets-control-office" in sources["Federal Register - OFAC"].url
    assert sources["Anthropic supported regions"].country_list_group == "g-anthropic-supported"
    assert sources["OpenAI supported countries"].country_list_group == "g-openai-supported"
    assert sources["OFAC recent actions"].url == "https://ofac.treasury.gov/recent-actions"
    assert sources["Clearance rule table"].kind == "rule_table"
    assert sources["US Consolidated Screening List"].kind == "csl"
    assert sources["US Consolidated Screening List"].url == (
        "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json"
    )
    assert sources["OFAC SDN list"].kind == "ofac_sdn"
    assert sources["OFAC SDN list"].interval_s == 86400
    assert all(s.url.startswith("https://") for s in sources.values() if s.kind != "rule_table")
