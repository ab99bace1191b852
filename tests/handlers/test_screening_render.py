"""Screening renderers: within Block Kit limits, buttons only for admins, a plain-text fallback."""

from __future__ import annotations

import json

from handlers.render.screening import decision_modal, render_screen

LISTS = [
    {
        "id": "ofac_sdn",
        "name": "OFAC SDN",
        "version": "2026-12-05",
        "version_id": 1,
        "entries": 14598,
    }
]


def _match(i: int) -> dict[str, object]:
    return {
        "list": "ofac_sdn",
        "list_code": "SDN",
        "entry_id": str(i),
        "name": "X" * 400,
        "matched_name": "Y" * 400,
        "type": "org",
        "programs": ["SDGT"] * 50,
        "countries": [],
        "score": 0.9,
        "strength": "match",
        "url": "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=1",
        "citation": None,
        "reasons": [],
    }


def test_many_long_hits_fit_and_only_admins_get_buttons() -> None:
    result = {
        "query": "Acme <b>",
        "normalized": "acme b",
        "lists": LISTS,
        "matches": [_match(i) for i in range(30)],
    }
    admin = render_screen(result, customer="acme", admin=True)
    assert len(admin["blocks"]) <= 50 and admin["text"]
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in admin["blocks"])
    assert "screen_confirm" in json.dumps(admin)
    assert "screen_confirm" not in json.dumps(render_screen(result, customer="acme", admin=False))
    value = next(
        e["value"] for b in admin["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    assert len(value) <= 2000 and json.loads(value) == {"c": "acme", "l": "ofac_sdn", "e": "0"}


def test_not_screened_and_clear() -> None:
    assert (
        "not screened"
        in render_screen({"query": "A", "lists": [], "matches": []}, customer="a", admin=True)[
            "text"
        ]
    )
    clear = render_screen({"query": "A", "lists": LISTS, "matches": []}, customer="a", admin=True)
    assert "no hits on OFAC SDN (version of 2026-12-05)" in json.dumps(clear)


def test_decision_modal_asks_why() -> None:
    modal = decision_modal(
        "dismiss", {"c": "acme", "l": "ofac_sdn", "e": "1"}, response_url="https://hooks.example/1"
    )
    assert modal["callback_id"] == "screen_decision" and len(modal["title"]["text"]) <= 24
    assert json.loads(modal["private_metadata"])["d"] == "dismiss"
    assert modal["blocks"][-1]["block_id"] == "why_block"
