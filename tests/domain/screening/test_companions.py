"""Companion files of a list source: OFAC's ALT.CSV and ADD.CSV beside SDN.CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.domain.screening.companions import companion_urls

SERVICE = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"


@pytest.mark.parametrize(
    ("kind", "url", "expected"),
    [
        (
            "ofac_sdn",
            SERVICE + "SDN.CSV",
            {"alt": SERVICE + "ALT.CSV", "add": SERVICE + "ADD.CSV"},
        ),
        (
            "ofac_sdn",
            "https://www.treasury.gov/ofac/downloads/sdn.csv",
            {
                "alt": "https://www.treasury.gov/ofac/downloads/alt.csv",
                "add": "https://www.treasury.gov/ofac/downloads/add.csv",
            },
        ),
        (
            "ofac_sdn",
            "http://127.0.0.1:8080/x/SDN.CSV?v=2",
            {"alt": "http://127.0.0.1:8080/x/ALT.CSV", "add": "http://127.0.0.1:8080/x/ADD.CSV"},
        ),
        ("ofac_sdn", SERVICE + "SDN_ADVANCED.XML", {}),  # the XML carries aliases itself
        ("csl", "https://data.trade.gov/x/consolidated.json", {}),
    ],
)
def test_companion_urls(kind: str, url: str, expected: dict[str, str]) -> None:
    assert companion_urls(kind, url) == expected


def test_the_shipped_sdn_source_fetches_alt_and_add() -> None:
    pack = Path(__file__).resolve().parents[3] / "storage" / "packs" / "sources.yaml"
    [sdn] = [s for s in yaml.safe_load(pack.read_text())["sources"] if s["kind"] == "ofac_sdn"]
    assert set(companion_urls("ofac_sdn", sdn["url"])) == {"alt", "add"}
