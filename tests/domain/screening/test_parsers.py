"""Every list kind parsed from real-format samples, the real SDN file included."""

from __future__ import annotations

import pytest

from bot.domain.screening.parsers.common import ListFormatError
from bot.domain.tracking.kinds import parse_list
from tests.domain.screening.conftest import fixture_bytes


def test_real_sdn_file_parses_every_row(full_sdn: bytes) -> None:
    parsed = parse_list("ofac_sdn", full_sdn)
    rows = [line for line in full_sdn.split(b"\r\n") if line[:1].isdigit()]
    assert len(parsed.entries) == len(rows) > 10_000
    by_id = {e.entry_id: e for e in parsed.entries}
    assert by_id["44973"].name == "RUSSIAN HIGHWAYS STATE COMPANY"
    assert by_id["44973"].programs == ("RUSSIA-EO14024",)
    assert by_id["44973"].countries == ("RU",)  # from "Registration Number … (Russia)"
    assert [(a.name, a.weak) for a in by_id["306"].aliases] == [("BNC", True)]
    assert {e.type for e in parsed.entries} == {"org", "person", "vessel", "aircraft"}


def test_sdn_csv_joins_alt_and_add() -> None:
    parsed = parse_list(
        "ofac_sdn",
        fixture_bytes("sdn.csv"),
        alt=fixture_bytes("alt.csv"),
        add=fixture_bytes("add.csv"),
    )
    e = next(e for e in parsed.entries if e.entry_id == "11195")
    assert e.aliases[0].name == "IRAN AIRCRAFT MANUFACTURING INDUSTRIES"
    assert not e.aliases[0].weak
    assert "HESA" in {a.name for a in e.aliases if a.weak}
    assert e.programs == ("NPWMD", "IFSR", "IRAN-CON-ARMS-EO")
    assert e.countries == ("IR",)
    assert "Tehran 15946" in e.addresses[0].text
    person = next(e for e in parsed.entries if e.entry_id == "10278")
    assert person.type == "person" and person.name == "LOGAN MOREY, Elvis Angus"
    vessel = next(e for e in parsed.entries if e.name == "MAR AZUL")
    assert vessel.type == "vessel"


def test_sdn_advanced_xml() -> None:
    parsed = parse_list("ofac_sdn", fixture_bytes("sdn_advanced.xml"))
    by_id = {e.entry_id: e for e in parsed.entries}
    iami = by_id["11195"]
    assert iami.programs == ("NPWMD", "IFSR", "IRAN-CON-ARMS-EO")
    assert [(a.name, a.weak) for a in iami.aliases] == [
        ("IRAN AIRCRAFT MANUFACTURING INDUSTRIES", False),
        ("HESA", True),
    ]
    assert iami.countries == ("IR",) and iami.start_date == "2008-09-17"
    assert by_id["10278"].type == "person"
    assert "РОССИЙСКИЕ" in by_id["44973"].aliases[0].name


def test_csl_json() -> None:
    parsed = parse_list("csl", fixture_bytes("consolidated.json"))
    sources = {e.source for e in parsed.entries}
    assert sources == {"EL", "SDN", "SSI"}
    cetc = parsed.entries[0]
    assert cetc.citation == "83 FR 37423; 87 FR 77505"
    assert cetc.aliases[-1].name == "CETC Research Institute 13"  # "and " artefact stripped
    assert cetc.countries == ("CN",) and cetc.start_date == "2018-08-01"
    rim = next(e for e in parsed.entries if e.entry_id == "52291")
    assert rim.type == "person" and rim.countries == ("CN", "KP")
    assert parsed.published == "2024-05-02T16:00:00+00:00"


def test_eu_uk_un_opensanctions() -> None:
    eu = parse_list("eu_fsf", fixture_bytes("eu_fsf.xml")).entries
    assert eu[0].programs == ("RUS",) and eu[0].countries == ("RU",)
    assert [a.weak for a in eu[0].aliases] == [False, True]
    assert eu[1].type == "person" and eu[1].countries == ("IQ",)
    uk = parse_list("uk_sanctions", fixture_bytes("uk_sanctions.xml")).entries
    assert uk[0].entry_id == "RUS1234" and uk[0].programs == ("Russia",)
    assert ("IAV", True) in [(a.name, a.weak) for a in uk[0].aliases]
    assert uk[1].type == "person" and uk[1].countries == ("RU",)
    un = parse_list("un_sc", fixture_bytes("un_sc.xml")).entries
    assert [e.entry_id for e in un] == ["KPi.041", "KPe.001"]
    assert "KOMID" in {a.name for a in un[1].aliases} and un[1].countries == ("KP",)
    os_ = parse_list("opensanctions", fixture_bytes("targets.nested.json")).entries
    assert os_[0].programs == ("RUSSIA-EO14024",) and os_[0].countries == ("RU",)
    assert os_[1].type == "person"


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("ofac_sdn", "sdn.csv"),
        ("ofac_sdn", "sdn_advanced.xml"),
        ("csl", "consolidated.json"),
        ("eu_fsf", "eu_fsf.xml"),
        ("uk_sanctions", "uk_sanctions.xml"),
        ("un_sc", "un_sc.xml"),
        ("opensanctions", "targets.nested.json"),
    ],
)
def test_truncated_and_empty_files_are_refused(kind: str, name: str) -> None:
    body = fixture_bytes(name)
    with pytest.raises(ListFormatError):
        parse_list(kind, b"")
    with pytest.raises(ListFormatError):
        parse_list(kind, body[: len(body) // 2 + 7])


def test_wrong_kind_is_refused_with_the_reason() -> None:
    with pytest.raises(ListFormatError, match="expected <export>"):
        parse_list("eu_fsf", fixture_bytes("un_sc.xml"))
    with pytest.raises(ListFormatError, match="unknown list kind"):
        parse_list("nope", b"x")
