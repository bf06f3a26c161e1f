"""What ``zoofind cite`` answers: the references to cite for a set of models, and where each came from."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Where a reference's facts were read, most trusted first (``Reference.source``).
FROM_CATALOG = "catalog"  # the bundled (or a user's) catalog: checked by hand, with provenance
FROM_CARD = "card"  # a citation block the model's own card gives (Hub README, dataset card, CITATION.cff)
FROM_DOCS = "docs"  # the paper the hub's own documentation names for the architecture (torchvision's builders)
FROM_NOTHING = "none"  # no paper known: a @misc entry for the model itself (its address and revision)
FROM_SELF = "zoofind"  # zoofind's own entry, which a methods paragraph cites for how the models were obtained
FROM_SOFTWARE = "software"  # a library the models load with, cited as its owners ask (``cite --with-software``)
SOURCES = (FROM_CATALOG, FROM_CARD, FROM_DOCS, FROM_NOTHING, FROM_SELF, FROM_SOFTWARE)


@dataclass(frozen=True)
class Author:
    """One author as the source names them: ``family`` always, ``given`` when it was given apart
    (a single name, an organisation or a consortium has only ``family``)."""

    family: str
    given: str = ""


@dataclass(frozen=True)
class Reference:
    """One work to cite. Facts absent from the source stay None: never an invented author, title or year."""

    #: the citation key, the same on every run for the same work (``lin2023evolutionary``)
    key: str
    #: the BibTeX entry type: ``article`` (a venue is known), ``misc`` (a preprint, or the model
    #: itself), or what a card's own entry says (``inproceedings``, ``book``, ...)
    kind: str
    title: str | None
    authors: tuple[Author, ...] = ()
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None
    #: where the facts were read: one of ``SOURCES``
    source: str = FROM_CATALOG
    #: the ids (as asked, with their revision when known) this reference is cited for
    cited_for: tuple[str, ...] = ()
    #: for a model cited as itself (no paper): its exact revision and the day it was looked at
    revision: str | None = None
    accessed: str | None = None
    #: further BibTeX fields as a card wrote them (``volume``, ``pages``, ``booktitle``, ...), each
    #: value's LaTeX kept, its braces balanced (checked when the card was read)
    fields: tuple[tuple[str, str], ...] = ()
    #: how far the facts were checked and where they were read, as the source records it (a catalog
    #: paper's ``evidence``, else what its entry's reliability label means); said in the BibTeX note
    evidence: str | None = None

    @property
    def identity(self) -> str:
        """What makes two references one work: the DOI, else the arXiv id, else all a reader sees
        of it (never the key alone: two cards' papers by one author in one year, both titled
        "Model ...", share a key and are two works)."""
        if self.doi:
            return "doi:" + self.doi.lower()
        if self.arxiv:  # one paper whatever version is named
            return "arxiv:" + re.sub(r"v[0-9]+$", "", self.arxiv.lower())
        seen = (self.kind, " ".join((self.title or "").casefold().split()), str(self.year or ""),
                ";".join(a.family.casefold() for a in self.authors), self.venue or "", self.url or "",
                self.revision or "")
        return "work:" + "|".join(seen)


@dataclass(frozen=True)
class CardCitation:
    """What a hub's ``cite`` ability read in a model's own card."""

    #: the entries the card gives as the model's reference (``source`` = ``card``)
    references: tuple[Reference, ...] = ()
    #: papers the card only links (the Hub's ``arxiv:`` tags are often the training data's)
    related: tuple[Reference, ...] = ()
    #: the exact revision the card was read at (a commit), when the hub has one
    revision: str | None = None
    #: what the user should know: the card is not cached offline, a block did not parse, ...
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """What is known about citing one asked id."""

    id: str
    revision: str | None
    #: keys of the references to cite for it (in ``CiteReport.references``)
    keys: tuple[str, ...]
    #: papers the source links but does not name as the model's own (a card's arXiv tags are
    #: often the training data's papers): shown in JSON, left out of BibTeX unless asked for
    related: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SoftwareUse:
    """One library the cited models load with (``cite --with-software``)."""

    #: its key in the library table (``pytorch``, ``transformers``, ...) and its name for people
    library: str
    name: str
    #: the version cited: installed here when ids were cited; None when not recorded (a lock
    #: records no library versions; a library not installed here)
    version: str | None
    #: the reference that cites it (in ``CiteReport.references``)
    key: str
    #: the ids (as cited) that load with it
    used_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class CiteReport:
    citations: tuple[Citation, ...]
    #: every reference once (de-duplicated by DOI or arXiv id), in the order first cited
    references: tuple[Reference, ...]
    #: related works, by identity, kept apart from ``references``
    related: tuple[Reference, ...] = ()
    #: with ``--with-software``: the libraries the models load with, each cited
    software: tuple[SoftwareUse, ...] = ()
    #: what the user should know about those (a version not recorded, no library known)
    software_notes: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(n for c in self.citations for n in c.notes) + self.software_notes
