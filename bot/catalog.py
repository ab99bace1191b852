"""Model resolution: canonical ids, names, aliases, dated, Bedrock and Vertex ids.

Matching ignores case, spaces, "." vs "-" (all punctuation, in fact) and a leading vendor name, so
"Claude Sonnet 4.5", "claude-sonnet-4-5-20250929" and "anthropic.claude-sonnet-4-5-20250929-v1:0"
all give `claude-sonnet-4-5`. A family or vendor word ("Claude", "Llama") is ambiguous and returns
its models as candidates; a typo returns suggestions. Nothing is silently corrected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.ruletable import ModelInfo, Vendor

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def model_key(text: str) -> str:
    """Reduce a model identifier to lowercase letters and digits."""
    return _NON_ALNUM.sub("", text.lower())


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
    _vendor_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        vendor_words = {model_key(v) for v in self.vendors}
        vendor_words |= {model_key(v.name) for v in self.vendors.values()}
        vendor_words |= {model_key(m.vendor) for m in self.models.values()}
        # Longest first, so "mistralai" is stripped before "mistral".
        self._vendor_keys = tuple(sorted((w for w in vendor_words if w), key=len, reverse=True))
        for model in self.models.values():
            for ident in model.identifiers():
                key = model_key(ident)
                self._keys.setdefault(key, set()).add(model.id)
                stripped = self._strip_vendor(key)
                if stripped != key and stripped:
                    self._keys.setdefault(stripped, set()).add(model.id)
            for word in (model.family, model.vendor):
                self._groups.setdefault(model_key(word), set()).add(model.id)
            # The first word of a family ("claude" of claude-sonnet) names a group too.
            head = model.family.split("-")[0]
            self._groups.setdefault(model_key(head), set()).add(model.id)

    def _strip_vendor(self, key: str) -> str:
        for vendor in self._vendor_keys:
            if key.startswith(vendor) and len(key) > len(vendor):
                return key[len(vendor):]
        return key

    def resolve(self, text: str) -> ModelMatch:
        """Resolve a phrase to one canonical model id, or candidates."""
        key = model_key(text)
        if not key:
            return ModelMatch(None)
        for attempt in dict.fromkeys((key, self._strip_vendor(key))):
            ids = self._keys.get(attempt)
            if ids and len(ids) == 1:
                return ModelMatch(next(iter(ids)))
            if ids:
                return ModelMatch(None, tuple(sorted(ids)), ambiguous=True)
        for attempt in dict.fromkeys((key, self._strip_vendor(key))):
            group = self._groups.get(attempt)
            if group:
                return self._narrow(tuple(sorted(group)))
        prefixed = {mid for k, ids in self._keys.items() if k.startswith(key) for mid in ids}
        if len(key) >= 3 and prefixed:
            return self._narrow(tuple(sorted(prefixed)))
        return ModelMatch(None, self.suggest(key))

    def _narrow(self, ids: tuple[str, ...]) -> ModelMatch:
        if len(ids) == 1:
            return ModelMatch(ids[0])
        return ModelMatch(None, ids, ambiguous=True)

    def suggest(self, text: str, limit: int = 3) -> tuple[str, ...]:
        """Return the model ids whose identifiers look most like the text."""
        key = model_key(text)
        if len(key) < 2:
            return ()
        hits = process.extract(key, list(self._keys), scorer=fuzz.ratio, limit=limit * 3,
                               score_cutoff=70)
        out: list[str] = []
        for k, _score, _ in hits:
            for mid in sorted(self._keys[k]):
                if mid not in out:
                    out.append(mid)
        return tuple(out[:limit])

    def label(self, model_id: str) -> str:
        """Return "Claude Sonnet 4.5 (claude-sonnet-4-5)"."""
        model = self.models.get(model_id)
        return f"{model.name} ({model_id})" if model else model_id


def build_model_catalog(models: Iterable[ModelInfo], vendors: Iterable[Vendor] = ()) -> ModelCatalog:
    """Build the resolution index over these models."""
    return ModelCatalog({m.id: m for m in models}, {v.id: v for v in vendors})
