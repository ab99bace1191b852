"""Fuzzy name matching over restricted-party lists: an inverted index and an explainable score.

Candidates come from an inverted index over words, reached exactly or through typo and sound-alike
words (`bot.domain.screening.words`), so a query never scans every name. Query words are taken
rarest first; once the words left could not lift a name not yet met to the `possible` threshold,
no further posting list is read (generic words like "Trading" or "Bank" then only raise the bound
of the names already met). Each candidate name is scored in [0, 1]: a weighted Dice coefficient
over the tokens aligned as a set (word order does not count), where a token weighs its inverse
document frequency (generic words count less, legal forms very little). The score says which
alias and which words matched. A country or party-type mismatch lowers the score but never takes
a hit below the `possible` threshold; a weak alias or a very short name is at most `possible`.

Names are stored as arrays of word ids, not objects, so a million names fit in a few hundred MB.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.domain.screening.entries import Entry
from bot.domain.screening.normalize import LEGAL, STOP, normalize
from bot.domain.screening.words import GENERIC, Vocabulary

LEGAL_WEIGHT = 0.15
STOP_WEIGHT = 0.1
COUNTRY_PENALTY = 0.08
TYPE_PENALTY = 0.15
MIN_SHORT = 4  # names with fewer content letters than this are at most `possible`
CANDIDATES = 40  # names fully scored per query
BOUND_MARGIN = 0.02
SIMILAR_MEMO = 100_000  # words whose similar indexed words are remembered
GENERIC_SHARE = 0.4  # a generic word weighs at most this share of the rarest word's weight
COMMON_SHARE = 0.02  # a word in more than this share of entries never starts a candidate alone
POSTING_CAP = 5_000  # ... nor in more than this many, whatever the list's size


@dataclass(frozen=True)
class Thresholds:
    """Scores at or above `match` are matches, at or above `possible` possible matches."""

    match: float = 0.88
    possible: float = 0.72

    def strength(self, score: float) -> str | None:
        """'match', 'possible' or None for a score."""
        if score >= self.match:
            return "match"
        if score >= self.possible:
            return "possible"
        return None


@dataclass(frozen=True)
class Listed:
    """An entry with the list it belongs to."""

    list_id: str
    entry: Entry


@dataclass(frozen=True)
class WordMatch:
    """One query word aligned to one listed word, with its similarity (1.0 exact)."""

    query: str
    listed: str
    similarity: float


@dataclass(frozen=True)
class Hit:
    """A scored hit: the entry, the alias that matched, the words, and why the score was lowered."""

    list_id: str
    entry: Entry
    matched_name: str
    alias_kind: str
    score: float
    strength: str
    words: tuple[WordMatch, ...]
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Query:
    """A screened name, normalized once: sorted content words, legal forms, weights, similar words."""

    content: tuple[str, ...]
    legal: frozenset[str]
    weights: dict[str, float]
    similar: dict[str, dict[int, float]]
    total: float
    order: tuple[str, ...]  # strongest words first


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


def _split(tokens: Iterable[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    content: dict[str, None] = {}
    legal: set[str] = set()
    for t in tokens:
        if t.startswith(LEGAL):
            legal.add(t)
        else:
            content[t] = None
    return tuple(content), frozenset(legal)


@dataclass
class ScreeningIndex:
    """An in-memory index over the names and aliases of every entry of the given lists."""

    listed: Sequence[Listed]
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        vocab = self._vocab = Vocabulary()
        self._name_entry = array("i")
        self._name_alias = array("i")  # -1: the entry's own name; else the alias's position
        self._name_start = array("i", [0])  # word ids of name k: content, then legal forms
        self._name_content = array("i")  # how many of those are content words
        self._name_words = array("i")
        self._postings: list[array[int]] = []
        df: list[int] = []
        for entry_no, item in enumerate(self.listed):
            seen: set[int] = set()
            names = (item.entry.name, *(a.name for a in item.entry.aliases))
            for alias_no, name in enumerate(names, start=-1):
                content, legal = _split(normalize(name).tokens)
                if not content:
                    continue
                name_no = len(self._name_entry)
                for word in (*content, *sorted(legal)):
                    wid = vocab.intern(word)
                    if wid == len(df):
                        df.append(0)
                        self._postings.append(array("i"))
                    self._name_words.append(wid)
                    if word in legal:
                        continue
                    self._postings[wid].append(name_no)
                    if wid not in seen:
                        seen.add(wid)
                        df[wid] += 1
                self._name_entry.append(entry_no)
                self._name_alias.append(alias_no)
                self._name_content.append(len(content))
                self._name_start.append(len(self._name_words))
        self._df = array("i", df)
        self._n = max(1, len(self.listed))
        self._max_weight = math.log(1 + self._n)
        self._weights = array("d", (self._idf(w, d) for w, d in zip(vocab.words, df, strict=True)))
        self._common = max(50, min(int(self._n * COMMON_SHARE), POSTING_CAP))
        self._name_weight = array(
            "d",
            (
                math.fsum(self._weights[w] for w in self._name_words[a:b])
                for a, b in zip(self._name_start, self._name_start[1:], strict=False)
            ),
        )
        vocab.freeze(w for w, d in enumerate(df) if d)
        self._similar_memo: dict[str, dict[int, float]] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_similar_memo"] = {}
        return state

    @property
    def size(self) -> int:
        """Number of names (primary names and aliases) indexed."""
        return len(self._name_entry)

    def _idf(self, token: str, df: int) -> float:
        if token.startswith(LEGAL):
            return LEGAL_WEIGHT
        if token in STOP:
            return STOP_WEIGHT
        if not df:
            return self._default_weight(token)
        idf = math.log(1 + self._n / df)
        return min(idf, GENERIC_SHARE * self._max_weight) if token in GENERIC else idf

    def _default_weight(self, token: str) -> float:
        return GENERIC_SHARE * self._max_weight if token in GENERIC else self._max_weight

    def weight(self, token: str) -> float:
        """How much a token counts: inverse document frequency; legal forms and stop words little."""
        wid = self._vocab.ids.get(token)
        if wid is not None:
            return self._weights[wid]
        if token.startswith(LEGAL):
            return LEGAL_WEIGHT
        if token in STOP:
            return STOP_WEIGHT
        return self._default_weight(token)

    def _similar(self, token: str) -> dict[int, float]:
        """Indexed words like this one (exact, typos, same sound), memoized: names repeat words."""
        cached = self._similar_memo.get(token)
        if cached is not None:
            return cached
        if len(self._similar_memo) >= SIMILAR_MEMO:
            self._similar_memo.clear()
        out = self._similar_memo[token] = self._vocab.similar(token)
        return out

    def _query(self, name: str) -> _Query | None:
        content, legal = _split(normalize(name).tokens)
        if not content:
            return None
        content = tuple(sorted(content))  # word order never counts, not even in float sums
        weights = {t: self.weight(t) for t in content}
        total = math.fsum(weights.values()) + LEGAL_WEIGHT * len(legal)
        similar = {t: self._similar(t) for t in content}
        order = tuple(sorted(content, key=lambda t: (-weights[t], t)))
        return _Query(content, legal, weights, similar, total, order)

    def _plan(self, q: _Query, word: str, floor: float) -> _Plan:
        weight, weights, df, postings = q.weights[word], self._weights, self._df, self._postings
        rare: list[tuple[float, int]] = []
        cost = 0
        best = slack = frequent = frequent_slack = 0.0
        for wid, sim in q.similar[word].items():
            gain = sim * (weight + weights[wid])
            spare = gain - floor * weights[wid]
            best, slack = max(best, gain), max(slack, spare)
            if df[wid] > self._common:
                frequent, frequent_slack = max(frequent, gain), max(frequent_slack, spare)
            else:
                rare.append((gain, wid))
                cost += len(postings[wid])
        rare.sort()
        return _Plan(word, weight, cost, rare, best, slack, frequent, frequent_slack)

    def _candidates(self, q: _Query) -> list[tuple[float, int]]:
        """Names that might reach `possible`, best bound first (never a scan of every name).

        A name's bound adds, per query word, the best similar word it holds (rare words, from the
        postings) or could hold (frequent words, and words whose postings were not read): an upper
        bound of the aligned weight, so pruning on it never drops a name that would score.

        A name reaches `floor` only if the sum over its aligned words of (gain - floor * listed
        word's weight) covers `floor * query weight` less the legal forms' gain; the words not yet
        read bound that sum for names not met yet, and once it falls short no more postings are read.
        """
        floor = self.thresholds.possible - BOUND_MARGIN
        plans = sorted((self._plan(q, t, floor) for t in q.content), key=lambda p: (p.cost, p.word))
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
                best.update(dict.fromkeys(self._postings[wid], gain))
            if not acc:
                acc = best
                continue
            for name_no, gain in best.items():
                acc[name_no] = acc.get(name_no, 0.0) + gain
        if not acc and not stopped:
            acc = self._frequent_only(q)
        # bound >= floor  <=>  gained - floor * name weight >= floor * query weight - the rest
        weights, cut = self._name_weight, needed - optimistic
        kept = [(n, g) for n, g in acc.items() if g - floor * weights[n] >= cut]
        extra, total = optimistic + legal_gain, q.total
        bounds = heapq.nsmallest(
            CANDIDATES, ((-(g + extra) / (total + weights[n]), n) for n, g in kept)
        )
        return [(-b, name_no) for b, name_no in bounds]

    def _frequent_only(self, q: _Query) -> dict[int, float]:
        """Only frequent words: names holding the rarest of them, narrowed by the others."""
        common = sorted(
            (int(self._df[wid]), wid)
            for similar in q.similar.values()
            for wid in similar
            if self._df[wid] > self._common
        )
        if not common:
            return {}
        pool: set[int] = set(self._postings[common[0][1]])
        for _df, wid in common[1:]:
            narrowed = pool.intersection(self._postings[wid])
            if narrowed:
                pool = narrowed
        return dict.fromkeys(pool, 0.0)

    def _align(self, q: _Query, listed: Sequence[int]) -> tuple[float, tuple[WordMatch, ...]]:
        """Exact words first, then typos, strongest words first: word order never counts."""
        words, ids, weights = self._vocab.words, self._vocab.ids, self._weights
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

    def _score(self, q: _Query, name_no: int) -> tuple[float, tuple[WordMatch, ...]]:
        """Weighted Dice score of a query against one listed name."""
        start, end = self._name_start[name_no], self._name_start[name_no + 1]
        split = start + self._name_content[name_no]
        matched, words = self._align(q, self._name_words[start:split])
        legal = {self._vocab.words[w] for w in self._name_words[split:end]}
        matched += 2 * LEGAL_WEIGHT * len(q.legal & legal)
        total = q.total + self._name_weight[name_no]
        return (matched / total if total else 0.0), words

    def screen(
        self, name: str, *, hq: str | None = None, party_type: str = "org", limit: int = 10
    ) -> list[Hit]:
        """Screen one name; return hits at or above `possible`, best first, one per entry."""
        q = self._query(name)
        if q is None:
            return []
        best: dict[int, Hit] = {}
        for bound, name_no in self._candidates(q):
            if bound < self.thresholds.possible - 1e-9:
                continue  # its score is at most its bound
            raw, words = self._score(q, name_no)
            hit = self._judge(name_no, raw, words, hq=hq, party_type=party_type)
            if hit is None:
                continue
            entry_no = self._name_entry[name_no]
            current = best.get(entry_no)
            if current is None or (hit.score, -len(hit.reasons)) > (
                current.score,
                -len(current.reasons),
            ):
                best[entry_no] = hit
        hits = sorted(best.values(), key=lambda h: (-h.score, h.list_id, h.entry.key))
        return hits[:limit]

    def _judge(
        self,
        name_no: int,
        raw: float,
        words: tuple[WordMatch, ...],
        *,
        hq: str | None,
        party_type: str,
    ) -> Hit | None:
        possible = self.thresholds.possible
        if raw < possible:
            return None
        item = self.listed[self._name_entry[name_no]]
        entry = item.entry
        alias_no = self._name_alias[name_no]
        alias = entry.aliases[alias_no] if alias_no >= 0 else None
        score = raw
        reasons = []
        if hq and entry.countries and hq.upper()[:2] not in entry.countries:
            score -= COUNTRY_PENALTY
            reasons.append(
                f"listed countries {', '.join(entry.countries)} differ from {hq.upper()}"
            )
        listed_type = "org" if entry.type in ("vessel", "aircraft") else entry.type
        if listed_type != party_type:
            score -= TYPE_PENALTY
            reasons.append(f"listed as {entry.type}, screened as {party_type}")
        score = max(possible, score)  # a mismatch lowers a hit; it never removes it
        strength = self.thresholds.strength(score) or "possible"
        if strength == "match" and alias is not None and alias.weak:
            strength = "possible"
            score = min(score, self.thresholds.match - 0.001)
            reasons.append("weak alias")
        start = self._name_start[name_no]
        content = self._name_words[start : start + self._name_content[name_no]]
        if strength == "match" and sum(len(self._vocab.words[w]) for w in content) < MIN_SHORT:
            strength = "possible"
            score = min(score, self.thresholds.match - 0.001)
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
