"""Screening in answers: confirmed, possible, dismissed and re-listed hits; the 50% rule through
chains; the Affiliates Rule's dates; and answers when no list is loaded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.domain.asking.answers import Answer
from bot.domain.asking.knowledge import Knowledge
from bot.domain.asking.questions import parse_question
from bot.domain.screening.entries import Entry, ParsedList
from bot.services.jobs import Jobs
from bot.services.rescreening import hit_change_texts, rescreen_customers
from bot.services.screening_answers import answer_screened
from bot.services.screening_cache import ScreeningCache
from bot.settings import Settings
from handlers.render import digests
from storage.db import session_scope
from storage.list_entries import find_entry
from storage.list_versions import store_version
from storage.rules import load_table, write_revision
from storage.screening_decisions import record_decision
from tests.support.factories import knowledge, table_from_yaml, with_listed_rules

NOW = datetime(2026, 12, 5, tzinfo=UTC)
TABLE = """
customers:
  - {id: nimbus, name: Nimbus Pte Ltd, hq: SG, owners: [{owner: dragon, share: 50}],
     uses: [{model: acme-1, country: SG}]}
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
  - {id: orbit, name: Orbit Analytics GmbH, hq: DE, owners: [{owner: mid, share: 100}]}
  - {id: mid, name: Midway Capital Ltd, hq: CY, owners: [{owner: dragon, share: 30}, {owner: phoenix, share: 25}]}
  - {id: phoenix, name: Phoenix Avionics Corp, hq: CN}
  - {id: lowly, name: Lowly Partners AG, hq: CH, owners: [{owner: dragon, share: 49.9}]}
  - {id: tethys, name: Tethys Robotics Pte Ltd, hq: SG, owners: [{owner: phoenix, share: 60}]}
  - {id: ivanov, name: Sergei Petrovich Ivanov, type: person, hq: RU}
  - {id: ivanov-org, name: Ivanov Sergei Petrovich, hq: RU}
rules:
  - {id: acme-allow, effect: allow, title: Acme everywhere, models: {vendors: [acme]},
     citation: test, url: "https://example.com/acme"}
"""
SDN = (
    Entry("9001", "DRAGON HOLDINGS CO., LTD.", programs=("SDGT",), countries=("CN",)),
    Entry("9002", "QUASAR MARITIME TRADING LLC", programs=("IRAN",), countries=("AE",)),
)
CSL = (
    Entry(
        "el-1",
        "Phoenix Avionics Corporation",
        source="EL",
        countries=("CN",),
        citation="90 FR 1234",
        start_date="2026-12-01",
    ),
    Entry(
        "el-2",
        "Nimbus Technologies Pte. Ltd.",
        source="EL",
        countries=("SG",),
        citation="90 FR 1234",
        start_date="2026-12-01",
    ),
)


@pytest.fixture
def kb() -> Knowledge:
    return knowledge(with_listed_rules(TABLE))


def _load(engine: Engine, sdn: tuple[Entry, ...] = SDN, csl: tuple[Entry, ...] = CSL) -> None:
    store_version(
        engine, "ofac_sdn", ParsedList("ofac_sdn", sdn), name="OFAC SDN", now=NOW, origin="import"
    )
    store_version(
        engine,
        "csl",
        ParsedList("csl", csl),
        name="US CSL",
        now=NOW,
        origin="import",
        max_removed_share=1.0,
    )


def _ask(
    engine: Engine, kb: Knowledge, question: str, *, today: date = date(2026, 12, 5)
) -> Answer:
    q = parse_question(question, places=kb.places, models=kb.models)
    state = ScreeningCache(engine).get()
    return answer_screened(q, kb, engine, state, today=today, decision_id="test")


def test_no_list_loaded_says_not_screened_and_never_clears(
    empty_engine: Engine, kb: Knowledge
) -> None:
    a = _ask(empty_engine, kb, "can Quasar Maritime in Germany use acme-1?")
    assert a.verdict == "conditional"
    assert any("not a restricted party" in c for c in a.conditions)
    assert a.screening is not None and a.screening["status"] == "not_screened"
    registered = _ask(empty_engine, kb, "can Lowly Partners AG use acme-1 in Switzerland?")
    # A registered customer's list status is no more known than an unregistered one's.
    assert registered.verdict == "conditional"
    assert any("Lowly Partners AG is not a restricted party" in c for c in registered.conditions), (
        registered.conditions
    )


def test_a_person_customer_is_screened_as_a_person(empty_engine: Engine, kb: Knowledge) -> None:
    person = Entry("P1", "IVANOV, Sergei Petrovich", type="person", countries=("RU",))
    _load(empty_engine, sdn=(*SDN, person))
    a = _ask(empty_engine, kb, "can ivanov use acme-1 in Russia?")
    assert (a.verdict, a.rule_ids()) == ("denied", ["scr-sdn"])
    assert a.screening is not None and a.screening["matches"][0]["strength"] == "match"
    # The same name registered as an organization (the default) is only a possible match.
    org = _ask(empty_engine, kb, "can ivanov-org use acme-1 in Russia?")
    assert org.verdict == "review"
    assert org.screening is not None and org.screening["matches"][0]["strength"] == "possible"


def test_clear_answer_names_the_lists_and_versions(empty_engine: Engine, kb: Knowledge) -> None:
    _load(empty_engine)
    a = _ask(empty_engine, kb, "can Zebra Foods in Germany use acme-1?")
    assert a.verdict == "allowed"
    assert a.screening is not None and a.screening["status"] == "clear"
    assert [x["id"] for x in a.screening["lists"]] == ["csl", "ofac_sdn"]
    assert a.screening["summary"].startswith("No hits on US CSL (version of 2026-12-05)")
    assert a.to_dict()["screening"]["lists"][1]["entries"] == 2


def test_match_denies_with_the_entry_cited(empty_engine: Engine, kb: Knowledge) -> None:
    _load(empty_engine)
    a = _ask(empty_engine, kb, "can Quasar Maritime Trading LLC in Germany use acme-1?")
    assert a.verdict == "denied"
    assert a.rule_ids() == ["scr-sdn"]
    assert "9002" in a.reasons[0]["detail"]
    assert a.screening is not None and a.screening["status"] == "match"
    m = a.screening["matches"][0]
    assert (m["entry_id"], m["strength"], m["list"]) == ("9002", "match", "ofac_sdn")


def test_the_deciding_rule_is_cited_from_the_rule_table(
    empty_engine: Engine, kb: Knowledge
) -> None:
    _load(empty_engine)
    a = _ask(empty_engine, kb, "can Quasar Maritime Trading LLC in Germany use acme-1?")
    rule = kb.table.rules["scr-sdn"]
    assert rule.listed is not None and rule.listed.lists == ("SDN",)
    (reason,) = a.reasons
    assert (reason["citation"], reason["url"]) == (rule.citation, rule.url)
    assert "Reference confidence: confirmed." in reason["explanation"]
    assert [r["rule"] for r in a.overridden] == ["acme-allow"]


def test_a_hit_on_a_list_no_rule_names_is_never_cleared(empty_engine: Engine) -> None:
    # A table without list-membership rules (one from before they were rules) still never
    # answers `allowed` for a party that matches a list.
    _load(empty_engine)
    bare = knowledge(TABLE)
    a = _ask(empty_engine, bare, "can Quasar Maritime Trading LLC in Germany use acme-1?")
    assert a.verdict == "review"
    assert any("no rule of the table names the SDN list" in w for w in a.warnings), a.warnings


def test_possible_match_is_at_most_review_and_asks_for_a_decision(
    empty_engine: Engine, kb: Knowledge
) -> None:
    _load(empty_engine)
    a = _ask(empty_engine, kb, "can Quasar Maritime in Germany use acme-1?")
    assert a.verdict == "review"
    assert a.screening is not None and a.screening["status"] == "possible"
    assert any("9002" in w and "confirm or dismiss" in w for w in a.warnings)


def test_dismissal_holds_until_the_entry_changes(empty_engine: Engine, kb: Knowledge) -> None:
    _load(empty_engine)
    with session_scope(empty_engine) as session:
        list_id, entry = find_entry(session, None, "9002")
    record_decision(
        empty_engine,
        customer_id="quasar maritime",
        list_id=list_id,
        entry=entry,
        decision="dismiss",
        actor="U1",
        reason="different company: Hamburg registry",
        now=NOW,
    )
    a = _ask(empty_engine, kb, "can Quasar Maritime in Germany use acme-1?")
    assert a.verdict == "allowed"
    assert a.screening is not None and a.screening["status"] == "dismissed"
    # Re-listed with a new program: the dismissal no longer holds.
    _load(empty_engine, sdn=(SDN[0], replace(SDN[1], programs=("IRAN", "SDGT"))))
    again = _ask(empty_engine, kb, "can Quasar Maritime in Germany use acme-1?")
    assert again.verdict == "review"


def test_confirmed_possible_match_makes_the_rule_hold(empty_engine: Engine, kb: Knowledge) -> None:
    _load(empty_engine)
    with session_scope(empty_engine) as session:
        list_id, entry = find_entry(session, None, "9002")
    record_decision(
        empty_engine,
        customer_id="quasar maritime",
        list_id=list_id,
        entry=entry,
        decision="confirm",
        actor="U1",
        reason="same registration number",
        now=NOW,
    )
    assert _ask(empty_engine, kb, "can Quasar Maritime in Germany use acme-1?").verdict == "denied"


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("can Nimbus Pte Ltd use acme-1 in Singapore?", "denied"),  # exactly 50% by an SDN party
        ("can Lowly Partners AG use acme-1 in Switzerland?", "allowed"),  # 49.9%
        ("can Orbit Analytics GmbH use acme-1 in Germany?", "allowed"),  # mid is 30% SDN-owned
    ],
)
def test_fifty_percent_rule(
    empty_engine: Engine, kb: Knowledge, question: str, verdict: str
) -> None:
    _load(empty_engine, csl=(CSL[1],))
    a = _ask(empty_engine, kb, question)
    assert a.verdict == verdict
    if verdict == "denied":
        assert a.rule_ids() == ["scr-sdn-50-percent"]
        assert "Dragon" not in a.reasons[0]["detail"] or "dragon" in a.reasons[0]["detail"]
        assert a.screening is not None and a.screening["ownership"][0]["share"] == 50


def test_fifty_percent_rule_through_a_chain(empty_engine: Engine, kb: Knowledge) -> None:
    # mid: 30% dragon (SDN) + 25% phoenix (made SDN here) = 55%, so mid is blocked, and orbit
    # (100% mid) with it.
    _load(
        empty_engine,
        sdn=(*SDN, Entry("9003", "PHOENIX AVIONICS CORP", programs=("SDGT",))),
        csl=(CSL[1],),
    )
    a = _ask(empty_engine, kb, "can Orbit Analytics GmbH use acme-1 in Germany?")
    assert a.verdict == "denied"
    chain = a.screening["ownership"][0]["chains"] if a.screening else []
    assert ["dragon" in link for link in chain[0]] == [True, False]
    assert chain[0][-1].startswith("mid (blocked: 55% owned by blocked parties) owns 100% of orbit")


@pytest.mark.parametrize(
    ("today", "access", "verdict"),
    [
        (date(2025, 10, 15), "weights", "license_required"),  # Affiliates Rule in force
        (date(2025, 10, 15), "api", "review"),
        (date(2026, 1, 15), "weights", "allowed"),  # suspended
        (date(2026, 12, 1), "weights", "review"),  # returned, unverified
    ],
)
def test_affiliates_rule_dates(
    empty_engine: Engine, kb: Knowledge, today: date, access: str, verdict: str
) -> None:
    _load(empty_engine, csl=(CSL[0],))
    a = _ask(
        empty_engine,
        kb,
        # An open-weight model: a closed one's weights are denied whatever the lists say.
        f"can Tethys Robotics Pte Ltd use acme-open in Singapore with {access} access?",
        today=today,
    )
    assert a.verdict == verdict


def test_rescreen_reports_new_hits_with_flips(empty_engine: Engine, kb: Knowledge) -> None:
    _load(empty_engine, csl=(CSL[0],))
    state = ScreeningCache(empty_engine).get()
    first = rescreen_customers(empty_engine, state, kb, now=NOW)
    assert {(h.customer_id, h.party_id) for h in first.new} >= {
        ("nimbus", "dragon"),
        ("phoenix", "phoenix"),
    }
    _load(empty_engine, csl=CSL)
    state = ScreeningCache(empty_engine).get()
    second = rescreen_customers(empty_engine, state, kb, now=NOW)
    texts = hit_change_texts(kb, second, state, on=NOW.date())
    assert any(
        t.startswith("Nimbus Pte Ltd now possibly matches EL entry 'Nimbus Technologies Pte. Ltd.'")
        for t in texts
    ), texts


def test_serving_cache_rebuilds_a_new_version_off_the_request_path(empty_engine: Engine) -> None:
    import time

    _load(empty_engine)
    cache = ScreeningCache(empty_engine, background=True)
    first = cache.get()
    store_version(
        empty_engine,
        "ofac_sdn",
        ParsedList("ofac_sdn", (*SDN, Entry("9004", "NEW LISTED CO"))),
        name="OFAC SDN",
        now=NOW,
        origin="poll",
    )
    assert cache.get() is first  # answered at once from the version in hand
    deadline = time.monotonic() + 10
    while cache.get() is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get().versions["ofac_sdn"] > first.versions["ofac_sdn"]


def test_one_shot_commands_reuse_a_saved_index(empty_engine: Engine, tmp_path: Path) -> None:
    from storage.screening_snapshots import ScreeningSnapshots
    from storage.snapshots import database_key

    _load(empty_engine)
    store = ScreeningSnapshots(tmp_path, database_key(empty_engine) or "db")
    first = ScreeningCache(empty_engine, snapshots=store).get()
    assert store.path.exists()
    again = ScreeningCache(empty_engine, snapshots=store).get()
    assert again is not first and again.versions == first.versions
    assert [h.entry.entry_id for h in again.screen("Quasar Maritime Trading LLC")] == ["9002"]
    _load(empty_engine, sdn=(*SDN, Entry("9004", "NEW LISTED CO")))
    newer = ScreeningCache(empty_engine, snapshots=store).get()
    assert newer.versions != first.versions and newer.screen("New Listed Co")


def _revise(engine: Engine, text: str) -> None:
    with session_scope(engine) as session:
        old = load_table(session=session)
        new = table_from_yaml(text)
        write_revision(session=session, old=old, new=new, author="bob", now=NOW)
        session.commit()


def test_a_revision_adding_listed_rules_names_the_answers_it_flips_for_customers_with_hits(
    empty_engine: Engine, kb: Knowledge
) -> None:
    _load(empty_engine)
    rescreen_customers(empty_engine, ScreeningCache(empty_engine).get(), kb, now=NOW)
    _revise(empty_engine, TABLE)
    jobs = Jobs(empty_engine, Settings(), renderer=digests)
    assert jobs.record_revisions(now=NOW) == []  # the first run marks where news begins
    _revise(empty_engine, with_listed_rules(TABLE))
    (change,) = jobs.record_revisions(now=NOW)
    # Nimbus is 50% owned by SDN-listed Dragon Holdings: the new 50% rule denies its usage.
    assert change.severity == "high"
    flips = {(f["customer_id"], f["model"], f["after"]) for f in change.details["flips"]}
    assert ("nimbus", "acme-1", "denied") in flips
