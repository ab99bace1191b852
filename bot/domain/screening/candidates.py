"""Candidate names for a query: read the rarest words' postings first, stop once no unseen name can
reach the `possible` threshold, and keep the names whose score bound could (never a full scan).

Generic words like "Trading" or "Bank" then only raise the bound of the names already met.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from bot.domain.screening.name_index import LEGAL_WEIGHT, NameIndex, Query

CANDIDATES = 40  # names fully scored per query
BOUND_MARGIN = 0.02


@dataclass(frozen=True)
class _Plan:
    """One query word: its weight, what its similar words can add, and the postings to read."""

    word: str
    weight: float
    cost: int
    rare: list[tuple[float, int]]  # (gain, word id) of words whose postings are read
    gain: float  # best gain over every similar word
    slack: float  # best gain less `floor` times the listed word's weight (what it adds to a total)
    frequent_gain: float  # the same over the frequent similar words only
    frequent_slack: float


def _plan(index: NameIndex, q: Query, word: str, floor: float) -> _Plan:
    weight, weights, df, postings = q.weights[word], index.weights, index.df, index.postings
    rare: list[tuple[float, int]] = []
    cost = 0
    best = slack = frequent = frequent_slack = 0.0
    for wid, sim in q.similar[word].items():
        gain = sim * (weight + weights[wid])
        spare = gain - floor * weights[wid]
        best, slack = max(best, gain), max(slack, spare)
        if df[wid] > index.common:
            frequent, frequent_slack = max(frequent, gain), max(frequent_slack, spare)
        else:
            rare.append((gain, wid))
            cost += len(postings[wid])
    rare.sort()
    return _Plan(word, weight, cost, rare, best, slack, frequent, frequent_slack)


def candidates(index: NameIndex, q: Query, possible: float) -> list[tuple[float, int]]:
    """Names that might reach `possible`, best bound first (never a scan of every name).

    A name's bound adds, per query word, the best similar word it holds (rare words, from the
    postings) or could hold (frequent words, and words whose postings were not read): an upper
    bound of the aligned weight, so pruning on it never drops a name that would score.

    A name reaches `floor` only if the sum over its aligned words of (gain - floor * listed
    word's weight) covers `floor * query weight` less the legal forms' gain; the words not yet
    read bound that sum for names not met yet, and once it falls short no more postings are read.
    """
    floor = possible - BOUND_MARGIN
    plans = sorted((_plan(index, q, t, floor) for t in q.content), key=lambda p: (p.cost, p.word))
    legal_gain = 2 * LEGAL_WEIGHT * len(q.legal)
    needed = floor * q.total - legal_gain
    acc: dict[int, float] = {}
    optimistic = 0.0
    stopped = False
    for i, plan in enumerate(plans):
        unread = sum(p.slack for p in plans[i:]) + sum(p.frequent_slack for p in plans[:i])
        if unread < needed:  # a name holding none of the words read so far can't reach it
            optimistic += sum(p.gain for p in plans[i:])
            stopped = True
            break
        optimistic += plan.frequent_gain
        best: dict[int, float] = {}
        for gain, wid in plan.rare:  # ascending gain: a name keeps its best similar word
            best.update(dict.fromkeys(index.postings[wid], gain))
        if not acc:
            acc = best
            continue
        for name_no, gain in best.items():
            acc[name_no] = acc.get(name_no, 0.0) + gain
    if not acc and not stopped:
        acc = _frequent_only(index, q)
    # bound >= floor  <=>  gained - floor * name weight >= floor * query weight - the rest
    weights, cut = index.name_weight, needed - optimistic
    kept = [(n, g) for n, g in acc.items() if g - floor * weights[n] >= cut]
    extra, total = optimistic + legal_gain, q.total
    bounds = heapq.nsmallest(
        CANDIDATES, ((-(g + extra) / (total + weights[n]), n) for n, g in kept)
    )
    return [(-b, name_no) for b, name_no in bounds]


def _frequent_only(index: NameIndex, q: Query) -> dict[int, float]:
    """Only frequent words: names holding the rarest of them, narrowed by the others."""
    common = sorted(
        (int(index.df[wid]), wid)
        for similar in q.similar.values()
        for wid in similar
        if index.df[wid] > index.common
    )
    if not common:
        return {}
    pool: set[int] = set(index.postings[common[0][1]])
    for _df, wid in common[1:]:
        narrowed = pool.intersection(index.postings[wid])
        if narrowed:
            pool = narrowed
    return dict.fromkeys(pool, 0.0)
