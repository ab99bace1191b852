"""Slack side of issue #10: ambiguous_customer candidates as buttons, and the headquarters line."""

from __future__ import annotations

import json

import pytest

from bot.domain.errors import QuestionError
from handlers.answer_cards import _substitute
from handlers.render.answer_card import render_answer
from handlers.render.colours import card_blocks
from handlers.render.notices import render_question_error
from tests.support.factories import ask, knowledge

TABLE = """
groups:
  - {id: g-ok, name: Served places, members: [DE, SG]}
customers:
  - {id: dragon, name: Dragon Holdings Co, hq: CN}
rules:
  - {id: ok-allow, effect: allow, title: Acme where served, models: {vendors: [acme]},
     places: {in: [group:g-ok]}, access: [api], citation: c, url: "https://example.org/a"}
  - {id: seat-deny, effect: deny, title: Not for Chinese companies, models: {vendors: [acme]},
     customer: {hq_in: [CN]}, citation: c, url: "https://example.org/b"}
"""


def test_ambiguous_customer_candidates_are_buttons_that_re_ask() -> None:
    kb = knowledge(TABLE)
    question = "can Dragon Holdings in Germany use Acme 1"
    with pytest.raises(QuestionError) as exc:
        ask(kb, question)
    err = exc.value
    assert err.code == "ambiguous_customer"
    payload = render_question_error(
        err.code,
        err.message,
        [c.to_dict() for c in err.candidates],
        question,
        phrase=err.phrase,
        choice="c0ffee",
    )
    buttons = next(b for b in payload["blocks"] if b.get("block_id") == "candidates")["elements"]
    assert [b["text"]["text"] for b in buttons] == [
        "Dragon Holdings Co (China (CN)): denied",
        "Dragon Holdings, not registered: allowed",
    ]
    # Each button carries only the stored choice's id and its index (storage.choices).
    assert [b["value"] for b in buttons] == ["c0ffee:0", "c0ffee:1"]
    asked = [_substitute(question, err.phrase, c.value) for c in err.candidates]
    assert asked == [
        "can Dragon Holdings Co in Germany use Acme 1",
        "can unregistered Dragon Holdings in Germany use Acme 1",
    ]
    assert [ask(kb, q).verdict for q in asked] == ["denied", "allowed"]


def test_answer_card_says_where_the_headquarters_came_from() -> None:
    kb = knowledge(TABLE)
    unknown = render_answer(ask(kb, "can Globex use Acme 1 in Germany").to_dict())
    stated = render_answer(ask(kb, "can Globex (SG) use Acme 1 in Germany").to_dict())
    placed = render_answer(ask(kb, "can Globex in Germany use Acme 1").to_dict())
    assert "HQ unknown" in json.dumps(card_blocks(unknown))
    assert "HQ SG, as stated" in json.dumps(card_blocks(stated))
    assert "HQ DE, taken from the question" in json.dumps(card_blocks(placed))
