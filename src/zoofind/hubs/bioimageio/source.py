"""``BioimageioSource``: search, info and status for the BioImage Model Zoo.

A search sends the query's informative words as Hypha ``keywords`` (every one must match; when
none does, any one), pages through the answer, drops what bioimage.io's gallery hides, and
lets zoofind's ranking order the records. Answers are cached per endpoint and request
(``net.answers.cached``): a fresh one is served without the network, a stale one when the
service fails transiently. ``info`` reads one artifact (the description is its manifest);
offline, or when it cannot be reached, the bundled snapshot's record answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ... import catalog as catalog_mod
from ...core.errors import BadAnswerError, NotFoundError, SourceError
from ...models.files import FileEntry
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached, stale_note
from ...net.probe import probe as probe_endpoint
from .. import Repairs, SearchQuery
from ..base import SourceAnswer, SourceStatus
from . import SPEC, rdf

if TYPE_CHECKING:
    from ...core.context import Context

#: Words that match every description's text (Hypha matches a keyword anywhere in the manifest).
_STOP = frozenset("a an and are as at by for from in into is it of on or the to with model models image images "
                  "using based".split())


def keywords(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z0-9][a-z0-9-]*", text.lower()) if len(w) > 2 and w not in _STOP]
    return list(dict.fromkeys(words))[:8]


def trimmed(item: Any, repairs: Repairs) -> dict[str, Any] | None:
    """What zoofind keeps of a listed artifact (the answer cache stores this, not the whole manifest)."""
    ident = item.get("id") if isinstance(item, dict) else None
    alias = ident.split("/", 1)[-1] if isinstance(ident, str) else None
    manifest = item.get("manifest") if isinstance(item, dict) else None
    if not alias or not re.fullmatch(SPEC.ref_pattern, alias) or not isinstance(manifest, dict):
        repairs.records += 1
        return None
    keep = ("name", "description", "tags", "license", "authors", "cite", "weights", "format_version",
            "documentation", "status", "type")
    return {"alias": alias, "manifest": {k: manifest[k] for k in keep if k in manifest},
            "item": {k: item[k] for k in ("versions", "download_count", "last_modified") if k in item}}


class BioimageioSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        if query.kind in ("resource", "dataset") or query.size_category:
            # (--size-category asks for datasets: not asked, rather than asked and every record filtered out)
            return SourceAnswer((), origin="skipped", note=f"bioimage.io lists models, not {query.kind or 'dataset'}s")
        endpoint = ctx.endpoint(SPEC)
        words = keywords(query.text)
        want = max(query.limit, 1)
        repairs = Repairs()

        def fetch() -> list[dict[str, Any]]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (search start-up)

            found: list[dict[str, Any]] = []
            with api.session(ctx) as s:
                for mode in ("AND", "OR") if len(words) > 1 else ("AND",):
                    for page in api.list_models(s, endpoint, words, mode=mode,
                                                order_by=None if words else "created_at>"):
                        found += [t for t in (trimmed(i, repairs) for i in page) if t is not None]
                        if len(found) >= want * 3:
                            break
                    if found:
                        break
            return found

        params = {"op": "children", "endpoint": endpoint, "keywords": words, "want": want}
        items, origin, age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, list))
        records: dict[str, Record] = {}
        for t in items:
            if isinstance(t, dict) and not rdf.hidden(t.get("manifest") or {}):
                rec = rdf.record(t["alias"], t.get("manifest") or {}, t.get("item"))
                records.setdefault(rec.id, rec)
        notes = [n for n in (stale_note("bioimage.io", origin, age), repairs.note("bioimage.io")) if n]
        return SourceAnswer(tuple(records.values()), origin=origin, age_seconds=age, note="; ".join(notes) or None)

    def artifact(self, alias: str, ctx: Context) -> dict[str, Any]:
        """The model's artifact (cached like a search answer): its manifest, versions and counts."""
        endpoint = ctx.endpoint(SPEC)

        def fetch() -> dict[str, Any]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (search start-up)

            with api.session(ctx) as s:
                return api.get_artifact(s, endpoint, alias)

        params = {"op": "artifact", "endpoint": endpoint, "alias": alias}
        value, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, dict))
        return value

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        snapshot = catalog_mod.load(ctx).get(str(pid))
        if ctx.offline:
            return snapshot
        try:
            item = self.artifact(pid.ref, ctx)
        except SourceError as exc:
            if snapshot is not None and exc.transient:
                return snapshot  # the network failed: the bundled record still says what the model is
            raise
        manifest = item.get("manifest")
        if not isinstance(manifest, dict):
            raise BadAnswerError(f"bioimage.io answered model {pid.ref!r} without its description (manifest)")
        if item.get("type") not in (None, "model"):
            raise NotFoundError(f"bioimage.io's {pid.ref!r} is a {item.get('type')}, not a model",
                                hint="zoofind pulls models; see it on https://bioimage.io")
        return rdf.record(pid.ref, manifest, item)

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        return ()  # the files are named by the model's rdf.yaml, which `pull` reads (hubs.bioimageio.pull)

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        from . import api, layout  # lazy: the HTTP stack only for a status: off search start-up

        endpoint = ctx.endpoint(SPEC)
        reachable, reason = (None, None)
        if probe:
            reachable, reason = ((None, "offline: not probed") if ctx.offline
                                 else probe_endpoint(ctx, api.SERVICE, f"{api.artifacts(endpoint)}/{api.COLLECTION}"))
        return SourceStatus(
            SPEC.name, SPEC.title, endpoint, network=True, reachable=reachable, reason=reason,
            cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("models go to", str(layout.packages(layout.root(ctx.environ)))),
                     ("loads with", "bioimageio.core / bioimageio.spec: load_description('<folder>/rdf.yaml')")),
        )
