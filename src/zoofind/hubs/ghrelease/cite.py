"""``ReleaseCite``: the repository's ``CITATION.cff`` at the release's tag, as the owners ask to be cited.

CFF 1.2 (citation-file-format/citation-file-format's schema): ``preferred-citation`` is the work
to cite (often the paper: ``type``, ``title``, ``authors``, ``year``/``date-published``, ``doi``,
``journal``); without it the file describes the software itself (``title``, ``authors``,
``doi`` or an ``identifiers`` entry of ``type: doi``, ``version``, ``date-released``). An author is
``family-names`` + ``given-names`` (``name-particle`` kept with the family name), or ``name`` for an
entity. One request (answer-cached); a repository without the file, offline, or an unreadable
file is a note, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...core.errors import NotFoundError, OfflineError, SourceError
from ...models.cite import FROM_CARD, Author, CardCitation, Reference
from ...net.answers import cached
from .. import json_list, json_object, json_str
from ..yamlread import YAMLProblem, safe_load
from . import SPEC, ReleaseRef, read_ref

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.records import ParsedId

CFF = "CITATION.cff"
_DOI = re.compile(r"10\.[0-9]{4,9}/\S+")
#: CFF reference types that BibTeX knows by another name.
_KINDS = {"article": "article", "conference-paper": "inproceedings", "book": "book", "thesis": "phdthesis",
          "report": "techreport"}


def _author(a: Mapping[str, Any]) -> Author | None:
    family = " ".join(p for p in (json_str(a.get("name-particle"), limit=100),
                                  json_str(a.get("family-names"), limit=200)) if p)
    if family:
        return Author(family, json_str(a.get("given-names"), limit=200) or "")
    name = json_str(a.get("name"), limit=300)
    return Author(name) if name else None


def _year(work: Mapping[str, Any], *dates: str) -> int | None:
    year = work.get("year")
    if isinstance(year, int) and 1000 < year < 3000:
        return year
    for d in dates:
        m = re.match(r"([0-9]{4})", str(work.get(d) or ""))
        if m:
            return int(m[1])
    return None


def _doi(work: Mapping[str, Any]) -> str | None:
    candidates = [work.get("doi")] + [json_object(i).get("value") for i in json_list(work.get("identifiers"))
                                       if json_object(i).get("type") == "doi"]
    for c in candidates:
        m = _DOI.fullmatch(str(c or "").strip().removeprefix("https://doi.org/"))
        if m:
            return m[0].lower()
    return None


def reference(work: Mapping[str, Any], *, software: bool) -> Reference | None:
    """One CFF work (the file itself, or its ``preferred-citation``) as a reference; None without a title."""
    title = json_str(work.get("title"), limit=500)
    if not title:
        return None
    authors = tuple(a for a in (_author(json_object(x)) for x in json_list(work.get("authors"))[:200]) if a)
    doi = _doi(work)
    venue = json_str(json_object(work.get("journal")).get("name") if isinstance(work.get("journal"), dict)
                     else work.get("journal"), limit=300) or json_str(
        json_object(work.get("conference")).get("name"), limit=300)
    kind = "misc" if software else _KINDS.get(str(work.get("type") or ""), "misc")
    if kind == "misc" and venue and not software:
        kind = "article"
    fields = tuple((k, str(work[k])) for k in ("volume", "issue", "pages") if isinstance(work.get(k), str | int))
    version = json_str(work.get("version"), limit=100) if software else None
    url = json_str(work.get("url") or work.get("repository-code"), limit=500)
    url = url if url and re.match(r"https?://\S+$", url) else (f"https://doi.org/{doi}" if doi else None)
    return Reference(key=f"cff{re.sub(r'[^a-z0-9]', '', title.lower())[:30]}", kind=kind, title=title,
                     authors=authors, year=_year(work, "date-published", "date-released"), venue=venue, doi=doi,
                     url=url,
                     source=FROM_CARD, fields=fields + ((("version", version),) if version else ()))


def read_cff(text: str) -> tuple[tuple[Reference, ...], tuple[Reference, ...], tuple[str, ...]]:
    """(what to cite, related works, notes) from a CITATION.cff's text."""
    try:
        data = safe_load(text)
    except YAMLProblem as exc:
        return (), (), (f"its {CFF} is not readable YAML ({exc})",)
    if not isinstance(data, dict):
        return (), (), (f"its {CFF} holds no citation",)
    itself = reference(data, software=True)
    preferred = data.get("preferred-citation")
    paper = reference(preferred, software=False) if isinstance(preferred, dict) else None
    if paper is not None:
        return (paper,), ((itself,) if itself else ()), ()
    return ((itself,) if itself else ()), (), (() if itself else (f"its {CFF} names no title",))


class ReleaseCite:
    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        r = read_ref(pid.ref)
        try:
            text = _cff_text(r, ctx)
        except OfflineError:
            return CardCitation(notes=(f"its repository's {CFF} is read from GitHub: drop --offline to read it",))
        except NotFoundError:
            return CardCitation(notes=(f"{r.owner}/{r.repo} has no {CFF} at {r.tag}",))
        except SourceError as exc:  # unreachable, rate-limited, a damaged answer
            return CardCitation(notes=(f"its repository's {CFF} could not be read: {exc.message}",))
        works, related, notes = read_cff(text)
        return CardCitation(works, related, None, notes)


def _cff_text(r: ReleaseRef, ctx: Context) -> str:
    if ctx.offline:
        raise OfflineError("offline")
    api = ctx.endpoint(SPEC).rstrip("/")

    def fetch() -> str:
        from ...net.github import GitHub  # lazy: cite answered from the answer cache loads no HTTP stack

        with GitHub(ctx, api) as gh:
            return gh.file_text(r.owner, r.repo, CFF, r.tag)

    params = {"op": "cff", "endpoint": api, "repo": f"{r.owner}/{r.repo}", "tag": r.tag}
    text, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, str))
    return text
