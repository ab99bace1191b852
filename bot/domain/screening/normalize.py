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
from rapidfuzz.distance import OSA

from bot.domain.screening.words import skeleton

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
    "sa de cv": "sa",
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
# Words of legal forms that, outside a whole phrase ("Stock Company Joint"), still say little.
_LOOSE_LEGAL = frozenset(
    {
        "joint",
        "stock",
        "liability",
        "partnership",
        "obshchestvo",
        "ogranichennoy",
        "ogranichennoi",
        "otvetstvennostyu",
        "otvetstvennostiu",
        "aktsionernoe",
        "publichnoe",
        "zakrytoe",
        "otkrytoe",
    }
)
_NOT_WORD = re.compile(r"[^a-z0-9~]+")  # "~" keeps a normalized legal form one
_MAX_PHRASE = max(len(p.split()) for p in _LEGAL_FORMS)
_LONG_ABBREVIATIONS = tuple(sorted(k for k in ABBREVIATIONS if len(k) >= 7))
# Long words of legal forms, so "Copany" or "Limted" is still read as one.
_LEGAL_VOCAB = tuple(
    sorted({w for p in _LEGAL_FORMS for w in p.split() if len(w) >= 5} | _LOOSE_LEGAL)
)
_PHRASES = {tuple(p.split()): form for p, form in _LEGAL_FORMS.items()}
_BY_SKELETON = {skeleton(w): ABBREVIATIONS[w] for w in _LONG_ABBREVIATIONS} | {
    skeleton(w): w for w in _LEGAL_VOCAB
}


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


@lru_cache(maxsize=65536)
def _legal_spelling(word: str) -> str:
    """A misspelt legal-form word (one edit, two from 9 letters) as its right spelling."""
    if len(word) < 5 or word in _LEGAL_FORMS or word in ABBREVIATIONS:
        return word
    limit = 2 if len(word) >= 9 else 1
    for long_form in _LONG_ABBREVIATIONS:  # "Sevices" is "services", read as "service"
        if (
            long_form[0] == word[0]
            and abs(len(long_form) - len(word)) <= limit
            and OSA.distance(word, long_form, score_cutoff=limit) <= limit
        ):
            return ABBREVIATIONS[long_form]
    for vocab in _LEGAL_VOCAB:
        if (
            vocab[0] == word[0]
            and abs(len(vocab) - len(word)) <= limit
            and OSA.distance(word, vocab, score_cutoff=limit) <= limit
        ):
            return vocab
    # Spelt as a transliteration would ("Kompany", "Dzhoint" from Cyrillic): the same skeleton.
    return _BY_SKELETON.get(skeleton(word), word)


def _join_letters(words: list[str]) -> list[str]:
    """Runs of single letters are one word: "D C H" is "dch", "S A" is "sa"."""
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        if run:
            out.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if w:
            out.append(w)
    return out


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
            word = words[i]
            loose = word in _LOOSE_LEGAL and len(words) > 1
            out.append(LEGAL + word if loose else word)
            i += 1
    return out


@lru_cache(maxsize=65536)
def normalize(name: str) -> NormalName:
    """Normalize a name to canonical tokens (idempotent on its own `text`)."""
    words = [_legal_spelling(ABBREVIATIONS.get(w, w)) for w in _join_letters(fold(name).split())]
    tokens = _legal_forms(words)
    return NormalName(name, tuple(tokens))


def normal_text(name: str) -> str:
    """The normalized form of a name as one string."""
    return normalize(name).text
