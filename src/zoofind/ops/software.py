"""`zoofind cite --with-software`: the libraries the cited models load with, each cited the way its
owners ask (``catalog/software.py``: a paper, or the software itself), with the version used.

Which libraries: an entry's first framework (a lock's recorded framework first) and the first
library it loads with, as ``info`` counts them (the others are alternatives). Which version: for
ids, the one installed here; a lock records no library versions, so each is "version not
recorded" and a note says what is installed here. Nothing is asked of the network.
"""

from __future__ import annotations

from dataclasses import replace

from .. import catalog as catalog_mod
from ..catalog import frameworks
from ..catalog.software import citations
from ..core.context import Context
from ..models.cite import FROM_SOFTWARE, CiteReport, Reference, SoftwareUse
from ..models.lock import Lock
from ..models.records import Record
from .cite import author_of, entry_kind, key_for


def with_software(report: CiteReport, ctx: Context, *, lock: Lock | None = None) -> CiteReport:
    """``report`` with the libraries its models load with cited too (``report.software``);
    ``lock``: the lock ``report`` cites, whose models' order its citations follow."""
    catalog = catalog_mod.load(ctx)
    locked = [m.framework for m in lock.models] if lock is not None else [None] * len(report.citations)
    uses: dict[str, list[str]] = {}
    notes: list[str] = []
    for citation, framework in zip(report.citations, locked, strict=True):
        model_id = citation.id[:-len(citation.revision) - 1] if citation.revision and citation.id.endswith(
            "@" + citation.revision) else citation.id
        keys = libraries_of(catalog.get(model_id), framework)
        if not keys:
            notes.append(f"{citation.id}: no library to cite for it (the catalog names none it loads with)")
        for key in keys:
            uses.setdefault(key, []).append(citation.id)
    refs = list(report.references)
    used = []
    for key, ids in uses.items():
        name = frameworks.LIBRARIES[key].name
        here = frameworks.installed_version(key)
        version = here if lock is None else None
        if lock is not None:
            notes.append(f"{name}: version not recorded (the lock records no library versions; "
                         + (f"{here} is installed here)" if here else "not installed here)"))
        elif here is None:
            notes.append(f"{name}: version not recorded (not installed here)")
        said = f"{name} {version}" if version else f"{name} (version not recorded)"
        ref = software_reference(key, version=version, cited_for=f"{said}, which loaded {', '.join(ids)}")
        ref = _merged(refs, ref)
        used.append(SoftwareUse(key, name, version, ref.key, tuple(ids)))
    return replace(report, references=tuple(refs), software=tuple(used), software_notes=tuple(notes))


def libraries_of(record: Record | None, framework: str | None = None) -> list[str]:
    """The library-table keys a model loads with: its framework, then its first library."""
    bases = [frameworks.canonical(f) for f in ([framework] if framework else []) + list(
        record.frameworks if record is not None else ())]
    libraries = [frameworks.canonical(x) for x in (record.libraries[:1] if record is not None else ())]
    if not bases and libraries and libraries[0] in frameworks.LIBRARIES:
        bases = [frameworks.LIBRARIES[libraries[0]].framework or ""]
    return [k for k in dict.fromkeys(bases[:1] + libraries) if k in frameworks.LIBRARIES]


def software_reference(key: str, *, version: str | None, cited_for: str) -> Reference:
    """Library ``key`` as its owners ask it be cited, else as ``@software`` (name, version, home page)."""
    lib = frameworks.LIBRARIES[key]
    asked = citations().get(key)
    if asked is None:
        return Reference(key=key.replace("-", "_"), kind="software", title=lib.name, url=lib.url,
                         source=FROM_SOFTWARE, cited_for=(cited_for,), revision=version,
                         evidence="no citation of its owners' known: its name and home page")
    authors = tuple(author_of(a) for a in asked.get("authors", ()))
    doi, arxiv = asked.get("doi"), asked.get("arxiv")
    url = asked.get("url") or (f"https://doi.org/{doi}" if doi else f"https://arxiv.org/abs/{arxiv}" if arxiv else None)
    fields = tuple((str(name), str(value)) for name, value in asked.get("fields", ()))
    common = {"title": asked["title"], "authors": authors, "year": asked.get("year"), "doi": doi, "arxiv": arxiv,
              "url": url, "source": FROM_SOFTWARE, "cited_for": (cited_for,), "fields": fields,
              "evidence": "read in " + asked["evidence"]}
    if asked.get("software"):
        return Reference(key=asked["key"], kind=asked.get("kind", "software"), revision=version, **common)
    venue = asked.get("venue")
    return Reference(key=key_for(authors, asked.get("year"), asked["title"], fallback=key),
                     kind=entry_kind(venue, doi), venue=venue, **common)


def _merged(refs: list[Reference], ref: Reference) -> Reference:
    """Add ``ref`` to ``refs`` once: a work already cited (a model's paper that is the library's,
    by DOI) is cited for the library too; a key already taken by another work gets a letter."""
    for n, seen in enumerate(refs):
        if seen.identity == ref.identity:
            refs[n] = replace(seen, cited_for=seen.cited_for + ref.cited_for)
            return refs[n]
    taken = {r.key for r in refs}
    key = next(k for k in (ref.key, *(f"{ref.key}{c}" for c in "bcdefghijklmnopqrstuvwxyz")) if k not in taken)
    refs.append(replace(ref, key=key))
    return refs[-1]

