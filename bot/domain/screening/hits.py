"""What screening a name yields: the thresholds, a listed entry, and scored hits with their words."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.screening.entries import Entry


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
