"""One ranked search over the catalog and every source that searches.

The catalog is scored on its prebuilt index in-process; the sources whose ``SourceSpec``
says they search are asked (networked ones concurrently on threads, each within the
call's timeout, and only when not offline), their records scored with the same BM25F
function, merged by id with the catalog's, filtered and sorted (``ranking``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .. import catalog as catalog_mod
from ..catalog.tasks import canonical_task
from ..catalog.textindex import QueryTerm, TextIndex, prior
from ..catalog.words import field_tokens
from ..core.context import Context
from ..core.errors import UsageError, describe
from ..hubs import SearchQuery, registry
from ..models.records import KINDS, SIZE_CATEGORIES, Record
from .ranking import EXACT_BONUS, Candidate, Hit, exact, match_count, top

if TYPE_CHECKING:
    from ..hubs.base import SourceAnswer, SourceSpec

SORTS = ("relevance", "downloads", "likes", "updated", "params", "size")


@dataclass(frozen=True)
class SourceReport:
    """How one source answered this search: the per-source status in JSON output."""

    name: str
    status: str  # ok | error | timeout | skipped | offline
    count: int = 0
    origin: str | None = None  # bundled | live | cache | stale
    message: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    hits: tuple[Hit, ...]
    total: int  # how many records match (ranking.match_count), not how many share a word with the query
    sources: tuple[SourceReport, ...]
    # Every requested source needed the network and failed: the CLI prints no results and exits 1.
    all_failed: bool = False
    # Query words the catalog does not know at all, not even as a near spelling.
    unknown_words: tuple[str, ...] = ()
    # Query words read as other words (typos, completions): (word, what it was read as).
    readings: tuple[tuple[str, str], ...] = ()
    # The call ran offline (asked, or an offline variable was set when it started).
    offline: bool = False

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(h.record for h in self.hits)


def validate(query: SearchQuery, ctx: Context) -> None:
    if query.limit < 1:
        raise UsageError("--limit must be at least 1")
    if query.sort not in SORTS:
        raise UsageError(f"unknown sort {query.sort!r}", hint=f"one of: {', '.join(SORTS)}")
    names = registry.names()
    for s in query.sources:
        if s not in names:
            raise UsageError(f"unknown source {s!r}", hint=f"one of: {', '.join(names)}")
    if query.kind not in (None, *KINDS):
        raise UsageError(f"unknown kind {query.kind!r}", hint=f"one of: {', '.join(KINDS)}")
    if query.size_category is not None and query.size_category not in SIZE_CATEGORIES:
        raise UsageError(f"unknown size category {query.size_category!r}",
                         hint=f"one of: {', '.join(SIZE_CATEGORIES)} (the Hub's, a dataset's number of rows)")
    if query.size_category is not None and query.kind not in (None, "dataset"):
        raise UsageError(f"--size-category is a dataset's, and --kind asks for {query.kind}s",
                         hint="drop one of them (--size-category alone asks for datasets)")
    if not ctx.timeout > 0:
        raise UsageError("--timeout must be positive")
    has_filter = any((query.sources, query.task, query.domain, query.framework, query.license, query.kind,
                      query.size_category))
    if not query.text.strip() and not has_filter:
        raise UsageError("give a query or at least one filter",
                         hint='e.g. zoofind search "protein language model" or zoofind search --task optical-flow')


def selects(query: SearchQuery, source: str, bundled: bool) -> bool:
    """Whether ``--source`` asks for a record of ``source``: its own name does, and
    ``catalog`` asks for every record the catalog holds (bundled or from ZOOFIND_CATALOG_DIR),
    whatever its id prefix. With no ``--source`` every record is asked for."""
    return not query.sources or source in query.sources or (bundled and catalog_mod.SOURCE in query.sources)


def matches(get: Callable[[str], Any], query: SearchQuery, *, bundled: bool = False) -> bool:
    """Whether a record (read through ``get``; ``bundled``: it is in the catalog) passes the query's filters."""
    if query.kind and get("kind") != query.kind:
        return False
    if not selects(query, get("source"), bundled):
        return False
    if query.task:
        want = canonical_task(query.task)
        if want not in {canonical_task(t) for t in get("tasks") or ()}:
            return False
    if query.domain:
        want = query.domain.strip().lower()
        if not any(want in d.lower() for d in get("domains") or ()):
            return False
    if query.framework:
        # lazy: only for a --framework filter: off search --offline start-up
        from ..catalog.frameworks import canonical as canonical_framework

        want = canonical_framework(query.framework)
        have = {canonical_framework(x) for x in (*(get("frameworks") or ()), *(get("libraries") or ()))}
        if want not in have:
            return False
    if query.license:
        lic = (get("license") or "").lower()
        if not lic.startswith(query.license.strip().lower()):
            return False
    if query.size_category and f"size_categories:{query.size_category}" not in (get("tags") or ()):
        return False
    return True


def search(query: SearchQuery, ctx: Context | None = None) -> SearchResult:
    """Rank the catalog and the searching sources for ``query`` (``ctx``: offline, timeout, refresh)."""
    ctx = ctx or Context.from_env()
    validate(query, ctx)
    cat = catalog_mod.load(ctx)
    index = TextIndex.from_compiled(cat.index_data)
    terms = index.parse(query.text)
    specs = {s.name: s for s in registry.specs()}
    wanted = [name for name in specs if not query.sources or name in query.sources]
    searching = [name for name in wanted if specs[name].searches]
    reachable = [name for name in searching if not (ctx.offline and specs[name].network)]
    # A source whose ``active`` says it has nothing beyond the catalog's snapshot is not even imported.
    ask = [name for name in reachable if (active := specs[name].active) is None or active(ctx)]
    if ask and terms:
        # Hubs match query words against ids (substring); the rarest word finds the most.
        query = replace(query, keyword=max((t.text for t in terms), key=lambda w: (index.idf(w), len(w))))
    # Networked sources start first, so their waiting overlaps the catalog's scoring.
    pending = _Pending(ask, specs, query, ctx)

    reports: list[SourceReport] = []
    found: dict[str, Candidate] = {}
    started = time.perf_counter()
    answers = pending.collect()
    replaced = {name for name, (ans, _) in answers.items()
                if ans is not None and ans.records and specs[name].replaces_snapshot}
    dropped = _score_catalog(found, cat, index, terms, query, replaced)
    # Words the bundled index does not know may still be in user entries and live records,
    # as written: those are scored on the word itself before its near spellings.
    literal = [QueryTerm(t.text, ((t.text, 1.0), *t.expansions))
               if t.text not in index.postings and t.expansions[0][0] != t.text else t
               for t in terms]
    if cat.user is not None:
        # ZOOFIND_CATALOG_DIR's entries: their own prebuilt postings, scored with the bundled statistics.
        dropped += _score_catalog(found, cat, cat.user.index(index), literal, query, set())
    reports.append(SourceReport(catalog_mod.SOURCE, "ok", len(found) + len(dropped), "bundled",
                                seconds=round(time.perf_counter() - started, 4)))
    # Sources whose bundled snapshot in the catalog is all they have answered through it.
    reports += [SourceReport(name, "ok", origin="bundled") for name in wanted
                if name != catalog_mod.SOURCE and (not specs[name].searches or name in reachable and name not in ask)]
    for name in ask:
        ans, report = answers[name]
        reports.append(report)
        if ans is not None:
            for rec in ans.records:
                _add_live(found, cat, rec, index, literal, query)
    reports += [SourceReport(name, "offline", message="offline: not asked")
                for name in searching if name not in reachable]

    networked = [name for name in ask if specs[name].network]
    failed = [r for r in reports if r.name in networked and r.status in ("error", "timeout")]
    best = top(list(found.values()), query, cat)
    hits = tuple(Hit(c.record(cat), c.score) for c in best)
    # Only when nothing requested could answer without the network does its failure fail the
    # search; ``hits`` then still holds the catalog's entries of those sources (the CLI prints
    # none of them: what was asked for is the live answer, and there is none).
    all_failed = (bool(networked) and len(failed) == len(networked)
                  and all(specs[n].network and specs[n].searches for n in wanted))
    # A word the index does not know is still known when a shown record says it (a user entry, a live hit).
    said = _words_in(hits, [t.text for t in terms if t.text not in index.postings])
    unknown = tuple(t.text for t in terms if not any(index.df(term) for term, _ in t.expansions) and t.text not in said)
    readings = tuple((t.text, "/".join(term for term, _ in t.expansions[:3])) for t in terms
                     if t.text not in unknown and t.text not in index.postings and t.text not in said)
    total = match_count([c.score for c in found.values()] + dropped)
    return SearchResult(query, hits, total, tuple(reports), all_failed, unknown, readings, ctx.offline)


#: Query words that ask for data rather than a model (as the index stems them).
DATA_WORDS = frozenset({"data", "dataset", "benchmark", "corpus", "corpora", "database"})
#: A dataset's share of its score when the query asks for no data: a task's words ("object
#: detection", "chest x-ray") name its models and its benchmarks alike, and the models come
#: first; a dataset's own words ("coco"), a data word or ``--kind dataset`` bring it up.
DATASET_UNASKED = 0.5


def _dataset_weight(query: SearchQuery, terms: list[QueryTerm]) -> float:
    asked = query.kind == "dataset" or any(t.text in DATA_WORDS for t in terms)
    return 1.0 if asked or not terms else DATASET_UNASKED


def _words_in(hits: tuple[Hit, ...], words: list[str]) -> set[str]:
    """Which of ``words`` the shown records contain, as the index would read them."""
    if not words:
        return set()

    seen: set[str] = set()
    for hit in hits:
        for tokens in field_tokens(vars(hit.record)).values():
            seen.update(tokens)
    return seen.intersection(words)


def _score_catalog(found: dict[str, Candidate], cat: catalog_mod.Catalog, index: TextIndex, terms: list[QueryTerm],
                   query: SearchQuery, replaced: set[str]) -> list[float]:
    """Catalog documents passing the filters, as candidates; returns the scores of those cut as unshowable."""
    doc_scores = index.score_all(terms) if terms else dict.fromkeys(index.docs, 0.0)
    deep_filter = any((query.task, query.domain, query.framework, query.license, query.size_category))
    docs = cat.docs
    source_codes = {str(i) for i, name in enumerate(docs["sources"])
                    if name not in replaced and selects(query, name, bundled=True)}
    kind_code = query.kind[0] if query.kind else None
    priors = docs["prior"]
    dataset_weight = _dataset_weight(query, terms)
    kept: list[tuple[float, int]] = []
    for doc, score in doc_scores.items():
        # Facet filters read one character of a column; only list-field filters decode the record.
        if docs["source"][doc] not in source_codes or kind_code and docs["kind"][doc] != kind_code:
            continue
        # A size category is a tag, which only the whole entry holds.
        fields = cat.entry(doc) if query.size_category else cat.filter_fields(doc) if deep_filter else None
        if fields is not None and not matches(fields.get, query, bundled=True):
            continue
        weight = dataset_weight if docs["kind"][doc] == "d" else 1.0
        kept.append((score * priors.get(str(doc), 1.0) * weight, doc))
    dropped: list[float] = []
    pool = query.limit * 6
    if query.sort == "relevance" and terms and len(kept) > pool:
        # Only the best few can be shown: keep those (and every tie at the cut) as candidates.
        cut = sorted((sc for sc, _ in kept), reverse=True)[pool - 1]
        dropped = [k[0] for k in kept if k[0] < cut]
        kept = [k for k in kept if k[0] >= cut]
    for score, doc in kept:
        rid = cat.ids[doc]
        if not cat.shadowed(doc):  # scored as the user's entry, merged
            found[rid] = Candidate(score + (EXACT_BONUS if exact(query.text, rid, docs["names"][doc]) else 0.0),
                                   doc=doc)
    return dropped


def _add_live(found: dict[str, Candidate], cat: catalog_mod.Catalog, rec: Record, index: TextIndex,
              terms: list[QueryTerm], query: SearchQuery) -> None:
    prev = found.get(rec.id)
    base = prev.record(cat) if prev else cat.get(rec.id)
    merged = rec.merged_with(base) if base else rec
    if not matches(lambda k: getattr(merged, k), query):
        return
    if terms:
        score = index.score_fields(merged.to_dict(), terms)
        if score <= 0:
            # Hubs match on fields we do not see (e.g. card text): keep them, ranked low.
            score = 0.01
    else:
        score = 0.0
    score *= prior(merged.curated, merged.downloadable, merged.extra)
    if merged.kind == "dataset":
        score *= _dataset_weight(query, terms)
    if exact(query.text, merged.id, merged.name):
        score += EXACT_BONUS
    found[merged.id] = Candidate(max(score, prev.score) if prev else score, rec=merged)


class _Pending:
    """Sources being asked: networked ones on daemon threads, local ones when collected."""

    def __init__(self, names: list[str], specs: dict[str, SourceSpec], query: SearchQuery, ctx: Context) -> None:
        if not ctx.offline:
            for n in names:
                if specs[n].network:
                    ctx.endpoint(specs[n])  # a malformed override is a usage error, before anything is asked
        self.names, self.query, self.ctx = names, query, ctx
        self.local = [n for n in names if not specs[n].network]
        self.answered: dict[str, tuple[Any, float]] = {}
        self.started = time.monotonic()
        # Daemon threads, not an executor: a source stuck past its deadline must not keep
        # the process alive at exit (executor threads are joined at interpreter shutdown).
        self.threads = [threading.Thread(target=self._run, args=(n,), name=f"zoofind-{n}", daemon=True)
                        for n in names if specs[n].network]
        for t in self.threads:
            t.start()

    def _run(self, name: str) -> None:
        try:
            result: Any = registry.get(name).search(self.query, self.ctx)
        except Exception as exc:  # noqa: BLE001 - reported per source, never fatal
            result = exc
        self.answered[name] = (result, round(time.monotonic() - self.started, 3))

    def collect(self) -> dict[str, tuple[SourceAnswer | None, SourceReport]]:
        for name in self.local:
            self._run(name)
        deadline = self.started + self.ctx.timeout + 0.25
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return {name: self._report(name) for name in self.names}

    def _report(self, name: str) -> tuple[SourceAnswer | None, SourceReport]:
        if name not in self.answered:
            secs = round(time.monotonic() - self.started, 3)
            return None, SourceReport(name, "timeout", message=f"no answer within {self.ctx.timeout:g} s", seconds=secs)
        result, secs = self.answered[name]
        if isinstance(result, BaseException):
            status = "timeout" if getattr(result, "timed_out", False) else "error"
            return None, SourceReport(name, status, message=describe(result).message, seconds=secs)
        status = "skipped" if result.origin == "skipped" else "ok"
        return result, SourceReport(name, status, len(result.records), result.origin, result.note, secs)


