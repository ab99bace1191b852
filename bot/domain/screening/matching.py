"""Fuzzy name matching over restricted-party lists: an inverted index and an explainable score.

Candidates come from an inverted index over words (`bot.domain.screening.name_index`), reached
exactly or through typo and sound-alike words (`bot.domain.screening.words`), so a query never
scans every name. Query words are taken rarest first; once the words left could not lift a name
not yet met to the `possible` threshold, no further posting list is read
(`bot.domain.screening.candidates`). Each candidate name is scored in [0, 1]: a weighted Dice
coefficient over the tokens aligned as a set (`bot.domain.screening.scoring`). The score says
which alias and which words matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.screening.candidates import candidates
from bot.domain.screening.hits import Hit, Listed, Thresholds
from bot.domain.screening.name_index import NameIndex
from bot.domain.screening.scoring import judge, score_name


@dataclass
class ScreeningIndex:
    """An in-memory index over the names and aliases of every entry of the given lists."""

    listed: Sequence[Listed]
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        self._names = NameIndex(self.listed)

    @property
    def size(self) -> int:
        """Number of names (primary names and aliases) indexed."""
        return self._names.size

    def weight(self, token: str) -> float:
        """How much a token counts: inverse document frequency; legal forms and stop words little."""
        return self._names.weight(token)

    def screen(
        self, name: str, *, hq: str | None = None, party_type: str = "org", limit: int = 10
    ) -> list[Hit]:
        """Screen one name; return hits at or above `possible`, best first, one per entry."""
        names, thresholds = self._names, self.thresholds
        q = names.query(name)
        if q is None:
            return []
        best: dict[int, Hit] = {}
        for bound, name_no in candidates(names, q, thresholds.possible):
            if bound < thresholds.possible - 1e-9:
                continue  # its score is at most its bound
            raw, words = score_name(names, q, name_no)
            hit = judge(
                names, self.listed, thresholds, name_no, raw, words, hq=hq, party_type=party_type
            )
            if hit is None:
                continue
            entry_no = names.name_entry[name_no]
            current = best.get(entry_no)
            if current is None or (hit.score, -len(hit.reasons)) > (
                current.score,
                -len(current.reasons),
            ):
                best[entry_no] = hit
        hits = sorted(best.values(), key=lambda h: (-h.score, h.list_id, h.entry.key))
        return hits[:limit]
