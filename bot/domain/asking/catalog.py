"""Model resolution: canonical ids, names, aliases, dated, Bedrock and Vertex ids.

Matching ignores case, spaces, "." vs "-" (all punctuation, in fact) and a leading vendor name, so
"Claude Sonnet 4.5", "claude-sonnet-4-5-20250929" and "anthropic.claude-sonnet-4-5-20250929-v1:0"
all give `claude-sonnet-4-5`. A family or vendor word ("Claude", "Llama") that covers several
models is ambiguous and returns them as candidates. A partial name ("Claude 3.7", "Opus") matches
only whole words of an identifier and is never resolved outright: its models come back as
candidates, so the answer says which models it covered. A typo returns suggestions. Nothing is
silently corrected: "Claude Opus 4.2" does not become `claude-opus-4` via "claude-opus-4-20250514".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.domain.names.keys import model_key, model_words
from bot.domain.rules.entities import ModelInfo, Vendor


@dataclass(frozen=True)
class ModelMatch:
    """One model id, or candidates (ambiguous, or suggestions for a typo)."""

    id: str | None
    candidates: tuple[str, ...] = ()
    ambiguous: bool = False


@dataclass
class ModelCatalog:
    """An index from identifier keys to canonical model ids."""

    models: dict[str, ModelInfo]
    vendors: dict[str, Vendor] = field(default_factory=dict)
    _keys: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _groups: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _prefixes: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _vendor_keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        vendor_words = {model_key(v) for v in self.vendors}
        vendor_words |= {model_key(v.name) for v in self.vendors.values()}
        vendor_words |= {model_key(m.vendor) for m in self.models.values()}
        self._vendor_keys = frozenset(w for w in vendor_words if w)
        for model in self.models.values():
            self._index(model)

    def _index(self, model: ModelInfo) -> None:
        head = model_key(model.family.split("-")[0])
        for ident in model.identifiers():
            words = model_words(ident)
            variants = [words]
            stripped = self._strip_vendor(words)
            # "anthropic.claude-..." also answers to "claude-...", but "mistral-large-latest"
            # must not answer to "large-latest" nor "deepseek-chat" to "chat": keep a stripped
            # form only if it still starts with the family or the model's own id.
            if stripped != words and "".join(stripped).startswith((head, model_key(model.id))):
                variants.append(stripped)
            for variant in variants:
                self._keys.setdefault("".join(variant), set()).add(model.id)
                for n in range(1, len(variant)):
                    self._prefixes.setdefault("".join(variant[:n]), set()).add(model.id)
        vendor = self.vendors.get(model.vendor)
        # The first word of a family ("claude" of claude-sonnet) names a group too.
        for word in (model.family, model.vendor, vendor.name if vendor else "", head):
            if model_key(word):
                self._groups.setdefault(model_key(word), set()).add(model.id)

    def _strip_vendor(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """Drop a leading vendor name ("Meta", "Mistral AI"), whole words only, longest first."""
        for n in range(len(words) - 1, 0, -1):
            if "".join(words[:n]) in self._vendor_keys:
                return words[n:]
        return words

    def resolve(self, text: str) -> ModelMatch:
        """Resolve a phrase to one canonical model id, or candidates."""
        words = model_words(text)
        if not words:
            return ModelMatch(None)
        attempts = tuple(dict.fromkeys(("".join(words), "".join(self._strip_vendor(words)))))
        for index in (self._keys, self._groups):
            for attempt in attempts:
                ids = index.get(attempt)
                if ids and len(ids) == 1:
                    # An identifier, or a family or vendor with a single model.
                    return ModelMatch(next(iter(ids)))
                if ids:
                    return ModelMatch(None, tuple(sorted(ids)), ambiguous=True)
        for attempt in attempts:
            if ids := self._prefixes.get(attempt):
                # A partial name, even of one model, is not an identifier: show what it covers.
                return ModelMatch(None, tuple(sorted(ids)), ambiguous=True)
        return ModelMatch(None, self.suggest(text))

    def suggest(self, text: str, limit: int = 3) -> tuple[str, ...]:
        """Return the model ids whose identifiers look most like the text, best first.

        A typo of a family or vendor ("Claud", "Lama") suggests that family's models.
        """
        words = model_words(text)
        names = [*self._keys, *self._groups]
        hits: list[tuple[float, str]] = []
        for key in {"".join(words), "".join(self._strip_vendor(words))}:
            if len(key) >= 2:
                hits += [
                    (score, k)
                    for k, score, _ in process.extract(
                        key, names, scorer=fuzz.ratio, limit=limit * 3, score_cutoff=70
                    )
                ]
        hits.sort(key=lambda h: (-h[0], h[1]))
        if hits and hits[0][1] not in self._keys:
            return tuple(sorted(self._groups[hits[0][1]]))
        out: list[str] = []
        for _score, k in hits:
            out.extend(mid for mid in sorted(self._keys.get(k, ())) if mid not in out)
        return tuple(out[:limit])

    def label(self, model_id: str) -> str:
        """Return "Claude Sonnet 4.5 (claude-sonnet-4-5)"."""
        model = self.models.get(model_id)
        return f"{model.name} ({model_id})" if model else model_id


def build_model_catalog(
    models: Iterable[ModelInfo], vendors: Iterable[Vendor] = ()
) -> ModelCatalog:
    """Build the resolution index over these models."""
    return ModelCatalog({m.id: m for m in models}, {v.id: v for v in vendors})
