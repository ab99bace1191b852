"""Model resolution against the default pack: identifiers, vendor prefixes, groups, typos."""

from __future__ import annotations

import pytest

from bot.domain.asking.catalog import ModelCatalog, build_model_catalog
from bot.domain.names.keys import model_key, model_words
from bot.domain.rules.entities import ModelInfo, Vendor
from bot.domain.rules.files import read_file
from bot.domain.rules.merging import merge
from bot.domain.rules.table import RuleTable
from storage.rules import DEFAULT_PACK


@pytest.fixture(scope="module")
def models() -> ModelCatalog:
    """The default pack's models and vendors."""
    table = merge(RuleTable(), read_file(DEFAULT_PACK), replace=True)
    return build_model_catalog(table.models.values(), table.vendors.values())


S45 = "claude-sonnet-4-5"

# (what people type, model id)
IDENTIFIERS = [
    ("claude-sonnet-4-5", S45),
    ("Claude Sonnet 4.5", S45),
    ("claude sonnet 4-5", S45),
    ("CLAUDE-SONNET-4.5", S45),
    ("Claude  Sonnet  4 5", S45),
    ("Sonnet 4.5", S45),
    ("claude-sonnet-4-5-20250929", S45),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", S45),
    ("claude-sonnet-4-5@20250929", S45),
    ("Anthropic Claude Sonnet 4.5", S45),
    ("anthropic claude-sonnet-4-5", S45),
    ("Anthropic Sonnet 4.5", S45),
    ("claude-sonnet-4-5-20250929-v1:0", S45),
    ("Claude Sonnet 4", "claude-sonnet-4"),
    ("claude-sonnet-4-0", "claude-sonnet-4"),
    ("Claude 3.7 Sonnet", "claude-3-7-sonnet"),
    ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
    ("Claude Opus 4.1", "claude-opus-4-1"),
    ("claude-opus-4-1@20250805", "claude-opus-4-1"),
    ("Opus 4", "claude-opus-4"),
    ("Claude Haiku 4.5", "claude-haiku-4-5"),
    ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
    ("GPT-4o", "gpt-4o"),
    ("gpt4o", "gpt-4o"),
    ("GPT 4o", "gpt-4o"),
    ("OpenAI GPT-4o", "gpt-4o"),
    ("Open AI GPT-4o", "gpt-4o"),
    ("GPT-4 omni", "gpt-4o"),
    ("gpt-4o-2024-11-20", "gpt-4o"),
    ("GPT-4o mini", "gpt-4o-mini"),
    ("gpt-4.1", "gpt-4-1"),
    ("GPT-4-1", "gpt-4-1"),
    ("GPT-5", "gpt-5"),
    ("GPT5", "gpt-5"),
    ("gpt-5-mini", "gpt-5-mini"),
    ("o3", "o3"),
    ("OpenAI o3", "o3"),
    ("o4-mini", "o4-mini"),
    ("gpt-oss-120b", "gpt-oss-120b"),
    ("Gemini 2.5 Pro", "gemini-2-5-pro"),
    ("Google Gemini 2.5 Flash", "gemini-2-5-flash"),
    ("gemma-3-27b-it", "gemma-3-27b"),
    ("Gemma", "gemma-3-27b"),
    ("Llama 3.1 405B", "llama-3-1-405b"),
    ("Meta Llama 3.1 405B", "llama-3-1-405b"),
    ("Meta-Llama-3.1-405B-Instruct", "llama-3-1-405b"),
    ("Llama-3.1-405B-Instruct", "llama-3-1-405b"),
    ("meta.llama3-1-405b-instruct-v1:0", "llama-3-1-405b"),
    ("Llama 3.2 90B Vision", "llama-3-2-90b-vision"),
    ("Llama-3.3-70B-Instruct", "llama-3-3-70b"),
    ("Mistral Large", "mistral-large"),
    ("Mistral AI Mistral Large", "mistral-large"),
    ("mistral-large-latest", "mistral-large"),
    ("mistral-small-2503", "mistral-small-3-1"),
    ("DeepSeek-R1", "deepseek-r1"),
    ("DeepSeek R1", "deepseek-r1"),
    ("deepseek-chat", "deepseek-v3"),
    ("Qwen3 235B-A22B", "qwen3-235b-a22b"),
    ("Qwen", "qwen3-235b-a22b"),
    ("Alibaba Cloud (Qwen)", "qwen3-235b-a22b"),
]


@pytest.mark.parametrize(("text", "model_id"), IDENTIFIERS)
def test_identifiers_resolve(models: ModelCatalog, text: str, model_id: str) -> None:
    match = models.resolve(text)
    assert (match.id, match.candidates, match.ambiguous) == (model_id, (), False)


def test_every_identifier_of_every_model_resolves_to_it(models: ModelCatalog) -> None:
    assert len(models.models) == 31
    for model in models.models.values():
        for ident in model.identifiers():
            assert models.resolve(ident).id == model.id, ident
            assert models.resolve(ident.upper().replace(".", "-")).id == model.id, ident


def _by_vendor(models: ModelCatalog, vendor: str) -> tuple[str, ...]:
    return tuple(sorted(m.id for m in models.models.values() if m.vendor == vendor))


# (phrase, vendor whose models all come back, or the exact ids)
AMBIGUOUS = [
    ("Claude", "anthropic"),
    ("claude", "anthropic"),
    ("Anthropic", "anthropic"),
    ("Anthropic Claude", "anthropic"),
    ("Llama", "meta"),
    ("Meta", "meta"),
    ("Meta Llama", "meta"),
    ("OpenAI", "openai"),
    ("Google", "google"),
    ("Mistral", "mistral"),
    ("Mistral AI", "mistral"),
    ("DeepSeek", "deepseek"),
    ("Claude Opus", ("claude-opus-4", "claude-opus-4-1", "claude-opus-4-5")),
    ("Opus", ("claude-opus-4", "claude-opus-4-1", "claude-opus-4-5")),
    ("Sonnet", ("claude-3-7-sonnet", "claude-sonnet-4", S45)),
    ("Claude Haiku", ("claude-3-5-haiku", "claude-haiku-4-5")),
    ("GPT-4", ("gpt-4-1", "gpt-4o", "gpt-4o-mini")),
    (
        "GPT",
        ("gpt-4-1", "gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-mini", "gpt-oss-120b", "gpt-oss-20b"),
    ),
    ("gpt-oss", ("gpt-oss-120b", "gpt-oss-20b")),
    ("Gemini", ("gemini-2-5-flash", "gemini-2-5-pro")),
    ("Gemini 2.5", ("gemini-2-5-flash", "gemini-2-5-pro")),
    ("Llama 3.1", ("llama-3-1-405b", "llama-3-1-70b")),
    ("Llama 3.2", ("llama-3-2-11b-vision", "llama-3-2-3b", "llama-3-2-90b-vision")),
    # A partial name is not an identifier, even when it fits one model only: the caller gets a
    # candidate and says which model it answered for.
    ("Claude 3.5", ("claude-3-5-haiku",)),
    ("Claude 3.7", ("claude-3-7-sonnet",)),
    ("Qwen3", ("qwen3-235b-a22b",)),
    ("Mistral Small", ("mistral-small-3-1",)),
    ("gpt-4o-2024", ("gpt-4o",)),
]


@pytest.mark.parametrize(("text", "expected"), AMBIGUOUS)
def test_families_vendors_and_partial_names_are_ambiguous(
    models: ModelCatalog, text: str, expected: str | tuple[str, ...]
) -> None:
    ids = _by_vendor(models, expected) if isinstance(expected, str) else expected
    match = models.resolve(text)
    assert (match.id, match.candidates, match.ambiguous) == (None, ids, True)


# (typo, the ids suggested first, in order)
TYPOS = [
    ("Claud Sonet 4.5", (S45,)),
    ("Anthropic Claud Sonet 4.5", (S45,)),
    ("claude-sonet-4-5", (S45,)),
    ("gemni 2.5 pro", ("gemini-2-5-pro",)),
    ("Lama 3.3 70B", ("llama-3-3-70b",)),
    (
        "Claud",
        _CLAUDE := (
            "claude-3-5-haiku",
            "claude-3-7-sonnet",
            "claude-haiku-4-5",
            "claude-opus-4",
            "claude-opus-4-1",
            "claude-opus-4-5",
            "claude-sonnet-4",
            S45,
        ),
    ),
]


@pytest.mark.parametrize(("text", "first"), TYPOS)
def test_typos_get_suggestions_only(
    models: ModelCatalog, text: str, first: tuple[str, ...]
) -> None:
    match = models.resolve(text)
    assert match.id is None and not match.ambiguous
    assert match.candidates[: len(first)] == first


# Near misses that must not be read as a known model: not via a dated id ("claude-opus-4-2..."
# would prefix "claude-opus-4-20250514"), not via a vendor-stripped id ("chat" of deepseek-chat),
# not by completing a word ("gpt-4o-m", "Claud").
NOT_MODELS = [
    "Claude Opus 4.2",
    "Claude Sonnet 4.2",
    "GPT-5.2",
    "gpt-4o-m",
    "chat",
    "Large",
    "reasoner",
    "R1",
    "Claude Sonnet 4.5 Pro",
    "Bard",
    "",
    "???",
    "Claude Son",
]


def test_suggestions_are_limited(models: ModelCatalog) -> None:
    match = models.resolve("GPT-4p")
    assert "gpt-4o" in match.candidates and len(match.candidates) == 3


@pytest.mark.parametrize("text", NOT_MODELS)
def test_near_misses_are_not_resolved(models: ModelCatalog, text: str) -> None:
    match = models.resolve(text)
    assert match.id is None and not match.ambiguous


def test_no_identifier_key_is_shared_by_two_models(models: ModelCatalog) -> None:
    seen: dict[str, str] = {}
    for model in models.models.values():
        for ident in model.identifiers():
            assert seen.setdefault(model_key(ident), model.id) == model.id, ident


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("Claude Sonnet 4.5", "claudesonnet45", ("claude", "sonnet", "4", "5")),
        (
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropicclaudesonnet4520250929v10",
            ("anthropic", "claude", "sonnet", "4", "5", "20250929", "v", "1", "0"),
        ),
        ("GPT-4o mini", "gpt4omini", ("gpt", "4", "o", "mini")),
        ("Qwen3 235B-A22B", "qwen3235ba22b", ("qwen", "3", "235", "b", "a", "22", "b")),
        (" -. ", "", ()),
    ],
)
def test_model_key_and_words(text: str, key: str, words: tuple[str, ...]) -> None:
    assert model_key(text) == key
    assert model_words(text) == words


def test_label(models: ModelCatalog) -> None:
    assert models.label(S45) == "Claude Sonnet 4.5 (claude-sonnet-4-5)"
    assert models.label("nope") == "nope"


def test_vendor_name_is_stripped_only_as_whole_words() -> None:
    catalog = build_model_catalog(
        [
            ModelInfo("llama-9", "Llama 9", "meta", "llama"),
            ModelInfo("former-1", "Former 1", "other", "former"),
        ],
        [Vendor("meta", "Meta"), Vendor("other", "Other")],
    )
    assert catalog.resolve("Meta Former 1").id == "former-1"
    assert catalog.resolve("Other Former 1").id == "former-1"
    # "Metaformer 1" is one word, not the vendor "Meta" and "Former 1".
    assert catalog.resolve("Metaformer 1").id is None
    assert catalog.resolve("Meta").id == "llama-9"  # a vendor with a single model
