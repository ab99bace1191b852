"""The source-kind registry: every kind is accepted as a new source and reads its sample body; an
unknown kind, a bad selector or a misplaced option is refused naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.errors import BotError
from bot.domain.screening.parsers.common import ListFormatError
from bot.domain.screening.verdicts import KIND_CODES
from bot.domain.tracking.kinds import (
    BY_NAME,
    INTERNAL_KIND_NAMES,
    KIND_NAMES,
    KINDS,
    LIST_KIND_NAMES,
    POLLED_KIND_NAMES,
    UnknownKind,
    check_source,
    is_polled,
    kind_named,
    list_kind_of_dataset,
    parse_list,
)
from bot.domain.tracking.snapshots import SourceSpec
from bot.domain.tracking.sources import extract

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# kind: (sample body, selector, what reading it must find)
SAMPLES: dict[str, tuple[str, str | None, str]] = {
    "federal_register": ("sources/federal_register.json", None, "Entity List Additions"),
    "feed": ("sources/feed.xml", None, "Counter Terrorism Designations"),
    "webpage": ("policy_pages/anthropic-supported-regions.html", "main", "Germany"),
    "json": ("sources/supported-regions.json", "regions[*].name", "Singapore"),
    "ofac_sdn": ("screening/sdn.csv", None, ""),
    "csl": ("screening/consolidated.json", None, ""),
    "eu_fsf": ("screening/eu_fsf.xml", None, ""),
    "uk_sanctions": ("screening/uk_sanctions.xml", None, ""),
    "un_sc": ("screening/un_sc.xml", None, ""),
    "opensanctions": ("screening/targets.nested.json", None, ""),
}


def test_every_polled_kind_has_a_sample_and_only_the_rule_table_is_not_polled() -> None:
    assert set(SAMPLES) == set(POLLED_KIND_NAMES)
    assert INTERNAL_KIND_NAMES == ("rule_table",)
    assert len(KIND_NAMES) == len(set(KIND_NAMES)) == len(KINDS)


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_kind_is_accepted_as_a_new_source(kind: str) -> None:
    selector = SAMPLES.get(kind, ("", None, ""))[1]
    url = "https://example.org/x" if is_polled(kind) else ""
    assert (
        check_source(name="s", kind=kind, url=url, selector=selector, country_list=False)
        == (BY_NAME[kind])
    )


@pytest.mark.parametrize("kind", POLLED_KIND_NAMES)
def test_every_polled_kind_reads_its_sample(kind: str) -> None:
    path, selector, expected = SAMPLES[kind]
    body = (FIXTURES / path).read_bytes()
    entry = kind_named(kind)
    if entry.restricted_party_list:
        parsed = parse_list(kind, body)
        assert parsed.kind == kind
        assert parsed.entries
    else:
        snapshot = extract(SourceSpec(kind, selector, url="https://example.org/"), body)
        assert expected in snapshot.text
        assert bool(snapshot.items) == (entry.items is not None)


def test_an_unknown_kind_is_refused_listing_every_kind() -> None:
    with pytest.raises(UnknownKind) as info:
        check_source(name="Vendor", kind="pdf", url="https://x/", selector=None, country_list=False)
    assert "Source 'Vendor': unknown kind 'pdf'" in info.value.message
    assert all(name in info.value.message for name in KIND_NAMES)
    with pytest.raises(UnknownKind, match="Use one of: federal_register, feed, webpage, json"):
        kind_named("pdf")
    assert not is_polled("pdf")


@pytest.mark.parametrize(
    ("kind", "selector", "message"),
    [
        ("json", "data.countries[x]", "is not a valid JMESPath expression"),
        ("json", "data..name", "is not a valid JMESPath expression"),
        ("webpage", "main >>> p", "is not valid"),
        ("feed", "entries", "a feed source takes no selector"),
        ("csl", "results", "a csl source takes no selector"),
    ],
)
def test_a_bad_selector_names_the_source_and_the_selector(
    kind: str, selector: str, message: str
) -> None:
    with pytest.raises(BotError) as info:
        check_source(
            name="Vendor list", kind=kind, url="https://x/", selector=selector, country_list=False
        )
    assert info.value.message.startswith("Source 'Vendor list': ")
    assert message in info.value.message
    if BY_NAME[kind].selector is not None:
        assert f"'{selector}'" in info.value.message


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_only_text_kinds_can_be_country_lists(kind: str) -> None:
    url = "https://x/" if is_polled(kind) else ""
    if kind in ("webpage", "json"):
        check_source(name="s", kind=kind, url=url, selector=None, country_list=True)
    else:
        with pytest.raises(BotError, match="Only webpage and json sources can be country lists"):
            check_source(name="s", kind=kind, url=url, selector=None, country_list=True)


@pytest.mark.parametrize("kind", POLLED_KIND_NAMES)
def test_a_polled_kind_needs_a_web_address(kind: str) -> None:
    with pytest.raises(BotError, match="must start with http"):
        check_source(
            name="s", kind=kind, url="file:///etc/passwd", selector=None, country_list=False
        )


def test_companion_files_belong_to_ofac_only() -> None:
    sdn = (FIXTURES / "screening/sdn.csv").read_bytes()
    alt = (FIXTURES / "screening/alt.csv").read_bytes()
    assert parse_list("ofac_sdn", sdn, alt=alt).entries
    with pytest.raises(ListFormatError, match="--alt and --add belong to ofac_sdn, not csl"):
        parse_list("csl", b"{}", alt=alt)
    with pytest.raises(ListFormatError, match="unknown list kind 'webpage'"):
        parse_list("webpage", b"")


def test_list_kinds_agree_with_screening_rule_codes_and_yente_datasets() -> None:
    # Screening rules name lists by code (the CSL by each entry's own source list).
    assert set(KIND_CODES) | {"csl"} == set(LIST_KIND_NAMES)
    assert list_kind_of_dataset("us_ofac_sdn") == "ofac_sdn"
    assert list_kind_of_dataset("us_trade_csl") == "csl"
    assert list_kind_of_dataset("eu_fsf") is None
    assert all(BY_NAME[k].size == "list" for k in LIST_KIND_NAMES)
