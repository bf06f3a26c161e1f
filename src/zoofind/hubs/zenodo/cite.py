"""``ZenodoCite``: a Zenodo record is itself the citable object (its DOI), so ``cite`` cites it.

The record's creators, title, publication year, DOI, version and "Zenodo" as publisher, read from
the copy a pull stored with the files (zero requests; offline too), else from Zenodo (one request,
answer-cached). A lock's commit is the exact record id, so a cited lock names the version used.
The papers the record says it supplements or is documented by (``related_identifiers`` with a DOI
or an arXiv id) are related works, not the reference.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from ...core.errors import OfflineError, SourceError
from ...models.cite import FROM_CARD, CardCitation, Reference
from .. import json_list, json_object, json_str, registry
from . import SPEC, record, record_of
from .source import stored_record

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.records import ParsedId
    from .source import ZenodoSource

#: Relations that name the record's paper (DataCite's, as Zenodo writes them).
PAPER_RELATIONS = frozenset({"isSupplementTo", "isDocumentedBy", "isDescribedBy", "isPartOf"})
_ARXIV = re.compile(r"(?:arxiv:)?([0-9]{4}\.[0-9]{4,5}(?:v[0-9]+)?)", re.I)


class ZenodoCite:
    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        latest = (revision or "").lower() == "latest"
        rid = revision if revision and revision.isdigit() else record_of(pid.ref)
        try:
            data = (None if latest else stored_record(ctx, rid)) or cast(
                "ZenodoSource", registry.get(SPEC.name)).record_json(rid, ctx, latest=latest)
            work = record.citation(data)
        except OfflineError:
            return CardCitation(notes=(f"its record is not in zoofind's Zenodo store, so it was not read offline: "
                                       f"pull it (zoofind pull zenodo:{rid}) or drop --offline",))
        except SourceError as exc:  # unreachable, rate-limited, a damaged answer; a missing record raises
            return CardCitation(notes=(f"its Zenodo record could not be read: {exc.message}",))
        answered = record.record_id(data)  # the exact version cited, when the id named another (@latest, a concept)
        return CardCitation((work,), related(data), answered if answered != record_of(pid.ref) else None)


def related(data: dict[str, Any]) -> tuple[Reference, ...]:
    """The papers the record names as what it supplements or is documented by."""
    out: dict[str, Reference] = {}
    for r in map(json_object, json_list(json_object(data.get("metadata")).get("related_identifiers"))):
        ident = json_str(r.get("identifier"), limit=300) or ""
        if json_str(r.get("relation"), limit=40) not in PAPER_RELATIONS or not ident:
            continue
        scheme = (json_str(r.get("scheme"), limit=20) or "").lower()
        arxiv = _ARXIV.fullmatch(ident)
        if scheme == "arxiv" or arxiv:
            if arxiv:
                a = arxiv[1]
                out.setdefault(a, Reference(key="arxiv" + re.sub(r"[^0-9A-Za-z]", "", a), kind="misc", title=None,
                                            arxiv=a, url=f"https://arxiv.org/abs/{a}", source=FROM_CARD))
        elif scheme == "doi" or ident.startswith("10."):
            doi = ident.removeprefix("https://doi.org/").lower()
            out.setdefault(doi, Reference(key="doi" + re.sub(r"[^0-9a-z]", "", doi), kind="misc", title=None, doi=doi,
                                          url=f"https://doi.org/{doi}", source=FROM_CARD))
    return tuple(out.values())
