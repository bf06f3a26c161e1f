"""``ReleaseSource``: info and status for GitHub release assets; searches are the catalog's.

GitHub has no search over release assets, so the bundled catalog's curated entries with a
``ghrelease:`` id are what ``search`` finds. ``info`` reads the release (one request, answer-cached
like every live answer): its assets with sizes and sha256 digests, its date and notes; offline, the
copy a pull stored beside the assets (``layout.MARKER``), else the catalog's entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ... import catalog as catalog_mod
from ...core.errors import OfflineError, SourceError
from ...models.files import FileEntry
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached
from ...net.probe import probe as probe_endpoint
from .. import SearchQuery, json_list
from ..base import SourceAnswer, SourceStatus
from . import SPEC, ReleaseRef, layout, loaders, read_ref, release

if TYPE_CHECKING:
    from ...core.context import Context

#: What zoofind keeps of a release's JSON (the answer cache and the store hold this).
_KEEP = ("id", "tag_name", "name", "draft", "prerelease", "published_at", "html_url", "body")
_ASSET_KEEP = ("id", "name", "size", "state", "digest", "download_count", "content_type")


def trimmed(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data[k] for k in _KEEP if k in data}
    if isinstance(out.get("body"), str):
        out["body"] = out["body"][:5000]
    out["assets"] = [{k: a[k] for k in _ASSET_KEEP if k in a} for a in json_list(data.get("assets"))[:1000]
                     if isinstance(a, dict)]
    return out


def _valid(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("assets"), list)


def stored_release(ctx: Context, r: ReleaseRef) -> dict[str, Any] | None:
    """The release's JSON a pull stored beside its assets (zero requests), None when it was not pulled."""
    s = layout.store(ctx.environ)
    manifest = s.read(layout.folder(s, r))
    data = manifest.get("release") if manifest else None
    return dict(data) if isinstance(data, dict) and _valid(data) else None


def release_json(r: ReleaseRef, ctx: Context) -> dict[str, Any]:
    """The release's JSON as zoofind keeps it (answer-cached). Offline: the stored copy, else ``OfflineError``."""
    if ctx.offline:
        stored = stored_release(ctx, r)
        if stored is None:
            raise OfflineError(f"offline: GitHub not asked for release {r.tag!r} of {r.owner}/{r.repo}",
                               hint="drop --offline to ask GitHub")
        return stored
    api = ctx.endpoint(SPEC).rstrip("/")

    def fetch() -> dict[str, Any]:
        from ...net.github import GitHub  # lazy: info answered from the answer cache loads no HTTP stack

        with GitHub(ctx, api) as gh:
            return trimmed(gh.release(r.owner, r.repo, r.tag))

    params = {"op": "release", "endpoint": api, "repo": f"{r.owner}/{r.repo}", "tag": r.tag}
    value, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=_valid)
    return value


def placed_for(r: ReleaseRef, name: str, ctx: Context) -> str | None:
    """Where a pull puts an asset a library reads from its own folder, and the call that loads it there."""
    row = loaders.row(r, name)
    place = row.place(ctx.environ) if row is not None else None
    return f"{place} ({row.library} reads it there: {row.load})" if row is not None and place else None


class ReleaseSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        return SourceAnswer((), origin="bundled")  # the catalog's curated entries answer

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        r = read_ref(pid.ref)
        rec = self._info(pid, r, ctx)
        if rec is None:
            return None
        names = [r.asset] if r.asset else [a["name"] for a in rec.extra.get("assets", ()) if isinstance(a, dict)]
        places = [f"{name} -> {place}" for name in names if (place := placed_for(r, name, ctx))]
        return replace(rec, extra={**rec.extra, "pull_puts": places}) if places else rec

    def _info(self, pid: ParsedId, r: ReleaseRef, ctx: Context) -> Record | None:
        snapshot = catalog_mod.load(ctx).get(str(pid))
        try:
            data = release_json(r, ctx)
        except OfflineError:
            return snapshot
        except SourceError as exc:
            if snapshot is not None and exc.transient:
                return snapshot  # the network failed: the catalog still says what the model is
            raise
        live = release.record(data, r, ctx.endpoint(SPEC))
        if r.asset is not None and not live.extra.get("assets"):
            from ...core.errors import NotFoundError  # lazy: only a missing asset needs it

            listed = ", ".join(a.name for a in release.assets(data, r, ctx.endpoint(SPEC))[:10]) or "none"
            raise NotFoundError(f"release {r.tag!r} of {r.owner}/{r.repo} has no asset {r.asset!r}",
                                hint=f"its assets: {listed}")
        if snapshot is None:
            return live
        # The catalog's curation (tasks, licence, paper, libraries) with the release's live facts.
        return replace(snapshot, size_bytes=live.size_bytes, downloads=live.downloads, updated=live.updated,
                       weights_format=live.weights_format or snapshot.weights_format,
                       extra={**snapshot.extra, **live.extra})

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        r = read_ref(pid.ref)
        return tuple(FileEntry(a.name, a.url, a.size, a.sha256)
                     for a in release.assets(release_json(r, ctx), r, ctx.endpoint(SPEC))
                     if r.asset in (None, a.name))

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        from ...net import github  # lazy: `sources` without --probe loads no HTTP stack

        api = ctx.endpoint(SPEC).rstrip("/")
        reachable, reason = probe_endpoint(ctx, github.SERVICE, api + "/") if probe else (None, None)
        return SourceStatus(
            SPEC.name, SPEC.title, api, network=True, reachable=reachable, reason=reason,
            credentials=bool(github.token(ctx)), cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("assets go to", str(layout.store(ctx.environ).base)),
                     *((f"assets {library} reads go to", folder)
                       for library, folder in loaders.libraries(ctx.environ).items()),
                     ("loads with", "the library's own call for those (pull prints it); others, the tool the "
                                    "catalog's entry names (zoofind pull --dest DIR links the files where it looks)")),
        )
