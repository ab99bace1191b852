"""Scoring a candidate name: a weighted Dice coefficient over the aligned words, then the verdict.

Tokens are aligned as a set (word order does not count) and weigh their inverse document
frequency. A country or party-type mismatch lowers the score but never takes a hit below the
`possible` threshold; a weak alias or a very short name is at most `possible`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.screening.hits import Hit, Listed, Thresholds, WordMatch
from bot.domain.screening.name_index import LEGAL_WEIGHT, NameIndex, Query

COUNTRY_PENALTY = 0.08
TYPE_PENALTY = 0.15
MIN_SHORT = 4  # names with fewer content letters than this are at most `possible`


def _align(
    index: NameIndex, q: Query, listed: Sequence[int]
) -> tuple[float, tuple[WordMatch, ...]]:
    """Exact words first, then typos, strongest words first: word order never counts."""
    words, ids, weights = index.vocab.words, index.vocab.ids, index.weights
    remaining = set(listed)
    matched = 0.0
    found = []
    fuzzy = []
    for t in q.order:
        wid = ids.get(t)
        if wid is not None and wid in remaining:
            remaining.discard(wid)
            matched += 2 * q.weights[t]
            found.append(WordMatch(t, t, 1.0))
        else:
            fuzzy.append(t)
    for t in fuzzy:
        known = q.similar[t]
        alike = [c for c in remaining if c in known]
        if alike:  # the most similar word; of equals, the first in alphabetical order
            c = min(alike, key=lambda c: (-known[c], words[c]))
            sim = known[c]
            remaining.discard(c)
            matched += sim * (q.weights[t] + weights[c])
            found.append(WordMatch(t, words[c], round(sim, 3)))
    return matched, tuple(found)


def score_name(index: NameIndex, q: Query, name_no: int) -> tuple[float, tuple[WordMatch, ...]]:
    """Weighted Dice score of a query against one listed name."""
    start, end = index.name_start[name_no], index.name_start[name_no + 1]
    split = start + index.name_content[name_no]
    matched, words = _align(index, q, index.name_words[start:split])
    legal = {index.vocab.words[w] for w in index.name_words[split:end]}
    matched += 2 * LEGAL_WEIGHT * len(q.legal & legal)
    total = q.total + index.name_weight[name_no]
    return (matched / total if total else 0.0), words


def judge(
    index: NameIndex,
    listed: Sequence[Listed],
    thresholds: Thresholds,
    name_no: int,
    raw: float,
    words: tuple[WordMatch, ...],
    *,
    hq: str | None,
    party_type: str,
) -> Hit | None:
    """The hit a raw score makes: lowered on a country or type mismatch, capped for weak names."""
    possible = thresholds.possible
    if raw < possible:
        return None
    item = listed[index.name_entry[name_no]]
    entry = item.entry
    alias_no = index.name_alias[name_no]
    alias = entry.aliases[alias_no] if alias_no >= 0 else None
    score = raw
    reasons = []
    if hq and entry.countries and hq.upper()[:2] not in entry.countries:
        score -= COUNTRY_PENALTY
        reasons.append(f"listed countries {', '.join(entry.countries)} differ from {hq.upper()}")
    listed_type = "org" if entry.type in ("vessel", "aircraft") else entry.type
    if listed_type != party_type:
        score -= TYPE_PENALTY
        reasons.append(f"listed as {entry.type}, screened as {party_type}")
    score = max(possible, score)  # a mismatch lowers a hit; it never removes it
    strength = thresholds.strength(score) or "possible"
    if strength == "match" and alias is not None and alias.weak:
        strength = "possible"
        score = min(score, thresholds.match - 0.001)
        reasons.append("weak alias")
    start = index.name_start[name_no]
    content = index.name_words[start : start + index.name_content[name_no]]
    if strength == "match" and sum(len(index.vocab.words[w]) for w in content) < MIN_SHORT:
        strength = "possible"
        score = min(score, thresholds.match - 0.001)
        reasons.append("short name")
    return Hit(
        list_id=item.list_id,
        entry=entry,
        matched_name=alias.name if alias is not None else entry.name,
        alias_kind=alias.kind if alias is not None else "name",
        score=round(score, 4),
        strength=strength,
        words=words,
        reasons=tuple(reasons),
    )
