"""Words of listed names: how alike two words are, and a compact vocabulary that finds similar words.

Words are interned to ids. Similar words are found through symmetric-deletion keys (one typo in
words of 5+ letters, two in words of 9+), of the word and of its phonetic skeleton. The keys are not
kept as strings: each is hashed (CRC-32, the same in every process, so a pickled index stays valid)
and packed with the word id into one sorted array of 64-bit integers. A hash collision only
proposes a word that `similarity` then rejects, so it never changes a result.
"""

from __future__ import annotations

import re
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz.distance import OSA

TYPO_COST = 0.12  # similarity lost per edit in a word
SKELETON_COST = 0.06  # a word that differs only in spelling conventions ("Movakhkhed")
_BUCKET_BITS = 16  # keys are sorted per bucket of their hash's top bits: small sorts, short bisects

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

_SKELETON_RULES = (
    ("dzh", "j"),  # Russian's spelling of English "j" ("Dzhoint", "Ksindzhiang")
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


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """A phonetic key: transliteration spellings folded ("kh" as "h", "x" as "ks"), doubles dropped."""
    for a, b in _SKELETON_RULES:
        token = token.replace(a, b)
    return _DOUBLED.sub(r"\1", token)


def edits_for(length: int) -> int:
    """Typos tolerated in a word of this length: none under 5 letters, 1 from 5, 2 from 9."""
    return 2 if length >= 9 else 1 if length >= 5 else 0


def allowed_edits(a: str, b: str) -> int:
    """Typos tolerated between two words: none under 5 letters, 1 from 5, 2 from 9."""
    return edits_for(min(len(a), len(b)))


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


def deletion_keys(token: str, depth: int | None = None) -> set[str]:
    """Symmetric-deletion keys: the token, and forms with up to `depth` letters dropped.

    The depth defaults to the typos the token's length tolerates.
    """
    depth = edits_for(len(token)) if depth is None else depth
    keys = {token}
    layer = {token}
    for _ in range(depth):
        layer = {d[:i] + d[i + 1 :] for d in layer for i in range(len(d))}
        keys |= layer
    return keys


def _hashes(token: str) -> set[int]:
    # The skeleton gets as many deletions as the word itself: `similarity` allows the word's
    # number of typos between skeletons too, so every word it accepts is found by a shared key.
    depth = edits_for(len(token))
    keys = deletion_keys(token, depth)
    sound = skeleton(token)
    if sound != token:
        keys |= deletion_keys(sound, depth)
    return {zlib.crc32(k.encode()) for k in keys}


class Vocabulary:
    """Interned words, and the words similar to any word (indexed or not) by deletion keys."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self._keys = array("Q")
        self._starts = array("q", [0, 0, 0])  # two empty buckets until `freeze`
        self._shift = 31

    def intern(self, word: str) -> int:
        """The id of a word, added when new."""
        wid = self.ids.get(word)
        if wid is None:
            wid = self.ids[word] = len(self.words)
            self.words.append(word)
        return wid

    def freeze(self, indexed: Iterable[int]) -> None:
        """Build the deletion-key table over the given word ids (the words names are found by)."""
        ids = list(indexed)
        # About a bucket per word, up to 2**16: a small index (a test's, a one-off screen) then
        # does not pay for 65,536 empty buckets.
        bits = min(_BUCKET_BITS, max(1, len(ids).bit_length()))
        shift = 32 - bits
        buckets = [array("Q") for _ in range(1 << bits)]
        for wid in ids:
            for h in _hashes(self.words[wid]):
                buckets[h >> shift].append((h << 32) | wid)
        keys = array("Q")
        starts = array("q", [0])
        for bucket in buckets:
            keys.extend(sorted(bucket))
            starts.append(len(keys))
            del bucket[:]
        self._keys, self._starts, self._shift = keys, starts, shift

    def similar(self, word: str) -> dict[int, float]:
        """Indexed words like this one (exact, one or two typos, same sound), by id."""
        out: dict[int, float] = {}
        keys, starts, words, shift = self._keys, self._starts, self.words, self._shift
        for h in _hashes(word):
            hi = starts[(h >> shift) + 1]
            i = bisect_left(keys, h << 32, starts[h >> shift], hi)
            end = (h + 1) << 32
            while i < hi:
                packed = keys[i]
                if packed >= end:
                    break
                i += 1
                wid = packed & 0xFFFFFFFF
                if wid not in out:
                    sim = similarity(word, words[wid])
                    if sim is not None:
                        out[wid] = sim
        return out
