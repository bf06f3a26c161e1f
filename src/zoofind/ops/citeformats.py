"""A ``CiteReport`` written as BibTeX, CSL-JSON or one line of text per reference.

Text here is data from outside (a catalog, a card): BibTeX gets it escaped so that every entry
parses back with its braces balanced, whatever the title holds; URLs, DOIs and arXiv ids are
verbatim fields there and are only refused a brace. Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..models.cite import (
    FROM_CARD,
    FROM_CATALOG,
    FROM_DOCS,
    FROM_NOTHING,
    FROM_SELF,
    FROM_SOFTWARE,
    Author,
    CiteReport,
    Reference,
)
from ..models.lock import Lock, LockedModel

FORMATS = ("bibtex", "csl-json", "text")

#: How each source is said in a BibTeX ``note`` (the JSON ``source`` field carries the bare label).
_SAID = {FROM_CATALOG: "the zoofind catalog",
         FROM_CARD: "the model's card", FROM_DOCS: "the hub's documentation of the architecture",
         FROM_NOTHING: "no paper; the entry itself (its address and revision)",
         FROM_SELF: "the tool that fetched and verified the models",
         FROM_SOFTWARE: "a library the models were loaded with"}
# A brace is never escaped as \{: BibTeX counts braces whatever precedes them, so an odd one would
# end (or never end) the field. The text commands keep every field's braces balanced.
_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "&": r"\&",
            "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _ESCAPES))


#: The field a venue goes in, by entry type (others: ``howpublished``).
_VENUE_FIELDS = {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle",
                 "conference": "booktitle"}


def escape(text: str) -> str:
    """Text as a BibTeX value holds it: LaTeX's special characters escaped, white space collapsed
    (a newline or a control character inside a field is never wanted)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], flat)


def _verbatim(text: str) -> str:
    # URL-like fields are read verbatim by biblatex: no escapes, but a brace would end the field.
    return re.sub(r"[{}\s\\]", lambda m: f"%{ord(m.group(0)):02X}", text)


def bibtex(report: CiteReport, *, related: bool = False) -> str:
    refs = report.references + (report.related if related else ())
    return "\n".join(bibtex_entry(r) for r in refs)


def bibtex_entry(ref: Reference) -> str:
    fields: list[tuple[str, str]] = []
    if ref.authors:
        fields.append(("author", _author_field(ref.authors)))
    if ref.title:
        # Double braces keep the title's capitals (ESM-2, CT, DNA) as written.
        fields.append(("title", "{" + escape(ref.title) + "}"))
    if ref.venue:
        fields.append((_VENUE_FIELDS.get(ref.kind, "howpublished"), escape(ref.venue)))
    if ref.year:
        fields.append(("year", str(ref.year)))
    if ref.doi:
        fields.append(("doi", _verbatim(ref.doi)))
    if ref.arxiv:
        fields += [("eprint", _verbatim(ref.arxiv)), ("archiveprefix", "arXiv")]
    if ref.url:
        fields.append(("url", _verbatim(ref.url)))
    if ref.revision:
        fields.append(("version", escape(ref.revision)))
    if ref.accessed:
        fields.append(("urldate", escape(ref.accessed)))
    taken = {name for name, _ in fields}
    fields += [(name, value) for name, value in ref.fields if name not in taken and name != "note"]
    said = _SAID[ref.source]
    if ref.source == FROM_CARD and ref.cited_for and all(c.partition(":")[2].startswith("datasets/")
                                                         for c in ref.cited_for):
        said = "the dataset's card"  # hf:datasets/..., kaggle:datasets/...: the hubs' own word for a dataset
    source = said + (f", {ref.evidence}" if ref.evidence else "")
    fields.append(("note", escape(f"Cited for {', '.join(ref.cited_for)}. Source: {source}")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{ref.kind}{{{ref.key},\n{body},\n}}\n"


#: BibTeX's "and others" (a card's list that ends in "et al."), kept as an author so the list is not read as whole.
OTHERS = Author("others")


def _author_field(authors: Sequence[Author]) -> str:
    # "Family, Given"; a name without a given part (a consortium) is braced whole so BibTeX
    # never splits it into given and family names; "others" stays bare, as BibTeX reads "et al.".
    return " and ".join("others" if a == OTHERS else f"{escape(a.family)}, {escape(a.given)}" if a.given
                        else "{" + escape(a.family) + "}" for a in authors)


#: BibTeX entry types as CSL names them (anything else: ``article``, CSL's catch-all for a paper).
_CSL_TYPES = {"article": "article-journal", "inproceedings": "paper-conference", "conference": "paper-conference",
              "book": "book", "incollection": "chapter", "inbook": "chapter", "phdthesis": "thesis",
              "mastersthesis": "thesis", "techreport": "report", "software": "software", "dataset": "dataset"}


def csl_json(report: CiteReport, *, related: bool = False) -> list[dict[str, Any]]:
    """CSL-JSON items (what Zotero, pandoc and citeproc read); ``source`` says where the facts came from."""
    return [csl_item(r) for r in report.references + (report.related if related else ())]


def csl_item(ref: Reference) -> dict[str, Any]:
    item: dict[str, Any] = {"id": ref.key, "type": _CSL_TYPES.get(
        ref.kind, "software" if ref.source in (FROM_NOTHING, FROM_SOFTWARE) else "article"), "source": ref.source}
    if ref.title:
        item["title"] = ref.title
    if ref.authors:
        item["author"] = [{"family": a.family, "given": a.given} if a.given else {"literal": a.family}
                          for a in ref.authors if a != OTHERS]
    if ref.year:
        item["issued"] = {"date-parts": [[ref.year]]}
    if ref.venue:
        item["container-title" if ref.kind in _VENUE_FIELDS else "publisher"] = ref.venue
    if ref.doi:
        item["DOI"] = ref.doi
    if ref.arxiv:
        item["number"] = f"arXiv:{ref.arxiv}"
    if ref.url:
        item["URL"] = ref.url
    if ref.revision:
        item["version"] = ref.revision
    if ref.accessed:
        item["accessed"] = {"date-parts": [[int(p) for p in ref.accessed.split("-")]]}
    item["note"] = f"Cited for {', '.join(ref.cited_for)}"
    return item


def text(report: CiteReport, *, related: bool = False) -> list[str]:
    """One formatted reference per line: authors (year). Title. Venue. DOI or arXiv or URL."""
    return [text_line(r) for r in report.references + (report.related if related else ())]


def text_line(ref: Reference) -> str:
    def flat(s: str) -> str:
        return " ".join("".join(c if c.isprintable() else " " for c in s).split())

    names = [f"{a.family} {''.join(p[0] for p in a.given.replace('-', ' ').split() if p)}".strip()
             for a in ref.authors if a != OTHERS]
    who = ", ".join(names[:6]) + (", et al." if names and (len(names) > 6 or OTHERS in ref.authors) else "")
    parts = [f"{who} ({ref.year})." if who and ref.year else f"{who}." if who else f"({ref.year})." if ref.year else ""]
    if ref.title:
        parts.append(ref.title.rstrip(".") + ".")
    if ref.venue:
        parts.append(ref.venue.rstrip(".") + ".")
    if ref.revision:
        parts.append(f"{'Version' if ref.source == FROM_SOFTWARE else 'Revision'} {ref.revision}.")
    link = (f"https://doi.org/{ref.doi}" if ref.doi else f"arXiv:{ref.arxiv}" if ref.arxiv else ref.url)
    if link:
        parts.append(link)
    if ref.accessed:
        parts.append(f"(accessed {ref.accessed})")
    return flat(" ".join(p for p in parts if p))


# -- the methods paragraph ---------------------------------------------------------------------

#: How a paragraph cites, by the format the references are written in: LaTeX reads BibTeX keys,
#: pandoc reads CSL-JSON ids, and plain text names authors and years.
CITE_MARKS = {"bibtex": "latex", "csl-json": "pandoc", "text": "text", "json": "pandoc"}


def cite_mark(refs: Sequence[Reference], style: str) -> str:
    if not refs:
        return ""
    if style == "latex":
        return "~\\cite{" + ",".join(r.key for r in refs) + "}"
    if style == "pandoc":
        return " [" + "; ".join("@" + r.key for r in refs) + "]"
    said = []
    for r in refs:
        who = (r.authors[0].family + (" et al." if len(r.authors) > 1 else "")) if r.authors else (r.title or r.key)
        said.append(f"{who} {r.year}" if r.year else who)
    return " (" + "; ".join(said) + ")"


def main_file(model: LockedModel) -> tuple[str, str] | None:
    """(name, sha256) of what a reader would check first: the archive a model was unpacked from,
    else its largest file (the weights, in every hub's layout)."""
    if model.archive is not None:
        return "archive", model.archive.sha256
    if not model.files:
        return None
    biggest = max(model.files, key=lambda f: (f.size, f.path))
    return biggest.path, biggest.sha256


def methods(lock: Lock, report: CiteReport, *, style: str, names: Sequence[str], hubs: Sequence[str]) -> str:
    """A paragraph a methods section can use: each model with its exact revision, the sha256 of its
    main file and where it came from, cited; then when, how and with what they were obtained.
    ``names`` and ``hubs``: each locked model's display name and hub title, in the lock's order."""
    by_key = {r.key: r for r in report.references}
    parts = []
    for model, citation, name, hub in zip(lock.models, report.citations, names, hubs, strict=True):
        pinned = model.commit or model.revision
        facts = [model.id, hub] + ([f"revision {pinned}"] if pinned else [])
        main = main_file(model)
        if main is not None:
            facts.append(f"{main[0]}, SHA-256 {main[1]}")
        refs = [by_key[k] for k in citation.keys if by_key[k].source != FROM_NOTHING]
        parts.append(f"{name} ({'; '.join(facts)}){cite_mark(refs, style)}")
    listed = _and(parts)
    when = f" on {lock.created.date().isoformat()}" if lock.created else ""
    tool = [r for r in report.references if r.source == FROM_SELF]
    version = f" {lock.zoofind}" if lock.zoofind else ""
    # With --with-software: the libraries they were loaded with, each with its version and cited.
    libraries = [f"{u.name} {u.version}" if u.version else u.name for u in report.software]
    cited = [f"{said}{cite_mark([by_key[u.key]], style)}" for said, u in zip(libraries, report.software, strict=True)]
    with_libraries = (f"{'It was' if len(parts) == 1 else 'They were'} loaded with {_and(cited)}. " if cited else "")
    return (f"We used the pretrained {'model' if len(parts) == 1 else 'models'} {listed}. {with_libraries}"
            f"{'It was' if len(parts) == 1 else 'They were'} obtained{when} with zoofind{version}"
            f"{cite_mark(tool, style)}, which checked every file against the size and SHA-256 recorded in a lock "
            f"file, so that the same bytes can be fetched again with `zoofind pull --lock`.")


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
