"""bioimage.io models into their package folder and bioimageio.spec's cache (``layout``), and their locks.

A pull reads the model's artifact (its latest version, or the one asked for with ``@v1``),
fetches its ``rdf.yaml`` and every file it names, each checked against the description's
sha256 (a file it gives none for, documentation and covers, is pinned by size and sha256 in
a lock). ``--include FORMAT`` (``torchscript``, ``onnx``...) keeps that weights format (with its
architecture and dependencies files) and drops the others; other ``--include``/``--exclude``
values are globs over the files' paths. A URL named without a sha256 is not fetched: nothing
could check it, and bioimageio.spec fetches such a file itself every time anyway.

Files appear only verified (the fetch engine renames them into place), and the folder is a
model only once ``place`` has written its manifest, last.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.atomic import write_json
from ...core.errors import BadAnswerError, NotFoundError, OfflineError
from ...fetch.integrity import IntegrityError
from ...fetch.locks import lock_for
from ...models.files import FileEntry
from ...models.lock import LockedFile, LockedModel
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from ...models.transfer import Expected
from .. import registry
from ..ids import parse_id
from ..pulling import (
    choose,
    differs,
    file_label,
    locked_missing,
    not_locked,
    offline_hint,
    placed_sha256,
    sha256_of,
)
from . import SPEC, layout, rdf

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.transfer import Download, Fetched

NO_SHA_SKIP = "a URL the description names without a sha256: not fetched (nothing could check it)"


@dataclass(frozen=True)
class BioimageioPlan(ModelPlan):
    #: Each fetched file named by URL -> that URL (the manifest keeps it, for a lock's later pull).
    urls: Mapping[str, str] = field(default_factory=dict)


def _version(alias: str, artifact: Mapping[str, Any], asked: str | None) -> str:
    listed = [v.get("version") for v in artifact.get("versions") or [] if isinstance(v, dict)]
    names: list[str] = [n for n in listed if isinstance(n, str) and n]
    if not names:
        raise BadAnswerError(f"bioimage.io answered model {alias!r} without any committed version")
    if asked is None:
        return names[-1]
    if asked not in names:
        raise NotFoundError(f"bioimageio:{alias} has no version {asked!r}", hint=f"its versions: {', '.join(names)}")
    return asked


def _download(url: str, target: Path, folder: Path, path: str, expected: Expected, alias: str) -> Download:
    from ...models.transfer import Download  # lazy: only when fetching: off pull --offline start-up

    # A file named by URL is known by the URL's last part (its path is an entry name), kept unique.
    name = f"{url.rsplit('/', 1)[-1].split('?')[0]} ({path[11:19]})" if layout.is_entry(path) else path
    return Download(url, target, layout.lock_path(folder, path), expected, file_label(alias, name, named=True))


def _formats_chosen(opts: PullOptions, refs: list[rdf.FileRef]) -> tuple[set[str] | None, PullOptions]:
    """The weights formats ``--include`` names (None: all), and the options left for path globs."""
    known = {r.format for r in refs if r.format}
    named = {g for g in opts.include if g in known or g in rdf.FORMATS}
    if not named:
        return None, opts
    return named, replace(opts, include=tuple(g for g in opts.include if g not in named))


def _fresh(folder: Path) -> dict[str, Any]:
    marker = layout.read_marker(folder)
    return marker["files"] if marker else {}


def plan_files(alias: str, version: str, body: bytes, folder: Path, ctx: Context, opts: PullOptions) -> BioimageioPlan:
    """The plan of one version from its description's bytes (already fetched or on disk)."""
    from . import api  # lazy: the HTTP stack: off pull --offline start-up

    what = f"bioimageio:{alias}@{version}"
    endpoint = ctx.endpoint(SPEC)
    refs = rdf.references(rdf.load(body, what), what)
    formats, globs = _formats_chosen(opts, refs)
    known = _fresh(folder)
    sha = hashlib.sha256(body).hexdigest()
    rdf_entry = FileEntry(layout.RDF, api.file_url(endpoint, alias, layout.RDF, version), len(body), sha)
    entries = [FileEntry(r.path, r.url or api.file_url(endpoint, alias, r.path, version), None, r.sha256)
               for r in refs]
    by_path = {r.path: r for r in refs}
    chosen = choose(entries, globs)
    files = [_planned(rdf_entry, None, folder, known, alias)]
    urls = {}
    for entry, skip in chosen:
        ref = by_path[entry.path]
        if skip is None and formats is not None and ref.format is not None and ref.format not in formats:
            skip = f"weights format {ref.format} not asked for (--include {', '.join(sorted(formats))})"
        if skip is None and ref.url is not None and ref.sha256 is None:
            skip = NO_SHA_SKIP
        if ref.url is not None and skip is None:
            urls[entry.path] = ref.url
        files.append(_planned(entry, skip, folder, known, alias))
    notes: tuple[str, ...] = ()
    if formats is not None or any(f.skip for f in files):
        notes = (f"{what}: some files the description names are not here; bioimageio.spec's load_description "
                 "checks every file unless given perform_io_checks=False",)
    return BioimageioPlan(what.split("@")[0], SPEC.name, revision=version, commit=version, path=folder,
                          files=tuple(files), notes=notes, urls=urls)


def _planned(entry: FileEntry, skip: str | None, folder: Path, known: Mapping[str, Any], alias: str) -> PlannedFile:
    target = layout.where(folder, entry.path)
    if skip is not None:
        return PlannedFile(entry, skip, target)
    if layout.is_entry(entry.path):
        present = target.is_file()  # the entry's name carries its sha256, as the Hub's blob names do
    else:
        mark = known.get(entry.path)
        present = (target.is_file() and mark is not None and mark["size"] == target.stat().st_size
                   and (entry.sha256 is None or mark["sha256"] == entry.sha256))
    if present:
        return PlannedFile(entry, None, target, present=True)
    expected = Expected(entry.size, entry.sha256)
    return PlannedFile(entry, None, target, download=_download(entry.url, target, folder, entry.path, expected, alias))


def _offline(pid: ParsedId, base: Path, version: str | None, asked: str) -> BioimageioPlan:
    folders = [layout.package_dir(base, pid.ref, version)] if version else layout.versions(base, pid.ref)
    folder = next((f for f in folders if layout.complete(f)), None)
    if folder is None:
        raise OfflineError(f"{pid}{'@' + version if version else ''} is not in the bioimage.io packages of {base}",
                           hint=offline_hint(asked))
    files = []
    for path, mark in sorted(_fresh(folder).items()):
        target = layout.where(folder, path)
        if not target.is_file():
            raise OfflineError(f"{pid}: {path} is missing from {target.parent}", hint=offline_hint(asked))
        files.append(PlannedFile(FileEntry(path, mark.get("url") or "", mark["size"], mark["sha256"]), None, target,
                                 present=True))
    return BioimageioPlan(str(pid), SPEC.name, revision=folder.name, commit=folder.name, path=folder,
                          files=tuple(files))


def description(alias: str, version: str, folder: Path, ctx: Context) -> bytes:
    """The version's rdf.yaml: the placed one, else fetched."""
    placed = folder / layout.RDF
    if layout.complete(folder) and placed.is_file():
        return placed.read_bytes()
    from . import api  # lazy: the HTTP stack: off pull --offline start-up

    with api.session(ctx) as s:
        return api.get_file(s, ctx.endpoint(SPEC), alias, layout.RDF, version, max_bytes=rdf.MAX_BYTES + 1)


class BioimageioPull:
    describes_uncurated = True

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        base = layout.root(ctx.environ)
        if ctx.offline:
            return _offline(pid, base, revision, asked)
        version = _version(pid.ref, registry.ability(SPEC.name, "search").artifact(pid.ref, ctx), revision)
        folder = layout.package_dir(base, pid.ref, version)
        return plan_files(pid.ref, version, description(pid.ref, version, folder, ctx), folder, ctx, opts)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        """Write the manifest (every file's size and sha256), last: from then on the folder is a model."""
        assert plan.path is not None
        urls = plan.urls if isinstance(plan, BioimageioPlan) else {}
        lock = lock_for(layout.place_lock(plan.path))
        lock.acquire()  # another process placing the same version: one manifest at a time
        try:
            files = {k: v for k, v in _fresh(plan.path).items() if layout.where(plan.path, k).is_file()}
            for f in plan.files:
                if f.skip is not None or f.target is None:
                    continue
                known = files.get(f.path, {})
                mark = {"size": f.target.stat().st_size, "sha256": placed_sha256(f, fetched.get(f.path),
                                                                                 known.get("sha256"))}
                if f.path in urls or known.get("url"):
                    mark["url"] = urls.get(f.path) or known["url"]
                files[f.path] = mark
            write_json(plan.path / layout.MARKER, {"id": plan.id, "version": plan.path.name, "files": files})
        finally:
            lock.release()
        return plan.targets()


class BioimageioLock:
    def pin(self, result: PullResult) -> LockedModel:
        assert result.path is not None
        folder = Path(result.path)
        files = tuple(LockedFile(f.path, layout.where(folder, f.path).stat().st_size,
                                 sha256_of(layout.where(folder, f.path), f.sha256, f.status))
                      for f in result.files if f.status != "skipped")
        return LockedModel(result.id, folder.name, folder.name, files, None, result.framework)

    def problem(self, locked: LockedModel) -> str | None:
        if not locked.commit:
            return f"{locked.id}: a bioimage.io model's lock entry needs its version (`commit`)"
        if not any(f.path == layout.RDF for f in locked.files):
            return f"{locked.id}: a bioimage.io model's lock entry needs its {layout.RDF}"
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        """Cached files hashed against the lock now; missing ones fetched against it, from the model's
        files or, for a file named by URL, from the URL the locked rdf.yaml gives."""
        from . import api  # lazy: the HTTP stack: off pull --offline start-up

        pid = parse_id(locked.id)
        version = locked.commit or ""
        base = layout.root(ctx.environ)
        folder = layout.package_dir(base, pid.ref, version)
        planned, urls = [], {}
        refs: dict[str, rdf.FileRef] | None = None
        for f in locked.files:
            target = layout.where(folder, f.path)
            entry = FileEntry(f.path, "", f.size, f.sha256)
            if target.is_file():
                differs(locked, f, target)
                planned.append(PlannedFile(entry, None, target, present=True))
                continue
            locked_missing(locked, ctx, f"the bioimage.io packages of {base}")
            url = api.file_url(ctx.endpoint(SPEC), pid.ref, f.path, version)
            if layout.is_entry(f.path):
                refs = refs if refs is not None else self._locked_refs(locked, folder, ctx)
                if f.path not in refs or refs[f.path].url is None:
                    raise not_locked(locked, f"the locked {layout.RDF} names no URL for {f.path}")
                url = urls[f.path] = refs[f.path].url or ""
            planned.append(PlannedFile(replace(entry, url=url), None, target, download=_download(
                url, target, folder, f.path, Expected(f.size, f.sha256), pid.ref)))
        return BioimageioPlan(locked.id, SPEC.name, revision=version, commit=version, path=folder,
                              files=tuple(planned), pinned=True, urls=urls)

    def _locked_refs(self, locked: LockedModel, folder: Path, ctx: Context) -> dict[str, rdf.FileRef]:
        """The files the locked rdf.yaml names (its bytes checked against the lock before they are read)."""
        pid = parse_id(locked.id)
        body = description(pid.ref, locked.commit or "", folder, ctx)
        mine = next(f for f in locked.files if f.path == layout.RDF)
        if len(body) != mine.size or hashlib.sha256(body).hexdigest() != mine.sha256:
            raise IntegrityError(f"{locked.id}: bioimage.io's {layout.RDF} of version {locked.commit} is not the "
                                 "locked one", hint="the model was changed on the server; lock it again to take it")
        return {r.path: r for r in rdf.references(rdf.load(body, locked.id), locked.id)}

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        return None  # every file was checked against the lock one by one by the engine
