"""Renderers: content, escaping, and Block Kit limits (checked with slack_sdk's own models)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain.asking.profiles import profile_customer
from handlers.render.answer_card import render_answer
from handlers.render.blocks import MAX_BLOCKS, MAX_MESSAGE_CHARS, escape, fit, section
from handlers.render.colours import VERDICT_COLOURS, card_blocks
from handlers.render.home import render_home
from handlers.render.modals import resolve_modal
from handlers.render.notices import render_question_error
from handlers.render.profiles import render_customer
from handlers.render.reasons import render_rules_detail
from handlers.render.reviews import render_review_request
from handlers.render.rules import render_rule
from storage.tables.audit import Decision
from storage.tables.reviews import ReviewRequest
from tests.support.block_kit import attachments_problem
from tests.support.factories import ask, knowledge, with_listed_rules


def check_message(payload: dict[str, Any], *, max_blocks: int = MAX_BLOCKS) -> None:
    """Assert a payload is inside Slack's limits; slack_sdk validates each block."""
    assert payload["text"].strip(), "a plain-text fallback is always present"
    assert len(payload["text"]) <= 4000
    assert attachments_problem(payload.get("attachments")) is None
    blocks = card_blocks(payload)  # top-level and in the coloured attachment: 50 in all
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        Block.parse(block).to_dict()  # raises SlackObjectFormationError past a limit
    assert len(json.dumps(blocks)) <= MAX_MESSAGE_CHARS + 2000


def _answer(**overrides: Any) -> dict[str, Any]:
    base = {
        "verdict": "denied",
        "reason": None,
        "question": "can Nimbus in SG use Claude",
        "customer": {"id": "nimbus", "name": "Nimbus Pte Ltd", "registered": True, "hq": "SG"},
        "country": "SG",
        "model": "claude-sonnet-4-5",
        "models": ["claude-sonnet-4-5"],
        "access": "api",
        "as_of": "2026-11-26",
        "reasons": [
            {
                "rule": "anthropic-ownership",
                "effect": "deny",
                "title": "Ownership",
                "citation": "Anthropic post",
                "url": "https://www.anthropic.com/news/x",
                "explanation": "e",
                "effective_from": "2025-09-05",
                "effective_to": None,
                "unverified": False,
            }
        ],
        "overridden": [],
        "conditions": [],
        "assumptions": [],
        "warnings": [],
        "revision": 3,
        "decision_id": "abc123",
    }
    return {**base, **overrides}


def test_answer_card_reads_at_a_glance() -> None:
    names = {"model": "Claude Sonnet 4.5", "country": "Singapore"}
    payload = render_answer(_answer(), names=names)
    check_message(payload)
    blocks = card_blocks(payload)
    assert blocks[0]["text"]["text"] == "⛔ Denied · Nimbus Pte Ltd · Claude Sonnet 4.5 · Singapore"
    fields = " ".join(f["text"] for f in blocks[1]["fields"])
    for part in ("Nimbus Pte Ltd", "`SG`", "Singapore", "`claude-sonnet-4-5`", "api", "2026-11-26"):
        assert part in fields
    assert blocks[2]["text"]["text"] == (
        "• *deny* · Ownership (`anthropic-ownership`, in force since 2025-09-05) [1]"
    )
    assert (
        blocks[3]["elements"][0]["text"]
        == "[1] <https://www.anthropic.com/news/x|Anthropic post ↗>"
    )
    assert "Decision `abc123`" in blocks[-2]["elements"][0]["text"]
    assert "revision 3" in blocks[-2]["elements"][0]["text"]
    assert [e["action_id"] for e in blocks[-1]["elements"]] == [
        "share_answer",
        "request_review",
        "show_rules",
    ]
    assert payload["text"] == "Denied · Nimbus Pte Ltd · Claude Sonnet 4.5 · Singapore"


@pytest.mark.parametrize("verdict", sorted(VERDICT_COLOURS))
def test_each_verdict_has_its_colour_beside_the_card(verdict: str) -> None:
    payload = render_answer(_answer(verdict=verdict))
    check_message(payload)
    (top,) = payload["blocks"]  # the header only: `text` stays a notification fallback
    assert top["type"] == "header"
    (attachment,) = payload["attachments"]
    assert attachment["color"] == VERDICT_COLOURS[verdict]
    assert attachment["blocks"][-1]["block_id"] == "answer_actions"
    assert len(set(VERDICT_COLOURS.values())) == len(VERDICT_COLOURS)


def test_a_shared_card_keeps_who_shared_it_beside_the_header() -> None:
    payload = render_answer(_answer(verdict="allowed"), buttons=False, shared_by="U7")
    assert [b["type"] for b in payload["blocks"]] == ["header", "context"]
    assert payload["attachments"][0]["color"] == VERDICT_COLOURS["allowed"]


def test_identical_citations_are_shown_once_and_long_ids_shortened() -> None:
    rule = _answer()["reasons"][0]
    a = _answer(
        reasons=[rule, {**rule, "rule": "other", "title": "Other"}],
        decision_id="0123456789abcdef0123456789abcdef",
        conditions=["Confirm the customer's owners.", "Confirm the customer's owners"],
    )
    blocks = card_blocks(render_answer(a))
    text = json.dumps(blocks, ensure_ascii=False)
    assert text.count("Anthropic post ↗") == 1
    assert "Ownership (`anthropic-ownership`" in text and "Other (`other`" in text
    assert text.count("[1]") == 3 and "[2]" not in text
    assert text.count("Confirm the customer") == 1  # near-identical conditions merged
    assert (
        "Decision `01234567`" in text and "0123456789abcdef0123456789abcdef" in text
    )  # in buttons


def test_shared_cards_show_the_question_and_who_shared_them() -> None:
    card = render_answer(_answer(), buttons=False, shared_by="U7")
    assert "<@U7> shared this answer to: _can Nimbus in SG use Claude_" in json.dumps(
        card, ensure_ascii=False
    )


@pytest.mark.parametrize(
    "evil", ["<!channel>", "<!here>", "<@U123>", "<https://evil|click>", "<!subteam^S1>", "a & b"]
)
def test_user_text_cannot_ping_or_link(evil: str) -> None:
    a = _answer(
        customer={"id": None, "name": f"Acme {evil}", "registered": False, "hq": "DE"},
        assumptions=[f"{evil} is not registered"],
    )
    dumped = json.dumps(render_answer(a))
    assert evil not in dumped
    assert escape(evil) in dumped


def test_very_long_answers_stay_within_limits() -> None:
    reasons = [
        {
            **_answer()["reasons"][0],
            "rule": f"r{i}",
            "title": "T" * 400,
            "explanation": "E" * 2000,
            "citation": "C" * 500,
        }
        for i in range(80)
    ]
    a = _answer(
        reasons=reasons,
        overridden=reasons,
        conditions=["c" * 900] * 40,
        warnings=["w" * 900] * 40,
        assumptions=["a" * 900] * 40,
    )
    card = render_answer(a)
    check_message(card)
    assert card_blocks(card)[-1]["type"] == "actions", "buttons survive cutting"
    assert any("more" in json.dumps(b) for b in card_blocks(card))
    check_message(render_rules_detail(a))


def test_question_error_offers_candidates_as_buttons_with_short_values() -> None:
    payload = render_question_error(
        "unknown_country",
        "I don't know 'Germny'.",
        [{"value": "DE", "label": "Germany (DE)"}],
        "can X in Germny " + "ü" * 1900,
        choice="abc123",
    )
    check_message(payload)
    button = payload["blocks"][1]["elements"][0]
    assert button["text"]["text"] == "Germany (DE)"
    assert button["value"] == "abc123:0"  # the question is stored server-side, not in the value


def test_more_than_five_candidates_get_a_select_menu() -> None:
    cands = [{"value": f"m{i}", "label": f"Model {i}"} for i in range(9)]
    payload = render_question_error("ambiguous_model", "which?", cands, "q", choice="xyz")
    check_message(payload)
    (menu,) = payload["blocks"][1]["elements"]
    assert menu["type"] == "static_select" and menu["action_id"] == "pick_candidate_menu"
    assert [o["value"] for o in menu["options"]] == [f"xyz:{i}" for i in range(9)]


def test_candidates_without_a_stored_choice_are_listed() -> None:
    cands = [{"value": f"m{i}", "label": f"Model {i}"} for i in range(3)]
    payload = render_question_error("ambiguous_model", "which?", cands, "q")
    assert all(b["type"] != "actions" for b in payload["blocks"])
    check_message(payload)


def test_customer_profile_shows_chain_control_and_usage() -> None:
    kb = knowledge("""
groups:
  - {id: g-ok, name: Supported, members: [SG, DE]}
customers:
  - {id: top, name: Top Co, hq: CN}
  - {id: mid, name: Mid Co, hq: SG, owners: [{owner: top, share: 80}]}
  - id: leaf
    name: Leaf Pte
    hq: SG
    owners: [{owner: mid, share: 60}]
    uses: [{model: acme-1, country: SG}]
rules:
  - {id: allow-acme, effect: allow, title: t, models: {vendors: [acme]}}
  - {id: own, effect: deny, title: t, customer: {controlled_from: {not_in: [group:g-ok],
     more_than: 50}}}
""")
    profile = profile_customer(
        kb, kb.table.customers["leaf"], on=datetime(2026, 11, 26, tzinfo=UTC).date()
    )
    payload = render_customer(profile)
    check_message(payload)
    text = json.dumps(payload)
    assert "Mid Co (SG) holds 60%" in text and "Top Co (CN) holds 80%" in text
    assert "Yes: controlled from outside Supported (more than 50%)" in text
    assert "Denied: acme-1 in SG (api) by own" in text


def test_review_request_message_and_modal() -> None:
    review = ReviewRequest(
        id=7,
        decision_id="abc123",
        requested_by="U9",
        requested_at=datetime(2026, 11, 26, tzinfo=UTC),
    )
    payload = render_review_request(review, _answer())
    check_message(payload)
    actions = [b for b in card_blocks(payload) if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["claim_review", "resolve_review"]
    review.status, review.resolved_by, review.outcome = "resolved", "UADMIN", "Overridden: allowed"
    resolved = render_review_request(review, _answer())
    check_message(resolved)
    assert "resolve_review" not in json.dumps(resolved)
    assert "*✅ Overridden → allowed* by <@UADMIN>" in json.dumps(resolved, ensure_ascii=False)
    # The bar shows the verdict that stands: denied while open, allowed once overridden.
    assert payload["attachments"][0]["color"] == VERDICT_COLOURS["denied"]
    assert resolved["attachments"][0]["color"] == VERDICT_COLOURS["allowed"]
    View(**resolve_modal(7)).to_dict()


def test_home_view_within_limits() -> None:
    kb = knowledge("rules: []\n")
    answer = ask(kb, "can X in Germany use Acme 1")
    rows = [
        Decision(
            id=f"d{i}",
            created_at=datetime(2026, 11, 26, tzinfo=UTC),
            actor="U1",
            question="q <!channel>" * 30,
            country="DE",
            access="api",
            as_of="2026-11-26",
            verdict=answer.verdict,
            revision=1,
        )
        for i in range(12)
    ]
    view = render_home(revision=1, counts={"rules": 1}, recent=rows, open_reviews=2)
    View(**view).to_dict()
    assert "<!channel>" not in json.dumps(view)
    assert sum(1 for b in view["blocks"] if "q &lt;!channel&gt;" in json.dumps(b)) == 10


@pytest.mark.parametrize(
    ("n", "size", "kept"),
    [
        (3, 100, 3),  # fits: every block, unchanged
        (MAX_BLOCKS, 100, MAX_BLOCKS),  # exactly the count limit still fits
        (MAX_BLOCKS + 5, 100, MAX_BLOCKS - 1),  # too many: room for the "…and N more" note
        (8, MAX_MESSAGE_CHARS // 4, 3),  # too large together: cut where the size runs out
    ],
)
def test_fit_keeps_what_fits_and_says_how_many_were_left_out(n: int, size: int, kept: int) -> None:
    blocks = [section(f"{i:03d}" + "x" * size) for i in range(n)]
    out = fit(blocks)
    assert out[:kept] == blocks[:kept]
    if kept == n:
        assert out == blocks
    else:
        assert len(out) == kept + 1
        assert f"…and {n - kept} more" in json.dumps(out[-1], ensure_ascii=False)
        assert len(json.dumps(out)) <= MAX_MESSAGE_CHARS + 500


def test_dates_are_shown_in_each_readers_time_zone() -> None:
    from datetime import UTC, datetime

    from handlers.render.blocks import slack_date

    when = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
    assert slack_date(when) == (
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|2026-12-06 07:30 UTC>"
    )
    assert slack_date(when.replace(tzinfo=None)) == slack_date(when)  # stored naive means UTC


def test_a_list_membership_rule_shows_its_condition() -> None:
    kb = knowledge(with_listed_rules("rules: []\n"))
    text = json.dumps(render_rule(kb.table.rules["scr-sdn-50-percent"], revision=3))
    assert "listed:" in text and "party: owners" in text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (None, "Decision `abc123`"),
        (
            "https://c.example/decisions/abc123",
            "Decision <https://c.example/decisions/abc123|abc123>",
        ),
        ("http://c.example/decisions/abc123", "Decision `abc123`"),  # Slack unfurls https only
        ("https://c.example/d|<!here>", "Decision `abc123`"),  # nothing that breaks the markup
    ],
)
def test_the_decision_id_is_a_clearance_link_when_there_is_one(url: str | None, shown: str) -> None:
    names = {"decision_url": url} if url else {}
    assert shown in json.dumps(render_answer(_answer(), names=names), ensure_ascii=False)
