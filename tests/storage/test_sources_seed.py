"""Policy sources: the shipped ones seeded once, with real URLs and linked groups (never
fetched); any kind of the registry added, a bad kind or selector refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.domain.errors import BotError
from bot.domain.tracking.kinds import KIND_NAMES, is_polled
from bot.services.asking import add_default_sources
from storage.db import session_scope
from storage.policies import add_source, list_sources, polled_sources

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


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_registry_kind_can_be_added(engine: Engine, kind: str) -> None:
    url = "https://example.org/x" if is_polled(kind) else ""
    with session_scope(engine) as session:
        source = add_source(session=session, name=f"a {kind}", kind=kind, url=url, now=NOW)
        session.commit()
        assert source.kind == kind
        assert (source.id in [s.id for s in polled_sources(session=session)]) == is_polled(kind)


@pytest.mark.parametrize(
    ("kind", "selector", "message"),
    [
        ("pdf", None, "Source 'Vendor': unknown kind 'pdf'. Use one of: federal_register, feed"),
        ("json", "data[", "Source 'Vendor': the JSON selector 'data[' is not a valid JMESPath"),
        ("webpage", "main >>> p", "Source 'Vendor': the CSS selector 'main >>> p' is not valid"),
    ],
)
def test_a_bad_kind_or_selector_adds_nothing(
    engine: Engine, kind: str, selector: str | None, message: str
) -> None:
    with session_scope(engine) as session:
        with pytest.raises(BotError, match=re.escape(message)):
            add_source(
                session=session,
                name="Vendor",
                kind=kind,
                url="https://example.org/x",
                now=NOW,
                selector=selector,
            )
        assert list_sources(session=session) == []
