"""`zoofind cite`: the references to cite for the models a study used.

For each id, most trusted first: the catalog's ``paper`` (checked by hand, with provenance), then
what the model's hub finds in the model's own card (a hub's ``cite`` ability), else the model
itself as a ``misc`` entry with its address, exact revision and the day it was looked at. Never an
invented author, title or year. References are de-duplicated by DOI or arXiv id (two ESM-2 sizes
give one paper) and keyed the same way on every run.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .. import catalog as catalog_mod
from ..core.context import Context
from ..core.errors import UsageError
from ..hubs import registry
from ..hubs.ids import split_revision
from ..models.cite import FROM_CATALOG, FROM_NOTHING, FROM_SELF, Author, Citation, CiteReport, Reference
from ..models.lock import Lock
from ..models.records import ParsedId, Record
from .citeformats import methods
from .resolve import resolve_id

#: Words a key never takes from a title.
_SMALL_WORDS = frozenset("a an the of on for in to and with by from at via is are towards toward".split())


def cite(ids: Sequence[str], ctx: Context | None = None) -> CiteReport:
    """The references for ``ids`` (``owner/name@rev`` pins the revision a ``misc`` entry names)."""
    ctx = ctx or Context.from_env()
    asked = []
    for raw in ids:
        text, rev = split_revision(raw.strip())
        asked.append((resolve_id(text, ctx), rev))
    return _report(asked, ctx, accessed=_today())


def cite_lock(lock: Lock, ctx: Context | None = None, *, with_tool: bool = False) -> CiteReport:
    """The references for every model of a lock file, at the commit or version it pins; a ``misc``
    entry's access date is the day the lock was written. ``with_tool``: zoofind's own entry too
    (what a methods paragraph cites for how the models were obtained)."""
    ctx = ctx or Context.from_env()
    if not lock.models:
        raise UsageError(f"{lock.origin or 'the lock'} records no models: nothing to cite",
                         hint="write one with `zoofind lock ID... -o FILE`")
    asked = [(resolve_id(m.id, ctx), m.commit or m.revision) for m in lock.models]
    accessed = lock.created.date().isoformat() if lock.created else _today()
    report = _report(asked, ctx, accessed=accessed)
    if with_tool:
        tool = Reference(key="zoofind", kind="misc", title="zoofind: pretrained models and resources for science, "
                         "fetched verified into each framework's own cache", source=FROM_SELF,
                         revision=lock.zoofind or None, cited_for=("the models' download and verification",))
        report = replace(report, references=report.references + (tool,))
    return report


def methods_paragraph(lock: Lock, report: CiteReport, ctx: Context, *, style: str) -> str:
    """The methods paragraph of ``lock`` (``citeformats.methods``), each model named as the catalog
    names it and its hub as the hub calls itself."""
    catalog = catalog_mod.load(ctx)
    names, hubs = [], []
    for model in lock.models:
        pid = resolve_id(model.id, ctx)
        record = catalog.get(str(pid))
        names.append(record.name if record is not None and record.name else pid.ref)
        hubs.append(registry.spec(pid.source).title)
    return methods(lock, report, style=style, names=names, hubs=hubs)


def _today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


Found = tuple[str, str | None, list[Reference], list[Reference], list[str]]


def _report(asked: Sequence[tuple[ParsedId, str | None]], ctx: Context, *, accessed: str) -> CiteReport:
    catalog = catalog_mod.load(ctx)
    found: list[Found] = []
    for pid, rev in asked:
        record = catalog.get(str(pid))
        label = f"{pid}@{rev}" if rev else str(pid)
        refs: list[Reference] = []
        related: list[Reference] = []
        notes: list[str] = []
        paper = record.extra.get("paper") if record is not None else None
        if isinstance(paper, Mapping) and "none" not in paper:
            refs.append(from_paper(paper, cited_for=label, record=record))
        elif isinstance(paper, Mapping):
            refs.append(as_itself(pid, rev, record, accessed=accessed, cited_for=label))
            notes.append(f"{label}: the catalog records that no paper is published ({paper['none']}); "
                         "cited as itself (its address and revision)")
        elif registry.can(pid.source, "cite"):
            card = registry.ability(pid.source, "cite").cite(pid, rev, ctx)
            rev = rev or card.revision
            label = f"{pid}@{rev}" if rev else str(pid)
            # Keyed zoofind's way, whatever key the card chose: one scheme, stable, no clashes of taste.
            refs += [replace(r, key=key_for(r.authors, r.year, r.title, fallback=r.key), cited_for=(label,))
                     for r in card.references]
            related += [replace(r, key=key_for(r.authors, r.year, r.title, fallback=r.key), cited_for=(label,))
                        for r in card.related]
            notes += [f"{label}: {n}" for n in card.notes]
        if not refs:
            refs.append(as_itself(pid, rev, record, accessed=accessed, cited_for=label))
            notes.append(f"{label}: no paper known; cited as itself (its address and revision)")
        found.append((label, rev, refs, related, notes))
    return _deduplicated(found)


def _deduplicated(found: Sequence[Found]) -> CiteReport:
    """One reference per work, keyed stably: keys that collide get a, b, ... in the order of their
    works' identities (not of the ids asked), so a key never depends on what else was cited. A
    related work that is also some model's reference is only a reference."""
    works: dict[str, Reference] = {}
    linked: dict[str, Reference] = {}
    for _, _, refs, related, _ in found:
        for table, group in ((works, refs), (linked, related)):
            for ref in group:
                seen = table.get(ref.identity)
                table[ref.identity] = ref if seen is None else replace(seen, cited_for=seen.cited_for + ref.cited_for)
    linked = {i: r for i, r in linked.items() if i not in works}
    by_key: dict[str, list[str]] = {}
    for identity, ref in (works | linked).items():
        by_key.setdefault(ref.key, []).append(identity)
    keyed: dict[str, Reference] = {}
    for key, identities in by_key.items():
        for n, identity in enumerate(sorted(identities)):
            suffix = "" if len(identities) == 1 else chr(ord("a") + n) if n < 26 else f"_{n}"
            keyed[identity] = replace((works | linked)[identity], key=key + suffix)
    citations = tuple(Citation(label, rev, tuple(dict.fromkeys(keyed[r.identity].key for r in refs)),
                               related=tuple(dict.fromkeys(keyed[r.identity].key for r in related
                                                           if r.identity in linked)),
                               notes=tuple(notes)) for label, rev, refs, related, notes in found)
    return CiteReport(citations, tuple(keyed[i] for i in works), tuple(keyed[i] for i in linked))


#: What an entry's reliability label says about how its facts were checked (``catalog/README.md``),
#: for a paper that records no ``evidence`` of its own.
CHECKED = {"verified_primary": "checked on the owner's page", "verified_usage": "seen in others' use of the model, "
           "not on the owner's page", "verbatim_copy": "copied from the source the entry transcribes",
           "secondary_notes": "from secondary notes, not checked on the owner's page",
           "inferred": "inferred, not checked", "generated": "generated from the hub's own index"}

#: Venues that are a meeting, not a journal (``EMNLP 2022``, ``ASPLOS '24: 29th ACM International Conference ...``).
_MEETING = re.compile(r"\b(conference|proceedings|workshop|symposium)\b|\b(19|20)[0-9]{2}$|'[0-9]{2}\b", re.I)
#: Venues that publish preprints, never a peer-reviewed article.
_PREPRINT_SERVERS = ("arxiv", "biorxiv", "medrxiv", "chemrxiv")
#: DOIs of a software and data archive (DataCite's 10.5281: CERN's Zenodo), never a journal's.
_ARCHIVE_DOI = "10.5281/"


def from_paper(paper: Mapping[str, Any], *, cited_for: str, record: Record | None = None) -> Reference:
    """A catalog entry's ``paper`` table (validated when the catalog was built) as a reference;
    ``record``, the entry, says how checked the facts are when the paper records no evidence."""
    authors = tuple(author_of(a) for a in paper.get("authors") or () if isinstance(a, str) and a.strip())
    title = paper.get("title") if isinstance(paper.get("title"), str) else None
    year = paper.get("year") if isinstance(paper.get("year"), int) else None
    venue = paper.get("venue") if isinstance(paper.get("venue"), str) else None
    doi = paper.get("doi") if isinstance(paper.get("doi"), str) else None
    arxiv = paper.get("arxiv") if isinstance(paper.get("arxiv"), str) else None
    url = f"https://doi.org/{doi}" if doi else f"https://arxiv.org/abs/{arxiv}" if arxiv else None
    return Reference(key=key_for(authors, year, title, fallback=doi or arxiv or cited_for),
                     kind=entry_kind(venue, doi), title=title, authors=authors, year=year, venue=venue, doi=doi,
                     arxiv=arxiv, url=url, source=FROM_CATALOG, cited_for=(cited_for,),
                     evidence=paper_evidence(paper, record))


def entry_kind(venue: str | None, doi: str | None = None) -> str:
    """The BibTeX entry type a paper's venue gives: a meeting's ``inproceedings``, a journal's
    ``article``, ``misc`` for a preprint server, no venue, or a DOI of a software archive."""
    if venue is None or venue.lower() in _PREPRINT_SERVERS or (doi or "").startswith(_ARCHIVE_DOI):
        return "misc"
    return "inproceedings" if _MEETING.search(venue) else "article"


def paper_evidence(paper: Mapping[str, Any], record: Record | None) -> str | None:
    """Where a catalog paper was read: its own ``evidence``, else its entry's reliability label
    said in words, with the entry's evidence; None when the entry records neither."""
    if isinstance(paper.get("evidence"), str) and paper["evidence"].strip():
        return "read in " + paper["evidence"].strip()
    if record is None or record.reliability not in CHECKED:
        return None
    said = CHECKED[record.reliability]
    return f"{said} ({record.evidence})" if record.evidence else said


def as_itself(pid: ParsedId, revision: str | None, record: Record | None, *, accessed: str,
              cited_for: str) -> Reference:
    """The model cited as itself: its name, where it lives, the exact revision. No author, no year:
    nothing known is invented."""
    spec = registry.spec(pid.source)
    url = record.url if record is not None and record.url else (
        spec.url_prefixes[0].rstrip("/") + "/" + pid.ref if spec.url_prefixes else None)
    title = record.name if record is not None and record.name else str(pid)
    # Where a model is published is its hub; a resource (a library, a course) is published at its own
    # address, and the catalog that lists it is no venue.
    venue = None if record is not None and record.kind == "resource" else spec.title
    return Reference(key=_slug(pid.ref), kind="misc", title=title, url=url, source=FROM_NOTHING,
                     cited_for=(cited_for,), revision=revision, accessed=accessed, venue=venue)


def author_of(name: str) -> Author:
    """``"Family, Given"`` or ``"Given Family"``; a single word, or a name in braces (``"{The UniProt
    Consortium}"``, BibTeX's way of saying "one name, do not split"), is the family name whole."""
    name = " ".join(name.split())
    if name.startswith("{") and name.endswith("}") and name.count("{") == 1:
        return Author(name[1:-1].strip())
    if "," in name:
        family, _, given = name.partition(",")
        return Author(family.strip(), given.strip())
    given, _, family = name.rpartition(" ")
    return Author(family, given)


def key_for(authors: Sequence[Author], year: int | None, title: str | None, *, fallback: str) -> str:
    """``lin2023evolutionary``: the first author's family name, the year, the title's first word
    that says something; each folded to ASCII letters and digits."""
    family = _ascii(authors[0].family).lower() if authors else ""
    word = next((w for w in (_ascii(t).lower() for t in re.split(r"[\s\-:/]+", title or ""))
                 if w and w not in _SMALL_WORDS), "")
    key = f"{family}{year or ''}{word}"
    return key if re.search(r"[a-z]", key) else _slug(fallback)


def _ascii(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())
    return slug.strip("_") or "model"
