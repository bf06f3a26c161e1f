"""BibTeX in a model card (Markdown), read as ``Reference``s: what a hub's ``cite`` ability finds there.

The blocks read are fenced code blocks (CommonMark: three or more backticks or tildes, closed
by a fence of the same character at least as long, or the card's end) whose info string is
``bibtex``, ``bib``, ``biblatex``, ``latex``, ``tex`` or nothing, and whose lines open an entry
(``@type{key,``); a Python block's ``@decorator(...)`` is no entry. Each block is parsed on its
own by pybtex, a real BibTeX parser, in its strict mode: a block it refuses is a note saying
why, never a guess, and the other blocks still count.

Text fields (title, venue, names) are LaTeX turned into Unicode (``M{\\"u}ller`` -> Müller,
through pybtex's LaTeX reader and latexcodec), since ``citeformats`` escapes them again on
output. The further fields kept (volume, pages, publisher, ...) stay the LaTeX the card wrote,
their braces balanced. A year is a year only when it is four digits; a DOI only when it is
one; nothing is filled in that the entry does not say. pybtex is imported only when a card
holds a block to parse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..models.cite import FROM_CARD, Author, Reference

#: A fence's info string that may hold BibTeX (its first word, lower-cased).
BIB_LANGUAGES = frozenset({"", "bibtex", "bib", "biblatex", "latex", "tex"})
#: Fields kept as the card wrote them, besides those ``Reference`` holds itself.
KEPT_FIELDS = ("volume", "number", "pages", "publisher", "booktitle", "month", "series", "edition", "address",
               "organization", "institution", "school", "chapter", "howpublished", "isbn", "issn")
#: Where a venue is read, in order.
VENUE_FIELDS = ("journal", "booktitle", "publisher")

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# An entry opens a line: "@article{key," (or with a parenthesis); the key holds no "=" or brackets.
_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]\s*[^\s,{}()=]*\s*,", re.M)
_ARXIV_ID = r"(?:[0-9]{4}\.[0-9]{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]+)?"
ARXIV_RE = re.compile(_ARXIV_ID)
_ARXIV_IN_TEXT = re.compile(rf"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s*)({_ARXIV_ID})", re.I)
_DOI_RE = re.compile(r"10\.[0-9]{4,9}/\S+")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\*?\s*")
#: What LaTeX reads other than as the characters written: commands, groups, math, ties, dashes, quotes.
_LATEX_SYNTAX = re.compile(r"[\\{}$~%&]|--|``|''")


def fenced_blocks(markdown: str) -> Iterator[tuple[str, str]]:
    """(info string's first word, lower-cased; content) of each fenced code block."""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None or (m["fence"][0] == "`" and "`" in m["info"]):  # a backtick fence's info has none
            i += 1
            continue
        fence, words = m["fence"], m["info"].split()
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines))
        yield (words[0].lower() if words else ""), "\n".join(lines[i + 1:end])
        i = end + 1


def bibtex_blocks(markdown: str) -> list[str]:
    """The card's fenced blocks that hold BibTeX entries, in order."""
    return [body for lang, body in fenced_blocks(markdown) if lang in BIB_LANGUAGES and _ENTRY.search(body)]


def references_in(markdown: str) -> tuple[tuple[Reference, ...], tuple[str, ...]]:
    """The entries of every BibTeX block of ``markdown`` as references (``source`` = card), and
    notes: a block that does not parse, an entry with nothing to cite it by."""
    refs: list[Reference] = []
    notes: list[str] = []
    blocks = bibtex_blocks(markdown)
    if not blocks:
        return (), ()
    # The parser and (in unicode_of) the text backend by their classes: pybtex's by-name lookup scans
    # every installed distribution's entry points on each call (25 ms each in a 200-package venv).
    # lazy: pybtex (~30 ms) only for a card with BibTeX in it: off cite --offline start-up
    from pybtex.database.input.bibtex import Parser
    from pybtex.exceptions import PybtexError

    for n, block in enumerate(blocks, 1):
        which = "a BibTeX block" if len(blocks) == 1 else f"BibTeX block {n} of {len(blocks)}"
        try:
            data = Parser().parse_string(block)
        except (PybtexError, ValueError, RecursionError) as exc:  # pybtex's own errors, and a malformed number
            notes.append(f"its card has {which} that does not parse: {_flat(str(exc)) or type(exc).__name__}")
            continue
        for key, entry in data.entries.items():
            ref = reference_of(str(key), entry.type, entry.fields, entry.persons.get("author", ()))
            if ref is None:
                notes.append(f"its card's entry {_flat(str(key))[:60]!r} names no title, DOI or arXiv id: left out")
            else:
                refs.append(ref)
    return tuple(refs), tuple(notes)


def reference_of(key: str, kind: str, fields: Mapping[str, str], persons: Any) -> Reference | None:
    """One parsed entry (pybtex's type, fields and author persons) as a reference; None when it
    names neither a title nor a DOI nor an arXiv id (nothing a reader could find it by)."""
    raw = {name.lower(): " ".join(str(value).split()) for name, value in fields.items()}
    title = unicode_of(raw.get("title", "")) or None
    doi = doi_of(raw.get("doi", ""))
    arxiv = arxiv_of(raw)
    if title is None and doi is None and arxiv is None:
        return None
    kind = kind.lower() if re.fullmatch(r"[A-Za-z]{1,30}", kind) else "misc"
    venue = next((v for v in (unicode_of(raw.get(f, "")) for f in VENUE_FIELDS) if v), None)
    year_text = raw.get("year", "").strip("{} ")
    year = int(year_text) if re.fullmatch(r"[0-9]{4}", year_text) else None
    url = raw.get("url", "")
    url = re.sub(r"^\\url\s*\{(.*)\}$", r"\1", url).strip()
    kept = tuple((f, raw[f]) for f in KEPT_FIELDS if raw.get(f) and balanced(raw[f]))
    return Reference(key=key, kind=kind, title=title, authors=tuple(author_of(p) for p in persons), year=year,
                     venue=venue, doi=doi, arxiv=arxiv, url=url if re.match(r"https?://\S+$", url) else None,
                     source=FROM_CARD, fields=kept)


def author_of(person: Any) -> Author:
    """A pybtex ``Person`` as an ``Author``: a name braced whole (``{The UniProt Consortium}``)
    stays one family name; BibTeX's ``and others`` stays ``others``."""
    family = " ".join([*person.prelast_names, *person.last_names])
    given = " ".join([*person.first_names, *person.middle_names])
    lineage = " ".join(person.lineage_names)
    return Author(" ".join(p for p in (unicode_of(family), unicode_of(lineage)) if p), unicode_of(given))


@functools.lru_cache(maxsize=4096)
def unicode_of(latex: str) -> str:
    """A field's LaTeX as plain Unicode: accents and escapes decoded (``\\'{e}`` -> é, ``\\&`` -> &),
    grouping braces and the names of commands that only style text (``\\emph``) dropped."""
    if not _LATEX_SYNTAX.search(latex):
        return " ".join(latex.split())  # most names and titles: latexcodec costs 0.5 ms a field
    # lazy: pybtex's text backend only for LaTeX syntax: off cite --offline start-up
    from pybtex.backends.plaintext import Backend
    from pybtex.richtext import Text

    text = re.sub(r"\\([ij])(?![A-Za-z])", r"\1", latex)  # a dotless i under an accent: latexcodec wants the letter
    try:
        text = Text.from_latex(text).render(Backend())
    except Exception:  # noqa: BLE001 - any LaTeX pybtex cannot read keeps its letters, without braces
        text = text.replace("{", "").replace("}", "")
    return " ".join(_LATEX_COMMAND.sub("", text).split())


def doi_of(value: str) -> str | None:
    """A DOI field's DOI (``https://doi.org/`` or ``doi:`` taken off); None when it is not one."""
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", value.strip().strip("{}"), flags=re.I)
    value = value.replace("\\_", "_")
    return value if _DOI_RE.fullmatch(value) else None


def arxiv_of(raw: Mapping[str, str]) -> str | None:
    """The arXiv id an entry gives: an arXiv-shaped ``eprint`` (unless ``archiveprefix`` names
    another archive), ``arxiv`` or ``arxivid`` field, else ``arXiv:ID`` or an arxiv.org address in
    the journal, note or URL (how Google Scholar and arXiv's own export write it)."""
    prefix = raw.get("archiveprefix", "").strip("{} ").lower()
    for name in ("eprint", "arxiv", "arxivid"):
        if name == "eprint" and prefix not in ("", "arxiv"):
            continue
        value = re.sub(r"^arxiv:\s*", "", raw.get(name, "").strip("{} "), flags=re.I)
        if ARXIV_RE.fullmatch(value):
            return value
    for name in ("journal", "note", "url", "howpublished"):
        m = _ARXIV_IN_TEXT.search(raw.get(name, ""))
        if m:
            return m[1]
    return None


def balanced(value: str) -> bool:
    """Whether a field's braces close in order (so it can be written back inside ``{...}``)."""
    depth = 0
    for c in value:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            return False
    return depth == 0


def _flat(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())
