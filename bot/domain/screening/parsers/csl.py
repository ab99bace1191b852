"""trade.gov's Consolidated Screening List, the downloadable `consolidated.json`."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.domain.screening.countries import country_code, country_codes
from bot.domain.screening.entries import Address, Alias, Entry, ParsedList
from bot.domain.screening.parsers.common import ListFormatError, check_count, decode

_TYPES = {"individual": "person", "entity": "org", "vessel": "vessel", "aircraft": "aircraft"}
_ABBR = re.compile(r"\(([A-Z][A-Z-]*)(?: List)?\)")
_SOURCE_FIXES = {"NS-MBS": "MBS"}


def source_code(source: str) -> str:
    """The CSL source's abbreviation: 'Entity List (EL) - Bureau of Industry and Security' -> 'EL'."""
    match = _ABBR.search(source or "")
    if match is None:
        return (source or "?").split(" - ")[0].strip()[:20]
    return _SOURCE_FIXES.get(match.group(1), match.group(1))


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _alias(name: str) -> str:
    # The Entity List writes its last alias as "and X"; the importer strips "; and".
    return re.sub(r"^and\s+", "", name.strip())


def _record(rec: dict[str, Any], n: int) -> Entry:
    if not isinstance(rec, dict) or not rec.get("name"):
        raise ListFormatError(f"consolidated.json: result {n} has no name")
    addresses = []
    for a in rec.get("addresses") or []:
        if isinstance(a, dict):
            parts = [
                str(a.get(k) or "").strip()
                for k in ("address", "city", "state", "postal_code", "country")
            ]
            addresses.append(
                Address(", ".join(p for p in parts if p), country_code(a.get("country")))
            )
    notice = "; ".join(_strings(rec.get("federal_register_notice"))) or None
    return Entry(
        entry_id=str(rec.get("id") or rec.get("_id") or rec.get("entity_number") or n),
        name=str(rec["name"]).strip(),
        type=_TYPES.get(str(rec.get("type") or "").lower(), "org"),
        source=source_code(str(rec.get("source") or "")),
        aliases=tuple(Alias(_alias(a)) for a in _strings(rec.get("alt_names")) if _alias(a)),
        programs=tuple(_strings(rec.get("programs"))),
        countries=country_codes(
            [
                *(a.country for a in addresses),
                *_strings(rec.get("nationalities")),
                *_strings(rec.get("citizenships")),
            ]
        ),
        addresses=tuple(addresses),
        start_date=rec.get("start_date") or None,
        end_date=rec.get("end_date") or None,
        citation=notice,
        url=rec.get("source_information_url") or rec.get("source_list_url") or None,
        remarks=rec.get("remarks") or None,
        extra={
            k: rec[k]
            for k in ("entity_number", "license_requirement", "license_policy", "title")
            if rec.get(k)
        },
    )


def parse_csl(body: bytes) -> ParsedList:
    """Parse `consolidated.json`: `{"results": [...], "sources_used": [...], "total": N}`."""
    text = decode(body, "consolidated.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListFormatError(
            f"consolidated.json is not valid JSON (line {exc.lineno}: {exc.msg}); truncated download?"
        ) from exc
    results = data.get("results") if isinstance(data, dict) else data
    if not isinstance(results, list):
        raise ListFormatError("consolidated.json has no 'results' list")
    total = data.get("total") if isinstance(data, dict) else None
    if isinstance(total, int) and total > len(results):
        raise ListFormatError(f"consolidated.json says total {total} but holds {len(results)}")
    entries = tuple(_record(rec, n) for n, rec in enumerate(results, start=1))
    check_count(len(entries), "consolidated.json")
    published = None
    if isinstance(data, dict):
        stamps = [
            s.get("source_last_updated")
            for s in data.get("sources_used") or []
            if isinstance(s, dict)
        ]
        published = max((str(s) for s in stamps if s), default=None)
    return ParsedList("csl", entries, published)
