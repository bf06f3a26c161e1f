"""Words as the catalog's index reads them: folding (case, width, accents), splitting, stop
words and stemming, and the searchable text of a record, field by field.

The same functions tokenize the catalog at build time, a user catalog when it is compiled,
a live record when it is scored and the query (``tokenize_query``), so all of them meet
on the same words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

STOPWORDS = frozenset("a an and are as at be by for from in into is it of on or the to with via using".split())

# Words are runs of letters and digits of any script (on ASCII text: [a-z0-9]+ after
# lower-casing, as before Unicode folding); ``resnet50`` is also split into its letter and
# digit parts.
_WORD = re.compile(r"[^\W_]+")
_SPLIT = re.compile(r"[^\W\d_]+|\d+")
# A CamelCase name too long to be one word (bioimage.io's "PlatynereisEMnucleiSegmentationBoundaryModel")
# is read as its humps: typo tolerance stops at long words, and a query for "nuclei segmentation" should
# meet it. Short names keep their case-blind whole ("ResNet", "ConvNeXt" stay one word).
_LONG_CAMEL = re.compile(r"[A-Za-z]{25,}")
_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _humps(text: str) -> str:
    return _LONG_CAMEL.sub(lambda m: " ".join(_HUMP.split(m.group())), text) if len(text) >= 25 else text


# Accents folded: the combining diacritics of Latin, Greek and Cyrillic (Protéine ->
# proteine). Marks that are letters' vowels in other scripts (Devanagari, Arabic) and the
# Japanese voicing marks are not accents and stay.
_ACCENTS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_accents_re: re.Pattern[str] | None = None


_SUFFIXES = ("ability", "ibility", "ation", "able", "ible", "ing")


def stem(word: str) -> str:
    """Fold plurals ("networks" -> "network") and, on long words, a few derivational
    endings ("interpretable", "interpretability" -> "interpret"). Short words are left
    alone: stemming harder mangles model names.

    Applied until nothing changes, so a stem is its own stem: a query may type the
    stemmed form of an indexed word and still match it.
    """
    while True:
        shorter = _stem_once(word)
        if shorter == word:
            return word
        word = shorter


def _stem_once(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) >= 8 and not word[-1].isdigit():
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 5:
                return word[: -len(suffix)]
    return word


def fold(text: str) -> str:
    """Text as the index compares it: NFKC (fullwidth ``ｐｒｏｔｅｉｎ`` -> ``protein``, ``ﬁ``
    -> ``fi``), case-folded (``ß`` -> ``ss``), accents removed (``Protéine`` -> ``proteine``).

    Idempotent, and Unicode-equivalent texts (NFC, NFD, NFKC forms) fold alike. ASCII text,
    nearly all of the catalog and of queries, is only lower-cased: unicodedata is imported
    for the first text that needs it.
    """
    if text.isascii():
        return text.lower()
    # lazy: unicodedata only for the first non-ASCII text: off search --offline start-up
    import unicodedata

    global _accents_re
    if _accents_re is None:
        _accents_re = re.compile(f"[{_ACCENTS}]+")
    folded = unicodedata.normalize("NFKC", text)
    # Case-folding and removing marks can each leave text that normalises further (a
    # compatibility character's folded form, a precomposed letter's base): repeat until
    # nothing changes, which makes fold idempotent. Real text settles in one round.
    for _ in range(4):
        again = unicodedata.normalize("NFKC", _accents_re.sub("", unicodedata.normalize("NFD", folded.casefold())))
        if again == folded:
            break
        folded = again
    return folded


#: Each folded word's tokens, and each short text's (tags, domains, tasks: the same few
#: again and again), remembered: compiling a 100k-entry user catalog tokenizes millions of
#: words, most of them repeats, and stemming is most of that cost. Bounded, so a long-lived
#: process reading endless distinct words keeps a fixed footprint.
_WORD_TOKENS: dict[str, tuple[str, ...]] = {}
_TEXT_TOKENS: dict[str, tuple[str, ...]] = {}
_MEMO_MAX = 200_000
_SHORT_TEXT = 48


def _word_tokens(word: str) -> tuple[str, ...]:
    if word in STOPWORDS:
        return ()
    # The parts are the stem's, not the word's: each token then gives itself back when typed as a
    # query ("0aas" -> "0aa", "0", "aa"; split before stemming it gave "aas", which "0aa" typed
    # back does not).
    base = stem(word)
    parts = _SPLIT.findall(base)
    stems = (base, *(stem(p) for p in parts if len(p) > 1 or p.isdigit())) if len(parts) > 1 else (base,)
    # A token a query can never hold is no token: a query drops stop words, so neither a split
    # part ("as" of "x2as") nor a stem ("on" of "ons") that is one may be indexed.
    return tuple(s for s in stems if s not in STOPWORDS)


def tokenize(text: str) -> list[str]:
    """Folded words (see ``fold``), plural-folded; ``resnet50`` also yields ``resnet`` and ``50``."""
    short = len(text) <= _SHORT_TEXT
    if short and (seen := _TEXT_TOKENS.get(text)) is not None:
        return list(seen)
    out: list[str] = []
    known = _WORD_TOKENS
    for word in _WORD.findall(fold(_humps(text))):
        tokens = known.get(word)
        if tokens is None:
            tokens = _word_tokens(word)
            if len(known) < _MEMO_MAX:
                known[word] = tokens
        out.extend(tokens)
    if short and len(_TEXT_TOKENS) < _MEMO_MAX:
        _TEXT_TOKENS[text] = tuple(out)
    return out


def field_texts(record: Mapping[str, object]) -> dict[str, str]:
    """The searchable text of a record (a Record.to_dict() or a compiled entry)."""
    def join(key: str) -> str:
        value = record.get(key) or ()
        return " ".join(value) if isinstance(value, (list, tuple)) else str(value)

    rid = str(record.get("id", ""))
    return {
        "name": str(record.get("name") or ""),
        "id": rid.partition(":")[2].replace("/", " ").replace(".", " "),
        "tags": join("tags"),
        "domains": join("domains"),
        "tasks": join("tasks").replace("-", " "),
        "architecture": join("architecture"),
        "libraries": join("libraries"),
        "datasets": join("datasets"),
        "description": str(record.get("description") or ""),
    }


def field_tokens(record: Mapping[str, object]) -> dict[str, list[str]]:
    return {name: tokenize(text) for name, text in field_texts(record).items()}



def tokenize_query(query: str) -> list[str]:
    # Query words are not split at digit boundaries: "resnet50" must stay specific.
    return [stem(w) for w in _WORD.findall(fold(_humps(query))) if w not in STOPWORDS]
