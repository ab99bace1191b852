"""Customer lookup and near-miss hints, small and large."""

from __future__ import annotations

import pytest

from bot.domain.asking.customer_names import MAX_BUCKET, MAX_POOL, CustomerIndex
from bot.domain.errors import QuestionError
from bot.domain.names.keys import customer_key
from bot.domain.rules.entities import Customer


def _index(n: int) -> CustomerIndex:
    customers = {
        f"c{i}": Customer(f"c{i}", f"Company {i:06d} Holdings Ltd", "DE") for i in range(n)
    }
    customers["nimbus"] = Customer("nimbus", "Nimbus Pte Ltd", "SG", aliases=("Nimbus",))
    customers["orbital"] = Customer("orbital", "Orbital Analytics GmbH", "DE")
    return CustomerIndex(customers)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("ACME, GmbH.", "acme gmbh"),
        ("Société Générale", "societe generale"),
        ("  Nimbus   Pte. Ltd ", "nimbus pte ltd"),
    ],
)
def test_customer_key_folds_case_accents_and_punctuation(raw: str, key: str) -> None:
    assert customer_key(raw) == key


@pytest.mark.parametrize("size", [10, MAX_BUCKET * 2])
def test_near_miss_hints_small_and_large(size: int) -> None:
    index = _index(size)
    for _ in range(3):  # the first call builds the word index, later ones reuse it
        assert [c.id for c in index.similar("Orbitl Analytics GmbH")] == ["orbital"]
        assert [c.id for c in index.similar("Nimbus Pte")][:1] == ["nimbus"]
        assert index.similar("Zebra Fish") == []


def test_hints_on_a_large_list_compare_names_sharing_the_rarest_words() -> None:
    customers = {
        f"p{i}": Customer(f"p{i}", f"Analytics Partner {i:04d}", "DE")
        for i in range(MAX_BUCKET + 100)
    }
    customers["orbital"] = Customer("orbital", "Orbital Analytics GmbH", "DE")
    index = CustomerIndex(customers)
    for _ in range(2):  # the word index built on the first call is reused
        # "analytics" is shared by too many names to say anything: "orb..." and "gmbh" decide.
        assert [c.id for c in index.similar("Orbitl Analytics GmbH")] == ["orbital"]
        # Only the number is rare: the names whose number starts alike are compared.
        assert [c.id for c in index.similar("Analytics Partner 0042x")][:1] == ["p42"]
    pool = index.hint_pool("orbitl analytics gmbh")
    assert "orbital analytics gmbh" in pool and len(pool) <= MAX_POOL


@pytest.mark.parametrize(
    ("asked", "meant"),
    [
        ("Open AI Global", "openai"),  # the rare word is split: its prefix finds the name
        ("Akme Robotics", "acme"),  # a typo in the rare word: the less common word finds it
    ],
)
def test_hints_survive_a_typo_in_the_rarest_word(asked: str, meant: str) -> None:
    customers = {
        f"f{i}": Customer(f"f{i}", f"Filler {i:05d} Holdings", "DE")
        for i in range(MAX_BUCKET + 100)
    }
    customers |= {f"o{i}": Customer(f"o{i}", f"Open Q{i}x", "DE") for i in range(350)}
    customers |= {f"g{i}": Customer(f"g{i}", f"Global Z{i}y", "DE") for i in range(400)}
    customers |= {f"r{i}": Customer(f"r{i}", f"Robo {i} Robotics", "DE") for i in range(400)}
    customers["openai"] = Customer("openai", "OpenAI Global", "US")
    customers["acme"] = Customer("acme", "Acme Robotics", "DE")
    customers["akmal"] = Customer("akmal", "Akmal Trading", "UZ")
    index = CustomerIndex(customers)
    assert meant in [c.id for c in index.similar(asked)]


def test_find_by_alias_and_ambiguity() -> None:
    index = CustomerIndex(
        {
            "a": Customer("a", "Acme GmbH", "DE", aliases=("Acme",)),
            "b": Customer("b", "Acme Inc", "US", aliases=("Acme",)),
        }
    )
    assert index.find("acme gmbh") is not None
    with pytest.raises(QuestionError) as exc:
        index.find("ACME")
    assert exc.value.code == "ambiguous_customer"
    assert [c.value for c in exc.value.candidates] == ["a", "b"]
