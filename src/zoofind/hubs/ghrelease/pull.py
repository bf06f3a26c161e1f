"""A GitHub release's assets where their library reads them, else into zoofind's store (``layout``), and
their locks.

A pull reads the release (one request, answer-cached), plans each asset (``.../<tag>/<asset>``:
that one; ``--include``/``--exclude`` globs over the names) and hands the engine one ``Download``
each: the asset's API address with ``Accept: application/octet-stream`` (and the token) for the
API host only, which redirects to the storage host that serves the bytes with ``Range``. Each is
checked against its size and GitHub's sha256 digest where the asset has one. Files appear only
verified (the engine renames them into place, in the library's folder as in the store); the
release is complete only once ``place`` has written its manifest, last. A file the library put in
its folder itself is kept when it hashes to GitHub's digest (without one it cannot be checked, and
is fetched again over it). The tag is part of the id; the lock pins the release's id as its commit.
Offline: what the manifest lists, where it is placed now.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import catalog as catalog_mod
from ...caches import OWN, safe_relpath
from ...caches.manifest import ManifestStore
from ...core.errors import NotFoundError, OfflineError, UsageError
from ...models.files import FileEntry
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from ..pulling import choose, differs, file_label, locked_missing, offline_hint, placed_sha256, sha256_of, skipped_note
from . import SPEC, ReleaseRef, layout, loaders, read_ref, release
from .source import release_json

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.lock import LockedModel
    from ...models.transfer import Download, Fetched

_SHA = re.compile(r"[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}")
NO_DIGEST = ("{n} of its assets carry no sha256 digest from GitHub (uploaded before June 2025): checked by size "
             "only; a lock pins the sha256 computed as they arrived")


@dataclass(frozen=True)
class ReleasePlan(ModelPlan):
    #: What zoofind keeps of the release's JSON (stored with the assets: offline info and cite read it).
    release: Mapping[str, Any] | None = None
    #: Assets GitHub gave a digest for (the manifest says which sha256 is GitHub's own).
    digests: frozenset[str] = field(default_factory=frozenset)
    #: The md5 the catalog records for an asset (kept in the manifest for `cache verify`).
    md5s: Mapping[str, str] = field(default_factory=dict)


def _download(ctx: Context, url: str, target: Path, s: ManifestStore, folder: Path, name: str, size: int,
              sha256: str | None, md5: str | None = None) -> Download:
    from ...models.transfer import (
        Download,  # lazy: pull --offline start-up (the engine only when fetching)
        Expected,  # lazy: pull --offline start-up (hashing code)
    )
    from ...net.github import asset_headers  # lazy: pull --offline start-up (the HTTP stack)

    return Download(url, target, s.lock_path(folder, name), Expected(size, sha256, md5=md5),
                    file_label(folder.name, name, named=True), auth=asset_headers(ctx),
                    denied_hint="a private repository's assets need GITHUB_TOKEN")


def _path(s: ManifestStore, folder: Path, r: ReleaseRef, ctx: Context) -> Path:
    """What the user loads: the one asset the id names (where its library reads it), else the release's folder."""
    return layout.target(s, folder, r, r.asset, ctx.environ)[0] if r.asset else folder


def _where(s: ManifestStore, folder: Path, r: ReleaseRef, name: str, ctx: Context, notes: list[str]) -> Path:
    """Where asset ``name`` goes, noting which library reads it there (or why it stays in the store)."""
    target, row = layout.target(s, folder, r, name, ctx.environ)
    if row is not None:
        notes.append(row.note(name, target))
    elif (known := loaders.row(r, name)) is not None:
        notes.append(f"{known.variable} is not an absolute path, so no folder is where {known.library} reads "
                     f"{name}: kept in zoofind's store")
    return target


def _flags(r: ReleaseRef, names: list[str]) -> tuple[str, ...]:
    """What to know before loading: the assets a library's table says it loads as pickles."""
    rows = ((n, loaders.row(r, n)) for n in names)
    return tuple(f for n, row in rows if row is not None and (f := row.flag(n)) is not None)


def _fetched(files: list[PlannedFile]) -> list[str]:
    return [f.path for f in files if f.skip is None]


def _fetch_to(s: ManifestStore, folder: Path, name: str, target: Path) -> Path:
    """Where the engine puts the verified bytes: the target itself, unless another file holds its place in a
    library's folder (the engine would take a file of the right size there for one it placed): then beside
    it under a name the library never reads, renamed over it by ``place``."""
    return layout.staged(target) if layout.outside(s, folder, name, target) and target.exists() else target


def _adopted(target: Path, size: int, sha256: str | None, marked: bool) -> bool:
    """Whether a file the manifest does not list, at an asset's place in a library's folder, is the asset
    (its library fetched it itself): only a file of GitHub's size that hashes to its digest is."""
    if marked or sha256 is None or not target.is_file() or target.stat().st_size != size:
        return False
    from ...fetch.integrity import hash_file  # lazy: pull --offline start-up (hashing code)
    from ...models.transfer import Expected  # lazy: pull --offline start-up (hashing code)

    return hash_file(target, Expected(size, sha256)).sha256.hexdigest() == sha256


def recorded(ctx: Context, pid: ParsedId) -> tuple[str | None, str | None]:
    """(sha256, md5) the catalog's entry for this one asset records (``extra``), read where the
    owners' own code checks the download (StarDist's registry keeps an md5 for each model)."""
    rec = catalog_mod.load(ctx).get(str(pid)) if read_ref(pid.ref).asset else None
    extra = rec.extra if rec is not None else {}
    sha, md5 = extra.get("sha256"), extra.get("md5")
    return (sha.lower() if isinstance(sha, str) and _SHA.fullmatch(sha.lower()) else None,
            md5.lower() if isinstance(md5, str) and _MD5.fullmatch(md5.lower()) else None)


def plan_release(pid: ParsedId, r: ReleaseRef, data: Mapping[str, Any], ctx: Context, opts: PullOptions) -> ReleasePlan:
    api = ctx.endpoint(SPEC)
    known_sha, known_md5 = recorded(ctx, pid)
    rid = release.release_id(data, r)
    listed = {a.name: a for a in release.assets(data, r, api)}
    if r.asset is not None and r.asset not in listed:
        names = ", ".join(list(listed)[:10]) or "none"
        raise NotFoundError(f"release {r.tag!r} of {r.owner}/{r.repo} has no asset {r.asset!r}",
                            hint=f"its assets: {names}")
    if not listed:
        raise NotFoundError(f"release {r.tag!r} of {r.owner}/{r.repo} has no assets to download",
                            hint=f"see https://github.com/{r.owner}/{r.repo}/releases/tag/{r.tag}")
    s = layout.store(ctx.environ)
    folder = layout.folder(s, r)
    entries = [FileEntry(a.name, a.url, a.size, a.sha256) for a in listed.values()]
    chosen = [(e, None) for e in entries if e.path == r.asset] if r.asset else choose(entries, opts)
    manifest = s.read(folder) or {}
    known = manifest.get("files", {}) if manifest.get("release_id") == rid else {}
    files, undigested, checked_by_catalog = [], 0, 0
    placing: list[str] = []
    for entry, skip in chosen:
        a = listed[entry.path]
        if skip is not None:
            files.append(PlannedFile(entry, skip, s.where(folder, a.name)))
            continue
        target = _where(s, folder, r, a.name, ctx, placing)
        sha256 = a.sha256 or (known_sha if a.name == r.asset else None)
        md5 = known_md5 if a.name == r.asset else None
        if a.sha256 and known_sha and a.sha256 != known_sha:
            from ...fetch.integrity import IntegrityError  # lazy: pull --offline start-up (hashing code)

            raise IntegrityError(f"{pid}: GitHub's sha256 digest of {a.name} is not the one the catalog records",
                                 hint="the owners replaced the asset; check the release before trusting it")
        undigested += sha256 is None and md5 is None
        checked_by_catalog += a.sha256 is None and (sha256 or md5) is not None
        mark = known.get(a.name) or {}
        marked = bool(mark) and s.path_of(folder, a.name, mark) == target
        if ((marked and target.is_file() and mark.get("size") == a.size == target.stat().st_size
                and (sha256 is None or mark.get("sha256") == sha256))
                or (layout.outside(s, folder, a.name, target) and _adopted(target, a.size, sha256, marked))):
            files.append(PlannedFile(entry, None, target, present=True))
        else:
            files.append(PlannedFile(entry, None, target, download=_download(
                ctx, a.url, _fetch_to(s, folder, a.name, target), s, folder, a.name, a.size, sha256, md5)))
    notes = list(skipped_note(str(pid), chosen)) + placing
    if undigested:
        notes.append(NO_DIGEST.format(n=undigested))
    if checked_by_catalog:
        notes.append(f"GitHub gives {r.asset} no digest: checked against the checksum the catalog records (from the "
                     "owners' own code)")
    return ReleasePlan(str(pid), SPEC.name, revision=r.tag, commit=rid, path=_path(s, folder, r, ctx),
                       files=tuple(files), notes=tuple(notes), release=data, flags=_flags(r, _fetched(files)),
                       digests=frozenset(a.name for a in listed.values() if a.sha256),
                       md5s={r.asset: known_md5} if r.asset and known_md5 else {})


def _offline(pid: ParsedId, r: ReleaseRef, ctx: Context, asked: str) -> ReleasePlan:
    s = layout.store(ctx.environ)
    folder = layout.folder(s, r)
    manifest = s.read(folder)
    known = manifest["files"] if manifest else {}
    if not known:
        raise OfflineError(f"{r.release_id} is not in zoofind's store {s.base}", hint=offline_hint(asked))
    if r.asset is not None and r.asset not in known:
        raise OfflineError(f"{pid}: {r.asset} was not pulled with the release", hint=offline_hint(asked))
    files: list[PlannedFile] = []
    notes: list[str] = []
    for name, mark in sorted(known.items()):
        if r.asset not in (None, name):
            continue
        target = _where(s, folder, r, name, ctx, notes)
        if s.path_of(folder, name, mark) != target or not target.is_file() or target.stat().st_size != mark["size"]:
            raise OfflineError(f"{pid}: {name} is missing from {target.parent}", hint=offline_hint(asked))
        files.append(PlannedFile(FileEntry(name, "", mark["size"], mark["sha256"]), None, target, present=True))
    assert manifest is not None
    return ReleasePlan(str(pid), SPEC.name, revision=r.tag, commit=str(manifest.get("release_id") or "") or None,
                       path=_path(s, folder, r, ctx), files=tuple(files), notes=tuple(notes),
                       flags=_flags(r, _fetched(files)))


def place_files(plan: ModelPlan, s: ManifestStore, folder: Path, fetched: Mapping[str, Fetched]) -> None:
    """The manifest (every asset's size and sha256, and whether GitHub gave that sha256), written last."""
    old = s.marked(folder)
    digests = plan.digests if isinstance(plan, ReleasePlan) else frozenset()
    placed: dict[str, dict[str, Any]] = {}
    for f in plan.files:
        if f.skip is None and f.target is not None:
            known = old.get(f.path, {})
            placed[f.path] = {"size": f.target.stat().st_size,
                              "sha256": placed_sha256(f, fetched.get(f.path), known.get("sha256")),
                              "digest": f.path in digests or bool(known.get("digest"))}
            if layout.outside(s, folder, f.path, f.target):
                placed[f.path][layout.AT] = str(f.target)  # in the folder of the library that reads it
            md5 = (plan.md5s if isinstance(plan, ReleasePlan) else {}).get(f.path) or known.get("md5")
            if md5:
                placed[f.path]["md5"] = md5
    data = plan.release if isinstance(plan, ReleasePlan) else None
    s.write(folder, placed, {"id": parse_release(plan.id).release_id, "release_id": plan.commit,
                             **({"release": dict(data)} if data else {})})


def parse_release(rid: str) -> ReleaseRef:
    return read_ref(rid.split(":", 1)[1])


class ReleasePull:
    describes_uncurated = True

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        r = read_ref(pid.ref)
        if revision is not None and revision != r.tag:
            raise UsageError(f"{pid}@{revision}: a release's tag is part of its id",
                             hint=f"name the release as {SPEC.name}:{r.owner}/{r.repo}/<tag>[/<asset>]")
        if ctx.offline:
            return _offline(pid, r, ctx, asked)
        return plan_release(pid, r, release_json(r, ctx), ctx, opts)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        for f in plan.files:
            if f.download is not None and f.target is not None and f.download.target != f.target:
                os.replace(f.download.target, f.target)  # verified bytes over the file that held the place
        s = layout.store(ctx.environ)
        place_files(plan, s, layout.folder(s, parse_release(plan.id)), fetched)
        return plan.targets()


def _placed(path: Path, r: ReleaseRef) -> Callable[[str], Path]:
    """Where a pull's result has each asset: the one asset an id names is its path (in a library's folder
    or the store); a release's are where its manifest says."""
    if r.asset:
        return lambda name: path
    s = layout.at(path.parents[2])
    marks = s.marked(path)
    return lambda name: s.path_of(path, name, marks.get(name, {}))


class ReleaseLock:
    def pin(self, result: PullResult) -> LockedModel:
        from ...models.lock import LockedFile, LockedModel  # lazy: pull --offline start-up (lock records)

        assert result.path is not None
        r = parse_release(result.id)
        where = _placed(Path(result.path), r)
        files = tuple(LockedFile(f.path, where(f.path).stat().st_size, sha256_of(where(f.path), f.sha256, f.status))
                      for f in result.files if f.status != "skipped")
        return LockedModel(result.id, r.tag, result.commit, files, None, result.framework)

    def problem(self, locked: LockedModel) -> str | None:
        if not (locked.commit or "").isdigit():
            return f"{locked.id}: a GitHub release's lock entry needs the release's id (`commit`)"
        for f in locked.files:
            try:
                safe_relpath(f.path, what=locked.id)
            except Exception as exc:  # noqa: BLE001 - the refusal's words are the problem
                return str(exc)
            if "/" in f.path or f.path.startswith(OWN):
                return f"{locked.id}: {f.path!r} is no release asset's name"
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        """Cached assets hashed against the lock now; missing ones fetched against the lock's size and
        sha256 (one request for the release, for their addresses)."""
        r = parse_release(locked.id)
        s = layout.store(ctx.environ)
        folder = layout.folder(s, r)
        planned, data = [], None
        for f in locked.files:
            target = layout.target(s, folder, r, f.path, ctx.environ)[0]
            away = layout.outside(s, folder, f.path, target)
            if (target.is_file() and not away) or _adopted(target, f.size, f.sha256, False):
                if not away:
                    differs(locked, f, target)
                planned.append(PlannedFile(FileEntry(f.path, "", f.size, f.sha256), None, target, present=True))
                continue
            locked_missing(locked, ctx, str(target.parent) if away else f"zoofind's store {s.base}")
            data = data or release_json(r, ctx)
            urls = {a.name: a.url for a in release.assets(data, r, ctx.endpoint(SPEC))}
            if f.path not in urls:
                raise NotFoundError(f"{locked.id}: release {r.tag!r} of {r.owner}/{r.repo} no longer has {f.path}",
                                    hint="the owners removed it; `zoofind export` carries a locked copy over")
            entry = FileEntry(f.path, urls[f.path], f.size, f.sha256)
            planned.append(PlannedFile(entry, None, target, download=_download(
                ctx, entry.url, _fetch_to(s, folder, f.path, target), s, folder, f.path, f.size, f.sha256)))
        return ReleasePlan(locked.id, SPEC.name, revision=r.tag, commit=locked.commit,
                           path=_path(s, folder, r, ctx), files=tuple(planned), pinned=True, release=data,
                           flags=_flags(r, _fetched(planned)))

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        return None  # every file was checked against the lock one by one by the engine
