"""Ordering results: exact matches, sort keys with their tie-breaks, and spreading model
families. Scores themselves come from ``textindex`` (BM25F and the per-record prior).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..catalog.words import fold
from ..hubs.ids import family
from ..models.records import Record

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..hubs import SearchQuery

EXACT_BONUS = 100.0
FAMILY_DAMPING = 0.97
#: A result is one of a search's matches (its ``total``) when it scores at least this share of
#: the best result's score, the exact-name bonus aside: any one query word is enough to rank a
#: record, so counting every record with a word in common ("model") told a person nothing.
MATCH_FLOOR = 0.5


class Hit:
    """A ranked result. (A plain class: dataclasses cost start-up time to define.)"""

    __slots__ = ("record", "score")

    def __init__(self, record: Record, score: float) -> None:
        self.record, self.score = record, score


def exact(query_text: str, rid: str, name: str) -> bool:
    """The query is the record's id, name or short name (``resnet50``, ``yamnet``),
    compared as the index compares words (``fold``: case, width and accents aside)."""
    q = fold(query_text.strip())
    if not q:
        return False
    if q == fold(name):
        return True
    if " " in q:
        return False
    ref = fold(rid.partition(":")[2])
    return (q in (fold(rid), ref, ref.split(".")[0])
            or q == ref.rsplit("/", 2)[-2 if ref.rsplit("/", 1)[-1].isdigit() and "/" in ref else -1])


def match_count(scores: Iterable[float]) -> int:
    """How many of these scores count as matches: exact names, and scores of at least
    ``MATCH_FLOOR`` times the best (all of them when nothing was scored: a filter-only search)."""
    def base(score: float) -> float:
        return score - EXACT_BONUS if score >= EXACT_BONUS else score

    listed = list(scores)
    floor = MATCH_FLOOR * max((base(s) for s in listed), default=0.0)
    return sum(1 for s in listed if s >= EXACT_BONUS or base(s) >= floor)


class Candidate:
    """A result before ranking: a catalog document (decoded lazily) or a live record."""

    __slots__ = ("score", "doc", "rec")

    def __init__(self, score: float, doc: int | None = None, rec: Record | None = None) -> None:
        self.score, self.doc, self.rec = score, doc, rec

    def record(self, cat: Catalog) -> Record:
        if self.rec is None:
            assert self.doc is not None
            self.rec = cat.record(self.doc)
        return self.rec


def top(cands: list[Candidate], query: SearchQuery, cat: Catalog) -> list[Candidate]:
    """The first ``limit`` candidates in order, computing full sort keys only where needed."""
    window = query.limit * 3  # diversification may lift a candidate from this far down
    if query.sort == "relevance" and len(cands) > window:
        # Only candidates scoring at least the window-th best can be shown; ties need the full key.
        cut = sorted((round(c.score, 6) for c in cands), reverse=True)[window - 1]
        cands = [c for c in cands if round(c.score, 6) >= cut]
    cands.sort(key=sort_key(query.sort, cat))
    if query.sort == "relevance" and query.text:
        cands = diversify(cands[:window], cat)
    return cands[: query.limit]


def diversify(ranked: list[Candidate], cat: Catalog) -> list[Candidate]:
    # Five sizes of one model family should not push every other family off the page:
    # each further member of a family already shown loses a few percent, which only
    # reorders near-ties.
    seen: dict[str, int] = {}
    adjusted = []
    for pos, c in enumerate(ranked):
        fam = family(cat.ids[c.doc] if c.doc is not None and c.rec is None else c.record(cat).id)
        n = seen.get(fam, 0)
        seen[fam] = n + 1
        adjusted.append((-round(c.score * FAMILY_DAMPING**n, 6), pos, c))
    adjusted.sort(key=lambda t: t[:2])
    return [c for *_, c in adjusted]


def _version(rid: str) -> int:
    tail = rid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def sort_key(sort: str, cat: Catalog) -> Callable[[Candidate], tuple]:
    def popularity(c: Candidate) -> float:
        if c.rec is None:
            return 0.0
        return math.log10(1 + (c.rec.downloads or 0)) + 0.5 * math.log10(1 + (c.rec.likes or 0))

    def facts(c: Candidate) -> tuple[str, int, int]:
        if c.doc is not None and c.rec is None:
            f = cat.facet(c.doc)
            return f[0], int(f[3]), int(f[4])
        r = c.record(cat)
        return r.id, int(r.curated), int(bool(r.extra.get("default")))

    def relevance(c: Candidate) -> tuple:
        rid, curated, default = facts(c)
        # Ties: curated first, then popular, then default weights and newest versions.
        return (-round(c.score, 6), -curated, -popularity(c), -default, -_version(rid), rid)

    if sort == "relevance":
        return relevance
    attr = {"downloads": "downloads", "likes": "likes", "updated": "updated", "params": "params",
            "size": "size_bytes"}[sort]

    def key(c: Candidate) -> tuple:
        value = getattr(c.record(cat), attr)
        missing = value is None
        primary = ("" if missing else _neg_str(value)) if sort == "updated" else -(value or 0)
        return (missing, primary, *relevance(c))

    return key


def _neg_str(value: str) -> str:
    # Newest first for ISO timestamps, without parsing them.
    return "".join(chr(0x10FFFF - ord(c)) for c in value)


