"""The `yente` backend: screen names with an OpenSanctions yente service (`POST /match/{dataset}`).

For organizations that run yente on Elasticsearch or OpenSearch (`CLEARANCE_SCREENING_URL`). The
in-process index stays the default. yente scores with its own algorithm (`logic-v2` by default);
its score is kept, and our `match`/`possible` thresholds decide the strength.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from bot.domain.errors import BotError
from bot.domain.screening.entries import Alias, Entry
from bot.domain.screening.hits import Hit, Thresholds, WordMatch
from bot.domain.screening.normalize import normal_text
from bot.domain.tracking.kinds import OPENSANCTIONS, list_kind_of_dataset

MAX_RESPONSE_BYTES = 5_000_000
SCHEMAS = {"org": "Company", "person": "Person"}
TYPES = {"Person": "person", "Vessel": "vessel", "Airplane": "aircraft"}


@dataclass
class YenteClient:
    """A client for one yente service and dataset."""

    url: str
    dataset: str = "default"
    timeout_s: float = 10.0
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def list_id(self) -> str:
        """The list id answers cite for this service."""
        return f"yente:{self.dataset}"

    def request_body(self, name: str, *, hq: str | None, party_type: str) -> dict[str, Any]:
        """The documented match request for one name."""
        props: dict[str, list[str]] = {"name": [name]}
        if hq:
            props["country"] = [hq.lower()]
        return {
            "queries": {
                "q1": {"schema": SCHEMAS.get(party_type, "LegalEntity"), "properties": props}
            }
        }

    def match(
        self, name: str, *, hq: str | None = None, party_type: str = "org", limit: int = 10
    ) -> list[Hit]:
        """Screen one name; raise `BotError` when the service can't be reached or answers oddly."""
        body = json.dumps(self.request_body(name, hq=hq, party_type=party_type)).encode()
        url = f"{self.url.rstrip('/')}/match/{self.dataset}?limit={limit}"
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                raw = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise BotError(f"The yente service at {self.url} answered HTTP {exc.code}.") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise BotError(
                f"The yente service at {self.url} can't be reached: {getattr(exc, 'reason', exc)}."
            ) from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise BotError(
                f"The yente service at {self.url} sent more than {MAX_RESPONSE_BYTES} bytes."
            )
        try:
            results = json.loads(raw)["responses"]["q1"]["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BotError(
                f"The yente service at {self.url} sent an answer without responses.q1.results."
            ) from exc
        return self.hits(name, results)[:limit]

    def hits(self, name: str, results: list[dict[str, Any]]) -> list[Hit]:
        """Turn yente results into hits at or above the `possible` threshold."""
        out = []
        for r in results:
            score = float(r.get("score") or 0.0)
            strength = self.thresholds.strength(score)
            if strength is None:
                continue
            props = r.get("properties") or {}
            caption = str(r.get("caption") or (props.get("name") or ["?"])[0])
            datasets = [str(d) for d in r.get("datasets") or []]
            entry = Entry(
                entry_id=str(r.get("id")),
                name=caption,
                type=TYPES.get(str(r.get("schema")), "org"),
                source=next((d for d in datasets if list_kind_of_dataset(d)), ""),
                aliases=tuple(Alias(str(a)) for a in props.get("alias") or []),
                programs=tuple(str(p) for p in props.get("program") or props.get("topics") or []),
                countries=tuple(str(c).upper() for c in props.get("country") or []),
                url=f"https://www.opensanctions.org/entities/{r.get('id')}/",
            )
            explanation = (r.get("explanations") or {}).get("name_match") or {}
            matched = str(explanation.get("candidate") or caption)
            out.append(
                Hit(
                    list_id=self.list_id,
                    entry=entry,
                    matched_name=matched,
                    alias_kind="name",
                    score=round(score, 4),
                    strength=strength,
                    words=(WordMatch(normal_text(name), normal_text(matched), round(score, 3)),),
                    reasons=("scored by yente",),
                )
            )
        return sorted(out, key=lambda h: -h.score)


def kind_of_entry(entry: Entry) -> str:
    """The list kind a yente hit counts as for screening rules (OFAC SDN or OpenSanctions)."""
    return list_kind_of_dataset(entry.source) or OPENSANCTIONS.name
