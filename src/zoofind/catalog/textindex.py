"""Full-text ranking: BM25F over weighted fields, with typo and prefix tolerance.

The catalog's postings are computed once, at build time (``build_postings``), and
shipped in the compiled catalog; live records from hubs are scored with the same
function (``score_fields``) so one ranking covers every source. What a word is (folding,
stemming, a record's fields as text) is ``words``'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.errors import UsageError
from .words import field_tokens, tokenize_query

# Field weights: a word in a model's name or tags says more than one in its description.
FIELD_WEIGHTS: dict[str, float] = {
    "name": 4.0,
    "id": 3.0,
    "tags": 2.5,
    "domains": 2.5,
    "tasks": 2.0,
    "architecture": 1.5,
    "libraries": 1.2,
    "datasets": 1.0,
    "description": 1.0,
}
K1 = 1.2
B = 0.6
#: The most distinct words a query may have. Each unknown word costs a typo search over
#: the vocabulary (milliseconds), so a pasted document must not keep zoofind busy for
#: minutes; no one types more, and ranking on more words says nothing more.
MAX_QUERY_WORDS = 64
#: Typo tolerance stops at words this long: one word makes ~75 times its length candidates
#: of its length (a 100 kB argument would need gigabytes), and no indexed word comes near
#: (the longest is about 25 characters), so an edit or two cannot reach one anyway.
MAX_TYPO_WORD = 32


def _weighted_tf(tokens: Mapping[str, Sequence[str]], avglen: Mapping[str, float]) -> dict[str, float]:
    acc: dict[str, float] = {}
    for fname, toks in tokens.items():
        if not toks:
            continue
        norm = 1 - B + B * len(toks) / max(avglen.get(fname, 1.0), 1e-9)
        w = FIELD_WEIGHTS[fname] / norm
        for tok in toks:
            acc[tok] = acc.get(tok, 0.0) + w
    return acc


def field_lengths(all_tokens: Sequence[Mapping[str, Sequence[str]]]) -> dict[str, float]:
    """Each field's mean length in tokens over the documents that have it (BM25's length norm)."""
    return {
        f: (sum(len(t[f]) for t in all_tokens) / max(1, sum(1 for t in all_tokens if t[f]))) for f in FIELD_WEIGHTS
    }


def postings_of(all_tokens: Sequence[Mapping[str, Sequence[str]]], avglen: Mapping[str, float], *, first: int = 0,
                ndigits: int | None = None) -> dict[str, tuple[list[int], list[float]]]:
    """term -> (documents, weights), documents numbered from ``first``; weights rounded to
    ``ndigits`` (None: exact, as ``score_fields`` computes them)."""
    postings: dict[str, tuple[list[int], list[float]]] = {}
    for doc, toks in enumerate(all_tokens, first):
        for term, w in _weighted_tf(toks, avglen).items():
            plist = postings.get(term)
            if plist is None:
                plist = postings[term] = ([], [])
            plist[0].append(doc)
            plist[1].append(w if ndigits is None else round(w, ndigits))
    return dict(sorted(postings.items()))


def encode_postings(postings: Mapping[str, tuple[list[int], list[float]]],
                    table: list[float] | None = None) -> dict[str, str]:
    """Postings as the compiled catalog holds them, ``"doc doc ...|weight weight ..."`` per
    term (``TextIndex.plist`` reads them back only for the terms a query uses): decoding every
    term's list at start-up would cost more than the whole search.

    Weights are written in at most 6 significant digits; or, given ``table`` (a list, filled
    here), as positions in it: exact, and short, since documents share few distinct weights.
    """
    texts: dict[float, str] = {}  # each distinct weight's text is made once

    def text(w: float) -> str:
        got = texts.get(w)
        if got is None:
            if table is None:
                got = f"{w:g}"
            else:
                got = str(len(table))
                table.append(w)
            texts[w] = got
        return got

    return {t: " ".join(map(str, docs)) + "|" + " ".join(map(text, ws)) for t, (docs, ws) in postings.items()}


def build_postings(records: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The bundled catalog's index: its own field lengths, weights rounded to 3 decimals, postings encoded."""
    all_tokens = [field_tokens(r) for r in records]
    avglen = field_lengths(all_tokens)
    postings = postings_of(all_tokens, avglen, ndigits=3)
    return {"n": len(records), "avglen": {k: round(v, 3) for k, v in avglen.items()},
            "postings": encode_postings(postings)}


# Plain classes, not dataclasses: these are created on every start, and a dataclass
# costs ~1 ms to define.
class QueryTerm:
    __slots__ = ("text", "expansions")

    def __init__(self, text: str, expansions: tuple[tuple[str, float], ...]) -> None:
        self.text = text
        # The index terms this query word stands for, each with a confidence factor.
        self.expansions = expansions


class TextIndex:
    def __init__(self, n: int, avglen: Mapping[str, float], postings: Mapping[str, str]) -> None:
        self.n = n
        self.avglen = avglen
        # term -> "doc doc ...|weight weight ..."; parsed only for the terms a query uses.
        self.postings = postings
        #: The documents this index numbers (a filter-only query lists every one of them).
        self.docs = range(n)
        self._vocab: list[str] | None = None
        self._parsed: dict[str, list[tuple[int, float]]] = {}

    @classmethod
    def from_compiled(cls, data: Mapping[str, Any]) -> TextIndex:
        return cls(int(data["n"]), data["avglen"], data["postings"])

    def plist(self, term: str) -> list[tuple[int, float]]:
        got = self._parsed.get(term)
        if got is None:
            docs, _, weights = self.postings.get(term, "").partition("|")
            got = list(zip(map(int, docs.split()), map(float, weights.split()), strict=True))
            self._parsed[term] = got
        return got

    def df(self, term: str) -> int:
        raw = self.postings.get(term)
        return raw.count(" ", 0, raw.index("|")) + 1 if raw else 0

    def idf(self, term: str) -> float:
        df = self.df(term)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def vocab(self) -> list[str]:
        if self._vocab is None:
            self._vocab = list(self.postings)
        return self._vocab

    def expand(self, word: str) -> tuple[tuple[str, float], ...]:
        """An unknown word stands for near spellings (typos) and, failing those, completions."""
        if word in self.postings or len(word) < 4 or len(word) > MAX_TYPO_WORD or word.isdigit():
            return ((word, 1.0),)
        # One edit away: generate the ~75n candidates and look each up (well under 1 ms).
        out = [(term, 0.65) for term in sorted(edits1(word)) if term in self.postings]
        if not out and len(word) > 6:
            # Two edits: rapidfuzz over the vocabulary.
            # lazy: rapidfuzz (~15 ms) only for a query word this far from every indexed word (search start-up)
            from rapidfuzz import process
            from rapidfuzz.distance import Levenshtein

            hits = process.extract(word, self.vocab(), scorer=Levenshtein.distance, score_cutoff=2, limit=5)
            out = [(term, 0.5) for term, _dist, _ in hits if abs(len(term) - len(word)) <= 2]
        if not out:
            prefixed = [t for t in self.vocab() if t.startswith(word)]
            prefixed.sort(key=lambda t: -self.df(t))
            out = [(t, 0.6) for t in prefixed[:5]]
        return tuple(out) or ((word, 1.0),)

    def parse(self, query: str) -> list[QueryTerm]:
        """The query's words with their readings.

        Raises ``UsageError`` for text with no word to search for (``"🧬"``, ``"."``, only
        stop words): scoring nothing would list every entry at score 0; and for more than
        ``MAX_QUERY_WORDS`` different words. An empty query is not an error here: with a
        filter it lists every match.
        """
        words = list(dict.fromkeys(tokenize_query(query)))
        if len(words) > MAX_QUERY_WORDS:
            raise UsageError(f"the query has {len(words)} different words; zoofind reads at most {MAX_QUERY_WORDS}",
                             hint="keep the words that say what you look for")
        if not words and query.strip():
            raise UsageError(
                f"nothing to search for in {query.strip()!r}: zoofind searches words of letters or digits "
                "(common words such as 'the' or 'of' are left out)",
                hint='e.g. zoofind search "protein language model", '
                     'or a filter alone: zoofind search --domain genomics',
            )
        return [QueryTerm(w, self.expand(w)) for w in words]

    def term_weight(self, qt: QueryTerm) -> float:
        """How much a query word says: the idf of its best reading (unknown words: the most)."""
        known = [self.idf(term) * conf for term, conf in qt.expansions if self.df(term)]
        return max(known) if known else self.idf("")

    def score_all(self, terms: Sequence[QueryTerm]) -> dict[int, float]:
        """BM25F score of every catalog document that matches at least one term."""
        scores: dict[int, float] = {}
        matched: dict[int, float] = {}
        weights = [self.term_weight(qt) for qt in terms]
        for qt, weight in zip(terms, weights, strict=True):
            best: dict[int, float] = {}
            for term, conf in qt.expansions:
                plist = self.plist(term)
                if not plist:
                    continue
                idf = self.idf(term) * conf
                for doc, w in plist:
                    s = idf * w * (K1 + 1) / (K1 + w)
                    if s > best.get(doc, 0.0):
                        best[doc] = s
            for doc, s in best.items():
                scores[doc] = scores.get(doc, 0.0) + s
                matched[doc] = matched.get(doc, 0.0) + weight
        total = sum(weights)
        return {doc: s * coordination(matched[doc], total) for doc, s in scores.items()}

    def score_fields(self, record: Mapping[str, object], terms: Sequence[QueryTerm]) -> float:
        """Score a record that is not in the catalog (a live hit) on the same scale."""
        tf = _weighted_tf(field_tokens(record), self.avglen)
        total, matched, all_weight = 0.0, 0.0, 0.0
        for qt in terms:
            weight = self.term_weight(qt)
            all_weight += weight
            best = 0.0
            for term, conf in qt.expansions:
                w = tf.get(term)
                if w:
                    best = max(best, self.idf(term) * conf * w * (K1 + 1) / (K1 + w))
            if best:
                total += best
                matched += weight
        return total * coordination(matched, all_weight) if terms else 0.0


class LayeredIndex(TextIndex):
    """Postings of documents layered on another index (ZOOFIND_CATALOG_DIR's entries on the
    bundled catalog's), scored with that index's statistics.

    idf and the field lengths are the base's, so a layered document scores exactly as
    ``score_fields`` would score it against the base, and layering changes no score of the
    base's documents. Only for scoring: typo readings come from the base (``expand``).
    """

    def __init__(self, base: TextIndex, postings: Mapping[str, str], weights: Sequence[float], docs: range) -> None:
        super().__init__(base.n, base.avglen, postings)
        self.base = base
        self.docs = docs
        #: The exact weights that the postings name by position (``encode_postings``'s table).
        self.weights = weights

    def plist(self, term: str) -> list[tuple[int, float]]:
        got = self._parsed.get(term)
        if got is None:
            docs, _, codes = self.postings.get(term, "").partition("|")
            got = list(zip(map(int, docs.split()), map(self.weights.__getitem__, map(int, codes.split())), strict=True))
            self._parsed[term] = got
        return got

    def df(self, term: str) -> int:
        return self.base.df(term)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _ALPHABET]
    inserts = [a + c + b for a, b in splits for c in _ALPHABET]
    return set(deletes + transposes + replaces + inserts)


def prior(curated: bool, downloadable: bool, extra: Mapping[str, object]) -> float:
    """How much a record's relevance counts before the query is known.

    Checked science models and the survey's resources are what zoofind is for; a
    converted variant (TF Lite, TF.js, Edge TPU) ranks just below the model it comes
    from; a placeholder or deleted asset below what can still be downloaded.
    """
    value = 1.25 if curated else 1.0
    if not downloadable:
        value *= 0.8
    if extra.get("type") in ("Lite", "Tfjs", "Coral"):
        value *= 0.92
    return value


def coordination(matched: float, total: float) -> float:
    # Documents that contain every query word beat those that repeat one word often; the
    # words are weighed by idf, so matching the rare word of "interpretable machine
    # learning" counts for more than matching the two common ones.
    return (matched / total) ** 2 if total else 0.0
