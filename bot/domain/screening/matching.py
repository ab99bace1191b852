"""Fuzzy name matching over restricted-party lists: an inverted index and an explainable score.

Candidates come from an inverted index over rare tokens, reached exactly or through
symmetric-deletion keys (one typo in words of 5+ letters, two in words of 9+), so a query never
scans every name. Each candidate name is scored in [0, 1]: a weighted Dice coefficient over the
tokens aligned as a set (word order does not count), where a token weighs its inverse document
frequency (generic words like "Trading" count less, legal forms very little). The score says which
alias and which words matched. A country or party-type mismatch lowers the score but never takes
a hit below the `possible` threshold; a weak alias or a very short name is at most `possible`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import OSA

from bot.domain.screening.entries import Entry
from bot.domain.screening.normalize import LEGAL, STOP, normalize

LEGAL_WEIGHT = 0.15
STOP_WEIGHT = 0.1
COUNTRY_PENALTY = 0.08
TYPE_PENALTY = 0.15
TYPO_COST = 0.12  # similarity lost per edit in a word
MIN_SHORT = 4  # names with fewer content letters than this are at most `possible`
CANDIDATES = 40  # names fully scored per query
BOUND_MARGIN = 0.02
SIMILAR_MEMO = 200_000  # words whose similar indexed words are remembered
GENERIC_SHARE = 0.4  # a generic word weighs at most this share of the rarest word's weight
# Words common in company names whatever the list's size (a small list can't tell they are).
GENERIC = frozenset(
    [
        "technology",
        "trading",
        "international",
        "group",
        "holding",
        "bank",
        "industry",
        "service",
        "company",
        "enterprise",
        "development",
        "investment",
        "system",
        "solution",
        "engineering",
        "electronic",
        "communication",
        "national",
        "general",
        "global",
        "import",
        "export",
        "manufacturing",
        "management",
        "research",
        "institute",
        "center",
        "science",
        "energy",
        "petroleum",
        "oil",
        "gas",
        "shipping",
        "logistics",
        "marine",
        "capital",
        "finance",
        "financial",
        "consulting",
        "construction",
        "limited",
        "state",
        "university",
        "new",
        "united",
    ]
)
COMMON_SHARE = 0.02  # a token in more than this share of entries never starts a candidate alone


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
class _Name:
    entry_no: int
    name: str
    kind: str
    weak: bool
    content: tuple[str, ...]
    legal: frozenset[str]


_SKELETON_RULES = (
    ("shch", "sh"),
    ("sch", "sh"),
    ("kh", "h"),
    ("ph", "f"),
    ("ck", "k"),
    ("ou", "u"),
    ("x", "ks"),
    ("c", "k"),
    ("q", "k"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
    ("z", "s"),
)
_DOUBLED = re.compile(r"(.)\1+")
SKELETON_COST = 0.06  # a word that differs only in spelling conventions ("Movakhkhed")


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """A phonetic key: transliteration spellings folded ("kh" as "h", "x" as "ks"), doubles dropped."""
    for a, b in _SKELETON_RULES:
        token = token.replace(a, b)
    return _DOUBLED.sub(r"\1", token)


def similarity(q: str, c: str) -> float | None:
    """How alike two words are: 1.0 the same, less per typo or spelling difference, None unlike."""
    if q == c:
        return 1.0
    same_sound = skeleton(q) == skeleton(c)
    if same_sound and min(len(q), len(c)) >= 3:
        return 1.0 - SKELETON_COST
    limit = allowed_edits(q, c)
    if not limit or abs(len(q) - len(c)) > limit:
        return None
    dist = OSA.distance(q, c, score_cutoff=limit)
    if dist <= limit:
        return 1.0 - TYPO_COST * dist
    sdist = OSA.distance(skeleton(q), skeleton(c), score_cutoff=limit)
    if sdist <= limit:
        return 1.0 - TYPO_COST * sdist - SKELETON_COST
    return None


@lru_cache(maxsize=262144)
def deletion_keys(token: str) -> frozenset[str]:
    """Symmetric-deletion keys: the token itself, and forms with 1 (len>=5) or 2 (len>=9) letters dropped."""
    n = len(token)
    if n < 5:
        return frozenset((token,))
    ones = {token[:i] + token[i + 1 :] for i in range(n)}
    keys = {token, *ones}
    if n >= 9:
        for d in ones:
            keys.update(d[:j] + d[j + 1 :] for j in range(len(d)))
    return frozenset(keys)


def allowed_edits(a: str, b: str) -> int:
    """Typos tolerated between two words: none under 5 letters, 1 from 5, 2 from 9."""
    n = min(len(a), len(b))
    return 2 if n >= 9 else 1 if n >= 5 else 0


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
        self._names: list[_Name] = []
        df: dict[str, int] = defaultdict(int)
        postings: dict[str, list[int]] = defaultdict(list)
        for entry_no, item in enumerate(self.listed):
            seen: set[str] = set()
            forms = [(item.entry.name, "name", False)]
            forms += [(a.name, a.kind, a.weak) for a in item.entry.aliases]
            for name, kind, weak in forms:
                content, legal = _split(normalize(name).tokens)
                if not content:
                    continue
                name_no = len(self._names)
                self._names.append(_Name(entry_no, name, kind, weak, content, legal))
                for t in content:
                    postings[t].append(name_no)
                    if t not in seen:
                        seen.add(t)
                        df[t] += 1
        self._postings = dict(postings)
        self._df = dict(df)
        self._n = max(1, len(self.listed))
        self._max_weight = math.log(1 + self._n)
        generic = GENERIC_SHARE * self._max_weight
        self._weights = {
            t: min(math.log(1 + self._n / d), generic)
            if t in GENERIC
            else math.log(1 + self._n / d)
            for t, d in self._df.items()
        }
        self._common = max(50, int(self._n * COMMON_SHARE))
        self._name_weight = [
            sum(self.weight(t) for t in n.content) + LEGAL_WEIGHT * len(n.legal)
            for n in self._names
        ]
        deletions: dict[str, list[str]] = defaultdict(list)
        for token in self._postings:
            for key in deletion_keys(skeleton(token)) | deletion_keys(token):
                deletions[key].append(token)
        self._deletions = dict(deletions)
        self._similar_memo: dict[str, dict[str, float]] = {}

    @property
    def size(self) -> int:
        """Number of names (primary names and aliases) indexed."""
        return len(self._names)

    def weight(self, token: str) -> float:
        """How much a token counts: inverse document frequency; legal forms and stop words little."""
        if token.startswith(LEGAL):
            return LEGAL_WEIGHT
        if token in STOP:
            return STOP_WEIGHT
        if token in self._weights:
            return self._weights[token]
        return GENERIC_SHARE * self._max_weight if token in GENERIC else self._max_weight

    def _similar(self, token: str) -> dict[str, float]:
        """Indexed words like this one (exact, typos, same sound), memoized: names repeat words."""
        cached = self._similar_memo.get(token)
        if cached is not None:
            return cached
        if len(self._similar_memo) >= SIMILAR_MEMO:
            self._similar_memo.clear()
        out = self._similar_memo[token] = self._find_similar(token)
        return out

    def _find_similar(self, token: str) -> dict[str, float]:
        out = {token: 1.0} if token in self._postings else {}
        for key in deletion_keys(skeleton(token)) | deletion_keys(token):
            for cand in self._deletions.get(key, ()):
                if cand not in out:
                    sim = similarity(token, cand)
                    if sim is not None:
                        out[cand] = sim
        return out

    def _candidates(self, content: tuple[str, ...], n_legal: int) -> list[int]:
        """Names that might reach `possible`, best bound first (never a scan of every name).

        Each name's bound adds, per query word, the best similar word it holds (rare words, from
        the postings) or could hold (generic words, counted for every candidate): an upper bound
        of the aligned weight, so pruning on it never drops a name that would score.
        """
        acc: dict[int, float] = defaultdict(float)
        optimistic = 0.0
        common: list[tuple[int, str]] = []
        for token in content:
            weight = self.weight(token)
            best: dict[int, float] = {}
            generic = 0.0
            for cand, sim in self._similar(token).items():
                gain = sim * (weight + self.weight(cand))
                if self._df[cand] > self._common:
                    common.append((self._df[cand], cand))
                    generic = max(generic, gain)
                    continue
                for name_no in self._postings[cand]:
                    if best.get(name_no, 0.0) < gain:
                        best[name_no] = gain
            optimistic += generic
            for name_no, gain in best.items():
                acc[name_no] += gain
        if not acc and common:
            # Only generic words: names holding the rarest of them, narrowed by the others.
            common.sort()
            pool: set[int] = set(self._postings[common[0][1]])
            for _df, cand in common[1:]:
                narrowed = pool.intersection(self._postings[cand])
                if narrowed:
                    pool = narrowed
            acc = dict.fromkeys(pool, 0.0)
        query_weight = sum(self.weight(t) for t in content) + LEGAL_WEIGHT * n_legal
        floor = self.thresholds.possible - BOUND_MARGIN
        bounds = []
        for name_no, gained in acc.items():
            total = query_weight + self._name_weight[name_no]
            bound = (gained + optimistic + 2 * LEGAL_WEIGHT * n_legal) / total
            if bound >= floor:
                bounds.append((-bound, name_no))
        bounds.sort()
        return [name_no for _b, name_no in bounds[:CANDIDATES]]

    def _align(
        self, query: tuple[str, ...], listed: tuple[str, ...]
    ) -> tuple[float, tuple[WordMatch, ...]]:
        """Exact words first, then typos, strongest words first: word order never counts."""
        remaining = set(listed)
        matched = 0.0
        words = []
        fuzzy = []
        for q in sorted(query, key=lambda t: (-self.weight(t), t)):
            if q in remaining:
                remaining.discard(q)
                matched += 2 * self.weight(q)
                words.append(WordMatch(q, q, 1.0))
            else:
                fuzzy.append(q)
        for q in fuzzy:
            if not remaining:
                break
            best: tuple[float, str] | None = None
            for c in sorted(remaining):
                sim = similarity(q, c)
                if sim is not None and (best is None or sim > best[0]):
                    best = (sim, c)
            if best is not None:
                sim, c = best
                remaining.discard(c)
                matched += sim * (self.weight(q) + self.weight(c))
                words.append(WordMatch(q, c, round(sim, 3)))
        return matched, tuple(words)

    def score_name(
        self, query: tuple[str, ...], legal: frozenset[str], name: _Name
    ) -> tuple[float, tuple[WordMatch, ...]]:
        """Weighted Dice score of a query against one listed name."""
        matched, words = self._align(query, name.content)
        total = sum(self.weight(t) for t in query) + sum(self.weight(t) for t in name.content)
        shared_legal = legal & name.legal
        matched += 2 * LEGAL_WEIGHT * len(shared_legal)
        total += LEGAL_WEIGHT * (len(legal) + len(name.legal))
        return (matched / total if total else 0.0), words

    def screen(
        self, name: str, *, hq: str | None = None, party_type: str = "org", limit: int = 10
    ) -> list[Hit]:
        """Screen one name; return hits at or above `possible`, best first, one per entry."""
        normal = normalize(name)
        content, legal = _split(normal.tokens)
        if not content:
            return []
        best: dict[int, Hit] = {}
        for name_no in self._candidates(content, len(legal)):
            listed_name = self._names[name_no]
            raw, words = self.score_name(content, legal, listed_name)
            hit = self._judge(listed_name, raw, words, hq=hq, party_type=party_type)
            if hit is None:
                continue
            current = best.get(listed_name.entry_no)
            if current is None or (hit.score, -len(hit.reasons)) > (
                current.score,
                -len(current.reasons),
            ):
                best[listed_name.entry_no] = hit
        hits = sorted(best.values(), key=lambda h: (-h.score, h.list_id, h.entry.key))
        return hits[:limit]

    def _judge(
        self,
        listed_name: _Name,
        raw: float,
        words: tuple[WordMatch, ...],
        *,
        hq: str | None,
        party_type: str,
    ) -> Hit | None:
        possible = self.thresholds.possible
        if raw < possible:
            return None
        item = self.listed[listed_name.entry_no]
        entry = item.entry
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
        if strength == "match" and listed_name.weak:
            strength = "possible"
            score = min(score, self.thresholds.match - 0.001)
            reasons.append("weak alias")
        if strength == "match" and sum(len(t) for t in listed_name.content) < MIN_SHORT:
            strength = "possible"
            score = min(score, self.thresholds.match - 0.001)
            reasons.append("short name")
        return Hit(
            list_id=item.list_id,
            entry=entry,
            matched_name=listed_name.name,
            alias_kind=listed_name.kind,
            score=round(score, 4),
            strength=strength,
            words=words,
            reasons=tuple(reasons),
        )
