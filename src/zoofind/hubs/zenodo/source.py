"""``ZenodoSource``: search, info and status for Zenodo records.

A search sends the query's informative words as Zenodo's ``q`` (25 records a page, at most two
pages: Zenodo allows 30 searches a minute), keeps the records published as something a model can
be (software, dataset, other, model, workflow: not papers, posters or slides) that hold files, and
lets zoofind's ranking order them. Answers are cached per endpoint and request (``net.answers``):
a fresh one is served without the network, a stale one when Zenodo fails transiently. ``info``
reads one record (its files with sizes and MD5s, licence, creators, DOI, version); offline, the
record a pull stored beside its files answers (``layout.MARKER``), else the catalog's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ... import catalog as catalog_mod
from ...core.errors import OfflineError, SourceError
from ...models.files import FileEntry
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached, stale_note
from ...net.probe import probe as probe_endpoint
from .. import Repairs, SearchQuery, json_list, json_object
from ..base import SourceAnswer, SourceStatus
from . import SPEC, layout, record, record_of

if TYPE_CHECKING:
    from ...core.context import Context

#: Words that match every record (Zenodo matches a word anywhere in the metadata).
_STOP = frozenset("a an and are as at by for from in into is it of on or the to with using based".split())
#: What zoofind keeps of a record's metadata (the answer cache and the store hold this, not the whole answer).
_META = ("title", "doi", "publication_date", "description", "creators", "keywords", "license", "resource_type",
         "version", "relations", "related_identifiers")


def words_of(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z0-9][a-z0-9-]*", text.lower()) if len(w) > 1 and w not in _STOP]
    return list(dict.fromkeys(words))[:8]


def trimmed(item: Any) -> dict[str, Any] | None:
    """What zoofind keeps of a record's JSON; None when it is no JSON object."""
    if not isinstance(item, dict):
        return None
    meta = json_object(item.get("metadata"))
    keep = {k: meta[k] for k in _META if k in meta}
    if isinstance(keep.get("description"), str):
        keep["description"] = keep["description"][:5000]
    files = [{k: f[k] for k in ("key", "size", "checksum") if k in f}
             for f in json_list(item.get("files"))[:1000] if isinstance(f, dict)]
    out = {k: item[k] for k in ("id", "recid", "conceptrecid", "doi", "conceptdoi", "title") if k in item}
    stats = json_object(item.get("stats"))
    return {**out, "metadata": keep, "files": files,
            "stats": {"downloads": stats["downloads"]} if "downloads" in stats else {}}


def _valid(value: Any) -> bool:
    return isinstance(value, dict) and "metadata" in value


class ZenodoSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        if query.kind in ("resource", "dataset") or query.size_category:
            # (--size-category asks for datasets: not asked, rather than asked and every record filtered out)
            return SourceAnswer((), origin="skipped", note="zoofind lists Zenodo records as models")
        endpoint = ctx.endpoint(SPEC)
        q = " ".join(words_of(query.text))
        want = max(query.limit, 1)

        def fetch() -> list[dict[str, Any]]:
            from . import api  # lazy: a search answered from the answer cache loads no HTTP stack

            found: list[dict[str, Any]] = []
            with api.session(ctx) as s:
                for page in api.search_pages(s, endpoint, q):
                    found += [t for t in map(trimmed, page) if t is not None]
                    if len(found) >= want * 2:
                        break
            return found

        params = {"op": "search", "endpoint": endpoint, "q": q, "want": want}
        items, origin, age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, list))
        repairs = Repairs()
        records: dict[str, Record] = {}
        for item in items:
            try:
                if record.kind_of(item) not in record.MODEL_TYPES or not record.files(item, endpoint):
                    continue
                rec = record.record(item, endpoint, repairs)
            except (SourceError, ValueError):  # one record Zenodo sent wrong costs only itself
                repairs.records += 1
                continue
            records.setdefault(rec.id, rec)
        notes = [n for n in (stale_note("Zenodo", origin, age), repairs.note("Zenodo")) if n]
        return SourceAnswer(tuple(records.values()), origin=origin, age_seconds=age, note="; ".join(notes) or None)

    def record_json(self, ref: str, ctx: Context, *, latest: bool = False) -> dict[str, Any]:
        """The record's JSON as zoofind keeps it (answer-cached; ``latest``: its concept's latest version).
        Offline: the copy a pull stored with its files, else ``OfflineError``."""
        rid = record_of(ref)
        if ctx.offline:
            stored = None if latest else stored_record(ctx, rid)
            if stored is None:
                raise OfflineError(f"offline: Zenodo record {rid} not asked", hint="drop --offline to ask Zenodo")
            return stored
        endpoint = ctx.endpoint(SPEC)

        def fetch() -> dict[str, Any]:
            from . import api  # lazy: a search answered from the answer cache loads no HTTP stack

            with api.session(ctx) as s:
                kept = trimmed(api.get_record(s, endpoint, rid, latest=latest))
            assert kept is not None  # get_record answers a JSON object
            return kept

        params = {"op": "latest" if latest else "record", "endpoint": endpoint, "record": rid}
        value, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=_valid)
        return value

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        snapshot = catalog_mod.load(ctx).get(str(pid))
        try:
            data = self.record_json(pid.ref, ctx)
        except OfflineError:
            return snapshot
        except SourceError as exc:
            if snapshot is not None and exc.transient:
                return snapshot  # the network failed: the catalog still says what the model is
            raise
        return record.record(data, ctx.endpoint(SPEC))

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        data = self.record_json(pid.ref, ctx)
        return tuple(FileEntry(z.key, z.url, z.size) for z in record.files(data, ctx.endpoint(SPEC)))

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        from . import api  # lazy: a search answered from the answer cache loads no HTTP stack

        endpoint = ctx.endpoint(SPEC)
        reachable, reason = (None, None)
        if probe:
            reachable, reason = probe_endpoint(ctx, api.SERVICE, f"{api.records(endpoint)}?size=1")
        return SourceStatus(
            SPEC.name, SPEC.title, endpoint, network=True, reachable=reachable, reason=reason,
            cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("records go to", str(layout.store(ctx.environ))),
                     ("loads with", "the library the record's description names (zoofind pull --dest DIR links "
                                    "the files where it looks)")),
        )


def stored_record(ctx: Context, rid: str) -> dict[str, Any] | None:
    """The record's JSON a pull stored beside its files (zero requests), None when it was not pulled."""
    marker = layout.read_marker(layout.folder(layout.store(ctx.environ), rid))
    data: Mapping[str, Any] | None = marker.get("record") if marker else None
    return dict(data) if isinstance(data, dict) and _valid(data) else None
