"""Name normalization for screening: one canonical token list per name, the same for lists and queries.

Steps: Unicode NFKC and case-folding; Chinese legal forms and a few common words mapped before
transliteration; transliteration of every script to Latin (anyascii, ISC licence); punctuation to
spaces; legal forms ("Limited Liability Company", "OOO", "Co., Ltd.", "GmbH") to one canonical
token that counts for little; common abbreviations ("Intl", "Grp", "Srvces") to the full word.
Word order is not kept meaningful: scoring aligns tokens as a set.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

LEGAL = "~"  # prefix of a legal-form token: such tokens weigh little and never start a candidate
STOP = frozenset({"the", "of", "and", "for", "de", "la", "el", "al", "des", "du", "di", "y", "e"})

# Longest phrases first; each maps to the canonical legal-form token (without the prefix).
_LEGAL_FORMS: dict[str, str] = {
    "obshchestvo s ogranichennoy otvetstvennostyu": "llc",
    "obshchestvo s ogranichennoi otvetstvennostiu": "llc",
    "tovarishchestvo s ogranichennoy otvetstvennostyu": "llc",
    "limited liability company": "llc",
    "limited liability partnership": "llp",
    "limited partnership": "lp",
    "public joint stock company": "jsc",
    "open joint stock company": "jsc",
    "closed joint stock company": "jsc",
    "joint stock company": "jsc",
    "publichnoe aktsionernoe obshchestvo": "jsc",
    "aktsionernoe obshchestvo": "jsc",
    "company limited": "ltd",
    "private limited": "ltd",
    "public limited company": "plc",
    "gesellschaft mit beschrankter haftung": "gmbh",
    "sociedad anonima": "sa",
    "societe anonyme": "sa",
    "free zone establishment": "fze",
    "free zone company": "fzco",
    "co ltd": "ltd",
    "pte ltd": "ltd",
    "pvt ltd": "ltd",
    "sdn bhd": "ltd",
    "l l c": "llc",
    "s a": "sa",
    "s a r l": "sarl",
    "s r l": "srl",
    "s p a": "spa",
    "b v": "bv",
    "n v": "nv",
    "llc": "llc",
    "ooo": "llc",
    "too": "llc",
    "ltd": "ltd",
    "limited": "ltd",
    "pte": "ltd",
    "pvt": "ltd",
    "bhd": "ltd",
    "plc": "plc",
    "llp": "llp",
    "inc": "inc",
    "incorporated": "inc",
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "company": "co",
    "cie": "co",
    "gmbh": "gmbh",
    "ag": "ag",
    "kg": "kg",
    "sa": "sa",
    "sarl": "sarl",
    "srl": "srl",
    "spa": "spa",
    "bv": "bv",
    "nv": "nv",
    "ab": "ab",
    "oy": "oy",
    "pjsc": "jsc",
    "ojsc": "jsc",
    "cjsc": "jsc",
    "jsc": "jsc",
    "pao": "jsc",
    "oao": "jsc",
    "zao": "jsc",
    "ao": "jsc",
    "fze": "fze",
    "fzco": "fzco",
    "fzc": "fzco",
    "fzllc": "llc",
}

ABBREVIATIONS: dict[str, str] = {
    "intl": "international",
    "int": "international",
    "internat": "international",
    "tech": "technology",
    "techn": "technology",
    "technologies": "technology",
    "technological": "technology",
    "grp": "group",
    "comm": "communication",
    "comms": "communication",
    "communications": "communication",
    "telecom": "telecommunication",
    "telecommunications": "telecommunication",
    "srvces": "service",
    "svcs": "service",
    "svc": "service",
    "services": "service",
    "mfg": "manufacturing",
    "mfr": "manufacturing",
    "ind": "industry",
    "inds": "industry",
    "industries": "industry",
    "industrial": "industry",
    "elec": "electronic",
    "electronics": "electronic",
    "eng": "engineering",
    "engr": "engineering",
    "holdings": "holding",
    "hldgs": "holding",
    "mgmt": "management",
    "natl": "national",
    "assn": "association",
    "trdg": "trading",
    "bros": "brothers",
    "dev": "development",
    "sci": "science",
    "sciences": "science",
    "systems": "system",
    "sys": "system",
    "solutions": "solution",
    "enterprises": "enterprise",
    "ent": "enterprise",
    "investments": "investment",
    "inv": "investment",
    "dept": "department",
    "univ": "university",
    "inst": "institute",
    "res": "research",
    "ctr": "center",
    "centre": "center",
    "shipping": "shipping",
    "petroleum": "petroleum",
    "aeronautical": "aeronautics",
    "ltda": "ltd",
}

# Chinese words read before transliteration, since pinyin runs the syllables together.
_CJK_WORDS: dict[str, str] = {
    "股份有限公司": " ltd ",
    "有限责任公司": " llc ",
    "有限公司": " ltd ",
    "集团": " group ",
    "公司": " company ",
    "技术": " technology ",
    "科技": " technology ",
    "国际": " international ",
    "贸易": " trading ",
    "通信": " communication ",
    "电子": " electronic ",
    "研究所": " institute ",
    "大学": " university ",
    "株式会社": " ltd ",
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
_CJK_WORD = re.compile("|".join(sorted(map(re.escape, _CJK_WORDS), key=len, reverse=True)))
_NOT_WORD = re.compile(r"[^a-z0-9~]+")  # "~" keeps a normalized legal form one
_MAX_PHRASE = max(len(p.split()) for p in _LEGAL_FORMS)
_PHRASES = {tuple(p.split()): form for p, form in _LEGAL_FORMS.items()}


@dataclass(frozen=True)
class NormalName:
    """A name as tokens: content words (canonical) and legal-form tokens (prefixed with `~`)."""

    original: str
    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        """The normalized name as one string, in the original word order."""
        return " ".join(self.tokens)

    @property
    def content(self) -> tuple[str, ...]:
        """The tokens that are not legal forms or stop words."""
        return tuple(t for t in self.tokens if not t.startswith(LEGAL) and t not in STOP)


def _transliterate_cjk(run: str) -> str:
    parts = _CJK_WORD.split(run)
    words = _CJK_WORD.findall(run)
    out: list[str] = []
    for i, part in enumerate(parts):
        if part:
            out.append(" " + anyascii(part).lower() + " ")
        if i < len(words):
            out.append(_CJK_WORDS[words[i]])
    return "".join(out)


def fold(text: str) -> str:
    """NFKC, case-fold and transliterate to lowercase ASCII words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _CJK.sub(lambda m: _transliterate_cjk(m.group(0)), text)
    text = anyascii(text).lower()
    text = text.replace("'", "").replace("`", "")  # "Rosneft'" and "O'Brien" are one word
    text = text.replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _legal_forms(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i].startswith(LEGAL):  # already normalized
            out.append(words[i])
            i += 1
            continue
        for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            form = _PHRASES.get(tuple(words[i : i + size]))
            # A lone legal-form word that is the whole name is a name ("AO" alone stays "ao").
            if form is not None and not (size == len(words) == 1):
                out.append(LEGAL + form)
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


@lru_cache(maxsize=65536)
def normalize(name: str) -> NormalName:
    """Normalize a name to canonical tokens (idempotent on its own `text`)."""
    words = [ABBREVIATIONS.get(w, w) for w in fold(name).split()]
    tokens = _legal_forms(words)
    return NormalName(name, tuple(tokens))


def normal_text(name: str) -> str:
    """The normalized form of a name as one string."""
    return normalize(name).text
