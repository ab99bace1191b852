"""The inverted index over listed names: word ids per name, posting lists and word weights.

Names are stored as arrays of word ids, not objects, so a million names fit in a few hundred MB.
A token weighs its inverse document frequency (generic words count less, legal forms very little).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.domain.screening.hits import Listed
from bot.domain.screening.normalize import LEGAL, STOP, normalize
from bot.domain.screening.words import GENERIC, Vocabulary

LEGAL_WEIGHT = 0.15
STOP_WEIGHT = 0.1
SIMILAR_MEMO = 100_000  # words whose similar indexed words are remembered
GENERIC_SHARE = 0.4  # a generic word weighs at most this share of the rarest word's weight
COMMON_SHARE = 0.02  # a word in more than this share of entries never starts a candidate alone
POSTING_CAP = 5_000  # ... nor in more than this many, whatever the list's size


@dataclass(frozen=True)
class Query:
    """A screened name, normalized once: sorted content words, legal forms, weights, similar words."""

    content: tuple[str, ...]
    legal: frozenset[str]
    weights: dict[str, float]
    similar: dict[str, dict[int, float]]
    total: float
    order: tuple[str, ...]  # strongest words first


def _split(tokens: Iterable[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    content: dict[str, None] = {}
    legal: set[str] = set()
    for t in tokens:
        if t.startswith(LEGAL):
            legal.add(t)
        else:
            content[t] = None
    return tuple(content), frozenset(legal)


class NameIndex:
    """Every name and alias of the listed entries as word ids, with postings and weights."""

    def __init__(self, listed: Sequence[Listed]) -> None:
        vocab = self.vocab = Vocabulary()
        self.name_entry = array("i")
        self.name_alias = array("i")  # -1: the entry's own name; else the alias's position
        self.name_start = array("i", [0])  # word ids of name k: content, then legal forms
        self.name_content = array("i")  # how many of those are content words
        self.name_words = array("i")
        self.postings: list[array[int]] = []
        df: list[int] = []
        for entry_no, item in enumerate(listed):
            seen: set[int] = set()
            names = (item.entry.name, *(a.name for a in item.entry.aliases))
            for alias_no, name in enumerate(names, start=-1):
                content, legal = _split(normalize(name).tokens)
                if not content:
                    continue
                name_no = len(self.name_entry)
                for word in (*content, *sorted(legal)):
                    wid = vocab.intern(word)
                    if wid == len(df):
                        df.append(0)
                        self.postings.append(array("i"))
                    self.name_words.append(wid)
                    if word in legal:
                        continue
                    self.postings[wid].append(name_no)
                    if wid not in seen:
                        seen.add(wid)
                        df[wid] += 1
                self.name_entry.append(entry_no)
                self.name_alias.append(alias_no)
                self.name_content.append(len(content))
                self.name_start.append(len(self.name_words))
        self.df = array("i", df)
        self._n = max(1, len(listed))
        self._max_weight = math.log(1 + self._n)
        self.weights = array("d", (self._idf(w, d) for w, d in zip(vocab.words, df, strict=True)))
        self.common = max(50, min(int(self._n * COMMON_SHARE), POSTING_CAP))
        self.name_weight = array(
            "d",
            (
                math.fsum(self.weights[w] for w in self.name_words[a:b])
                for a, b in zip(self.name_start, self.name_start[1:], strict=False)
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
        return len(self.name_entry)

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
        wid = self.vocab.ids.get(token)
        if wid is not None:
            return self.weights[wid]
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
        out = self._similar_memo[token] = self.vocab.similar(token)
        return out

    def query(self, name: str) -> Query | None:
        """A name to screen, read as the index reads its names; None when it has no content word."""
        content, legal = _split(normalize(name).tokens)
        if not content:
            return None
        content = tuple(sorted(content))  # word order never counts, not even in float sums
        weights = {t: self.weight(t) for t in content}
        total = math.fsum(weights.values()) + LEGAL_WEIGHT * len(legal)
        similar = {t: self._similar(t) for t in content}
        order = tuple(sorted(content, key=lambda t: (-weights[t], t)))
        return Query(content, legal, weights, similar, total, order)
