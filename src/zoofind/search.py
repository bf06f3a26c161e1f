"""One ranked search over the catalog and the live sources.

The catalog is scored on its prebuilt index in-process; live sources are asked
concurrently, each within the timeout, and their records are scored with the same
BM25F function, merged by id with the catalog's, filtered and sorted.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from . import catalog as catalog_mod
from .errors import UsageError
from .paths import offline_requested  # noqa: F401 - the CLI's import point
from .records import SOURCES, Record
from .sources import SearchQuery
from .tasks import canonical_task
from .textindex import QueryTerm, TextIndex, prior

if TYPE_CHECKING:
    from .sources.base import SourceAnswer

SORTS = ("relevance", "downloads", "likes", "updated", "params", "size")
#: Sources that answer searches beyond the bundled catalog, in the order they are listed.
LIVE_SEARCH = ("hf", "torchvision", "kaggle")
#: Of those, the ones that need no network (torchvision reads the installed registry).
LOCAL_SEARCH = ("torchvision",)
EXACT_BONUS = 100.0


class Hit:
    """A ranked result. (A plain class: dataclasses cost start-up time to define.)"""

    __slots__ = ("record", "score")

    def __init__(self, record: Record, score: float) -> None:
        self.record, self.score = record, score


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
    total: int
    sources: tuple[SourceReport, ...]
    # Every requested source failed: the CLI prints what it has and exits 1.
    all_failed: bool = False
    # Query words the catalog does not know at all, not even as a near spelling.
    unknown_words: tuple[str, ...] = ()
    # Query words read as other words (typos, completions): (word, what it was read as).
    readings: tuple[tuple[str, str], ...] = ()

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(h.record for h in self.hits)


def validate(query: SearchQuery) -> None:
    if query.limit < 1:
        raise UsageError("--limit must be at least 1")
    if query.sort not in SORTS:
        raise UsageError(f"unknown sort {query.sort!r}", hint=f"one of: {', '.join(SORTS)}")
    for s in query.sources:
        if s not in SOURCES:
            raise UsageError(f"unknown source {s!r}", hint=f"one of: {', '.join(SOURCES)}")
    if query.kind not in (None, "model", "resource"):
        raise UsageError(f"unknown kind {query.kind!r}", hint="one of: model, resource")
    if query.timeout <= 0:
        raise UsageError("--timeout must be positive")
    has_filter = any((query.sources, query.task, query.domain, query.framework, query.license, query.kind))
    if not query.text.strip() and not has_filter:
        raise UsageError("give a query or at least one filter", hint='e.g. zoofind search "protein language model" or zoofind search --task optical-flow')


def matches(get: Callable[[str], Any], query: SearchQuery) -> bool:
    """Whether a record (read through ``get``) passes the query's filters."""
    if query.kind and get("kind") != query.kind:
        return False
    if query.sources and get("source") not in query.sources:
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
        from .frameworks import canonical as canonical_framework

        want = canonical_framework(query.framework)
        have = {canonical_framework(x) for x in (*(get("frameworks") or ()), *(get("libraries") or ()))}
        if want not in have:
            return False
    if query.license:
        lic = (get("license") or "").lower()
        if not lic.startswith(query.license.strip().lower()):
            return False
    return True


def _exact(query_text: str, rid: str, name: str) -> bool:
    """The query is the record's id, name or short name (``resnet50``, ``yamnet``)."""
    q = query_text.strip().lower()
    if not q:
        return False
    if q == name.lower():
        return True
    if " " in q:
        return False
    ref = rid.partition(":")[2].lower()
    return q in (rid.lower(), ref, ref.split(".")[0]) or q == ref.rsplit("/", 2)[-2 if ref.rsplit("/", 1)[-1].isdigit() and "/" in ref else -1]


class _Candidate:
    """A result before ranking: a catalog document (decoded lazily) or a live record."""

    __slots__ = ("score", "doc", "rec")

    def __init__(self, score: float, doc: int | None = None, rec: Record | None = None) -> None:
        self.score, self.doc, self.rec = score, doc, rec

    def record(self, cat: catalog_mod.Catalog) -> Record:
        if self.rec is None:
            assert self.doc is not None
            self.rec = cat.record(self.doc)
        return self.rec


OFFLINE_CAPABLE = ("catalog", "torchvision", "tfhub")


def search(query: SearchQuery) -> SearchResult:
    validate(query)
    cat = catalog_mod.load()
    index = TextIndex.from_compiled(cat.index_data)
    terms = index.parse(query.text)
    wanted = set(query.sources or SOURCES)
    reports: list[SourceReport] = []
    found: dict[str, _Candidate] = {}

    askable = [s for s in LIVE_SEARCH if s in wanted and (not query.offline or s in LOCAL_SEARCH)]
    live = [s for s in askable if _worth_asking(s, cat)]
    if live and terms:
        # Hubs match query words against ids (substring); the rarest word finds the most.
        query = replace(query, keyword=max((t.text for t in terms), key=lambda w: (index.idf(w), len(w))))
    answers = _ask_live(live, query) if live else {}
    replaced = {name for name, (ans, _) in answers.items() if ans is not None and ans.replaces_snapshot}

    started = time.perf_counter()
    doc_scores = index.score_all(terms) if terms else dict.fromkeys(range(len(cat)), 0.0)
    skip_ids = {r.id for r in cat.extras}
    deep_filter = any((query.task, query.domain, query.framework, query.license))
    docs = cat.docs
    source_codes = {str(i) for i, name in enumerate(docs["sources"]) if name not in replaced and (not query.sources or name in query.sources)}
    kind_code = query.kind[0] if query.kind else None
    priors = docs["prior"]
    kept: list[tuple[float, int]] = []
    for doc, score in doc_scores.items():
        # Facet filters read one character of a column; only list-field filters decode the record.
        if docs["source"][doc] not in source_codes or kind_code and docs["kind"][doc] != kind_code:
            continue
        if deep_filter and not matches(cat.entry(doc).get, query):
            continue
        kept.append((score * priors.get(str(doc), 1.0), doc))
    dropped = 0
    pool = query.limit * 6
    if query.sort == "relevance" and terms and len(kept) > pool:
        # Only the best few can be shown: keep those (and every tie at the cut) as candidates.
        cut = sorted((sc for sc, _ in kept), reverse=True)[pool - 1]
        before = len(kept)
        kept = [k for k in kept if k[0] >= cut]
        dropped = before - len(kept)
    for score, doc in kept:
        rid = cat.ids[doc]
        if rid not in skip_ids:
            found[rid] = _Candidate(score + (EXACT_BONUS if _exact(query.text, rid, docs["names"][doc]) else 0.0), doc=doc)
    for rec in cat.extras:
        _add_live(found, cat, rec, index, terms, query)
    reports.append(SourceReport("catalog", "ok", len(found) + dropped, "bundled", seconds=round(time.perf_counter() - started, 4)))
    # Sources whose bundled snapshot is all they would say answered through the catalog.
    reports += [SourceReport(s, "ok", origin="bundled") for s in askable if s not in live]

    for name in live:
        ans, report = answers[name]
        reports.append(report)
        if ans is not None:
            for rec in ans.records:
                _add_live(found, cat, rec, index, terms, query)
    if query.offline:
        reports += [SourceReport(s, "offline", message="offline: not asked") for s in LIVE_SEARCH if s in wanted and s not in askable]

    failed = [r for r in reports if r.name in live and r.status in ("error", "timeout")]
    all_failed = bool(live) and len(failed) == len(live) and not (wanted & set(OFFLINE_CAPABLE))

    top = _top(list(found.values()), query, cat)
    hits = tuple(Hit(c.record(cat), c.score) for c in top)
    unknown = tuple(t.text for t in terms if not any(index.df(term) for term, _ in t.expansions))
    readings = tuple((t.text, "/".join(term for term, _ in t.expansions[:3])) for t in terms
                     if t.text not in unknown and t.text not in index.postings)
    return SearchResult(query, hits, len(found) + dropped, tuple(reports), all_failed, unknown, readings)


def _top(cands: list[_Candidate], query: SearchQuery, cat: catalog_mod.Catalog) -> list[_Candidate]:
    """The first ``limit`` candidates in order, computing full sort keys only where needed."""
    window = query.limit * 3  # diversification may lift a candidate from this far down
    if query.sort == "relevance" and len(cands) > window:
        # Only candidates scoring at least the window-th best can be shown; ties need the full key.
        cut = sorted((round(c.score, 6) for c in cands), reverse=True)[window - 1]
        cands = [c for c in cands if round(c.score, 6) >= cut]
    cands.sort(key=_sort_key(query.sort, cat))
    if query.sort == "relevance" and query.text:
        cands = _diversify(cands[:window], cat)
    return cands[: query.limit]


FAMILY_DAMPING = 0.97


def _family(rid: str) -> str:
    """hf:facebook/esm2_t6_8M_UR50D -> hf:facebook/esm2; tfhub paths lose their version."""
    source, _, ref = rid.partition(":")
    if source == "hf":
        owner, _, name = ref.rpartition("/")
        return f"{source}:{owner}/" + re.split(r"[-_.]", name.lower(), maxsplit=1)[0]
    if source == "tfhub":
        return rid.rsplit("/", 1)[0] if rid.rsplit("/", 1)[-1].isdigit() else rid
    if source == "torchvision":
        return rid.split(".")[0]
    return rid


def _diversify(ranked: list[_Candidate], cat: catalog_mod.Catalog) -> list[_Candidate]:
    # Five sizes of one model family should not push every other family off the page:
    # each further member of a family already shown loses a few percent, which only
    # reorders near-ties.
    seen: dict[str, int] = {}
    adjusted = []
    for pos, c in enumerate(ranked):
        fam = _family(cat.ids[c.doc] if c.doc is not None and c.rec is None else c.record(cat).id)
        n = seen.get(fam, 0)
        seen[fam] = n + 1
        adjusted.append((-round(c.score * FAMILY_DAMPING**n, 6), pos, c))
    adjusted.sort(key=lambda t: t[:2])
    return [c for *_, c in adjusted]


def _worth_asking(name: str, cat: catalog_mod.Catalog) -> bool:
    if name == "torchvision":
        # Only an installed torchvision other than the snapshot's adds anything; checking
        # that here costs a directory scan instead of importing the source.
        from .tv_installed import installed_version

        inst = installed_version()
        return inst is not None and inst != cat.meta.get("torchvision", {}).get("torchvision_version")
    return True


def _add_live(found: dict[str, _Candidate], cat: catalog_mod.Catalog, rec: Record, index: TextIndex, terms: list[QueryTerm], query: SearchQuery) -> None:
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
    if _exact(query.text, merged.id, merged.name):
        score += EXACT_BONUS
    found[merged.id] = _Candidate(max(score, prev.score) if prev else score, rec=merged)


def _version(rid: str) -> int:
    tail = rid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _sort_key(sort: str, cat: catalog_mod.Catalog) -> Callable[[_Candidate], tuple]:
    def popularity(c: _Candidate) -> float:
        if c.rec is None:
            return 0.0
        return math.log10(1 + (c.rec.downloads or 0)) + 0.5 * math.log10(1 + (c.rec.likes or 0))

    def facts(c: _Candidate) -> tuple[str, int, int]:
        if c.doc is not None and c.rec is None:
            f = cat.facet(c.doc)
            return f[0], int(f[3]), int(f[4])
        r = c.record(cat)
        return r.id, int(r.curated), int(bool(r.extra.get("default")))

    def relevance(c: _Candidate) -> tuple:
        rid, curated, default = facts(c)
        # Ties: curated first, then popular, then default weights and newest versions.
        return (-round(c.score, 6), -curated, -popularity(c), -default, -_version(rid), rid)

    if sort == "relevance":
        return relevance
    attr = {"downloads": "downloads", "likes": "likes", "updated": "updated", "params": "params", "size": "size_bytes"}[sort]

    def key(c: _Candidate) -> tuple:
        value = getattr(c.record(cat), attr)
        missing = value is None
        primary = ("" if missing else _neg_str(value)) if sort == "updated" else -(value or 0)
        return (missing, primary, *relevance(c))

    return key


def _neg_str(value: str) -> str:
    # Newest first for ISO timestamps, without parsing them.
    return "".join(chr(0x10FFFF - ord(c)) for c in value)


def _ask_live(names: list[str], query: SearchQuery) -> dict[str, tuple[SourceAnswer | None, SourceReport]]:
    """Ask each live source concurrently; a slow or failing one never sinks the others."""
    import threading

    from . import sources as registry
    from .errors import describe

    answered: dict[str, tuple[SourceAnswer | BaseException, float]] = {}
    started = time.monotonic()

    def run(name: str) -> None:
        try:
            result: SourceAnswer | BaseException = registry.get(name).search(query)
        except Exception as exc:  # noqa: BLE001 - reported per source, never fatal
            result = exc
        answered[name] = (result, round(time.monotonic() - started, 3))

    if all(n in LOCAL_SEARCH for n in names):
        # Local sources (offline torchvision) answer in-process: no thread to start.
        for name in names:
            run(name)
    else:
        # Daemon threads, not an executor: a source stuck past its deadline must not keep
        # the process alive at exit (executor threads are joined at interpreter shutdown).
        threads = [threading.Thread(target=run, args=(n,), name=f"zoofind-{n}", daemon=True) for n in names]
        for t in threads:
            t.start()
        deadline = started + query.timeout + 0.25
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))

    out: dict[str, tuple[SourceAnswer | None, SourceReport]] = {}
    for name in names:
        if name not in answered:
            secs = round(time.monotonic() - started, 3)
            out[name] = (None, SourceReport(name, "timeout", message=f"no answer within {query.timeout:g} s", seconds=secs))
            continue
        result, secs = answered[name]
        if isinstance(result, BaseException):
            status = "timeout" if getattr(result, "timed_out", False) else "error"
            out[name] = (None, SourceReport(name, status, message=describe(result).message, seconds=secs))
        else:
            status = "skipped" if result.origin == "skipped" else "ok"
            out[name] = (result, SourceReport(name, status, len(result.records), result.origin, result.note, secs))
    return out


def info_lookup(raw_id: str, *, offline: bool, timeout: float) -> tuple[Record, tuple[str, ...]]:
    """Everything known about one id: the catalog entry merged with the live source's answer.

    Returns the record and warnings (a live check that failed while the catalog answered).
    """
    from . import sources as registry
    from .errors import NotFoundError, describe
    from .records import parse_id

    pid = parse_id(raw_id)
    base = catalog_mod.load().get(str(pid))
    live: Record | None = None
    warnings: tuple[str, ...] = ()
    if pid.source != "catalog":
        try:
            live = registry.get(pid.source).info(pid, offline=offline, timeout=timeout)
        except NotFoundError:
            if base is None:
                raise
        except Exception as exc:  # noqa: BLE001 - the catalog answer is still worth showing
            if base is None:
                raise
            warnings = (f"{pid.source} did not answer ({describe(exc).message}); showing the bundled catalog entry",)
    rec = live.merged_with(base) if (live and base) else (live or base)
    if rec is None:
        raise NotFoundError(f"no entry {str(pid)!r}", hint="search for it with `zoofind search`")
    return rec, warnings
