"""The yente backend against a local fake that follows the documented `/match` request and response."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from werkzeug import Request, Response

from bot.domain.asking.questions import parse_question
from bot.domain.errors import BotError
from bot.services.screening_answers import answer_screened, screen_json
from bot.services.screening_cache import screening_cache
from bot.services.yente import YenteClient
from bot.settings import Settings
from tests.support.factories import knowledge, with_listed_rules

RESULT = {
    "id": "NK-rosneft-trading",
    "caption": "ROSNEFT TRADING S.A.",
    "schema": "Company",
    "properties": {
        "name": ["ROSNEFT TRADING S.A."],
        "country": ["ch"],
        "program": ["UKRAINE-EO13662"],
    },
    "datasets": ["us_ofac_sdn"],
    "referents": ["ofac-18299"],
    "target": True,
    "score": 0.93,
    "match": True,
    "explanations": {
        "name_match": {
            "score": 0.93,
            "detail": "",
            "query": "Rosneft Trading",
            "candidate": "ROSNEFT TRADING S.A.",
        }
    },
}
WEAK = {
    **RESULT,
    "id": "NK-other",
    "caption": "ROSNEFT MARINE",
    "score": 0.5,
    "match": False,
    "datasets": ["ru_rupep"],
}


def _fake(requests: list[dict[str, Any]]) -> Any:
    def handle(request: Request) -> Response:
        body = json.loads(request.get_data())
        requests.append({"path": request.path, "args": dict(request.args), "body": body})
        query = body["queries"]["q1"]
        assert set(query) == {"schema", "properties"} and query["properties"]["name"]
        results = [RESULT, WEAK] if "rosneft" in query["properties"]["name"][0].lower() else []
        payload = {
            "limit": 5,
            "responses": {
                "q1": {
                    "status": 200,
                    "total": {"value": len(results), "relation": "eq"},
                    "query": query,
                    "results": results,
                }
            },
        }
        return Response(json.dumps(payload), content_type="application/json")

    return handle


def test_match_request_and_hits(httpserver: HTTPServer) -> None:
    requests: list[dict[str, Any]] = []
    httpserver.expect_request("/match/sanctions", method="POST").respond_with_handler(
        _fake(requests)
    )
    client = YenteClient(httpserver.url_for("/"), "sanctions")
    hits = client.match("Rosneft Trading", hq="DE")
    assert requests[0]["body"] == {
        "queries": {
            "q1": {
                "schema": "Company",
                "properties": {"name": ["Rosneft Trading"], "country": ["de"]},
            }
        }
    }
    assert [(h.entry.entry_id, h.strength, h.score) for h in hits] == [
        ("NK-rosneft-trading", "match", 0.93)
    ]
    assert client.match("Zebra Foods") == []


def test_answers_use_yente_when_configured(empty_engine: Engine, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/match/default", method="POST").respond_with_handler(_fake([]))
    settings = Settings(CLEARANCE_SCREENING_URL=httpserver.url_for("/"))
    cache = screening_cache(empty_engine, settings=settings)
    kb = knowledge(
        with_listed_rules(
            "rules:\n  - {id: acme-allow, effect: allow, title: t, citation: c, url: 'https://example.com'}\n"
        )
    )
    q = parse_question(
        "can Rosneft Trading in Germany use acme-1?", places=kb.places, models=kb.models
    )
    a = answer_screened(q, kb, empty_engine, cache.get(), today=date(2026, 12, 5), decision_id="t")
    assert a.verdict == "denied" and a.rule_ids() == ["scr-sdn"]
    assert a.screening is not None and a.screening["lists"][0]["id"] == "yente:default"
    out = screen_json(cache.get(), "Zebra Foods", hq=None, kind="org")
    assert out["matches"] == []


def test_unreachable_service_is_a_clear_error() -> None:
    client = YenteClient("http://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(BotError, match="can't be reached"):
        client.match("Acme")
