"""Keys that make two spellings of a model or customer name compare equal."""

from __future__ import annotations

import re

from bot.domain.names.lookalikes import skeleton, strip_format
from bot.domain.names.places import strip_accents

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words of an identifier: runs of letters or of digits ("gpt-4o" is gpt|4|o).
_WORD = re.compile(r"[a-z]+|[0-9]+")


def model_key(text: str) -> str:
    """Reduce a model identifier to lowercase letters and digits."""
    return _NON_ALNUM.sub("", text.lower())


def model_words(text: str) -> tuple[str, ...]:
    """Split an identifier into its letter and digit runs: "GPT-4o mini" is gpt, 4, o, mini."""
    return tuple(_WORD.findall(text.lower()))


def customer_key(name: str) -> str:
    """Fold case, accents and punctuation: "ACME, GmbH." and "acme gmbh" are the same key.

    NFKC first, and format characters (zero-width, soft hyphen, bidi controls) dropped, so a
    name with an invisible character in it is the same key as the name without.
    """
    folded = strip_accents(strip_format(name)).lower()
    return " ".join(_NON_ALNUM.sub(" ", folded).split())


def skeleton_words(name: str) -> str:
    """Fold a name like `customer_key` after mapping lookalikes to their prototype."""
    return customer_key(skeleton(name).lower())


def skeleton_key(name: str) -> str:
    """Fold a name like `customer_key` after mapping lookalikes to their prototype, no spaces.

    Spaces go too: a zero-width space where a space was ("Dragon<ZWSP>Holdings") looks alike.
    """
    return skeleton_words(name).replace(" ", "")
