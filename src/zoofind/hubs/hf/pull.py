"""Hugging Face models into huggingface_hub's own cache (blobs, snapshots, refs), and their locks.

A pull names the exact commit a revision resolves to; each file goes to ``blobs/<etag>`` and is
linked into ``snapshots/<commit>/``; the tree listing and the ref are written last, so a
revision never resolves to a snapshot still being filled. The Hub's security scan is asked for
when pickle weights are chosen (advice, never a gate). A lock pins the commit and each file's
blob name; pulling it asks for no metadata: the URLs name the locked commit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import quote

from ...caches import safe_relpath, shared
from ...core.errors import NotFoundError, OfflineError, ZoofindError
from ...core.paths import inside_home
from ...models.files import FileEntry
from ...models.lock import LockedFile, LockedModel
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from ...models.transfer import Expected
from .. import registry
from ..ids import parse_id
from ..pulling import choose, differs, file_label, is_pickle, locked_missing, offline_hint, sha256_of, skipped_note
from . import SPEC, is_dataset, noun
from .auth import find_token
from .from_shared import link_snapshot
from .repo_cache import COMMIT_RE, RepoCache, hub_cache, lock_name

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.transfer import Fetched
    from .source import HfSource


@dataclass(frozen=True)
class HfPlan(ModelPlan):
    #: the hub cache the repo's folder is in (placing links and records there)
    cache: Path = Path()


def _planned(repo: RepoCache, commit: str, chosen: Sequence[tuple[FileEntry, str | None]], ctx: Context, *,
             page: str | None, locked: LockedModel | None = None, dry_run: bool = False) -> tuple[PlannedFile, ...]:
    """Each chosen file as a blob of ``repo`` at ``commit``: present, or downloaded with the
    token (to the Hub only). ``locked``: a cached file is hashed against the lock, and offline
    a missing one fails the model. ``dry_run``: nothing is downloaded, so a file to fetch has
    neither a download nor a target.
    The one download planning of a normal and a locked pull."""
    auth: dict[str, str] | None = None
    denied = f"request access at {page}, then set HF_TOKEN (or run `hf auth login`)" if page else None
    pins = {f.path: f for f in locked.files} if locked else {}
    snapshot = repo.snapshot(commit)
    # One look at the snapshot folder: without one (a first pull) no file of it is in place, and a
    # large repo's files are not looked for one by one. The paths shared by every file, made once.
    look = snapshot.is_dir()
    blobs, locks, folders = repo.blobs, repo.locks, (snapshot.parent,)
    out = []
    for f, skip in chosen:
        if skip:
            out.append(PlannedFile(f, skip, blob=f.etag))
            continue
        if not f.etag:
            raise ZoofindError(f"hf:{repo.repo}: the Hub gave no id for {f.path}", hint="retry later")
        if look and repo.present(commit, f.path, f.size):
            if locked is not None:
                differs(locked, pins[f.path], snapshot / f.path)
            out.append(PlannedFile(f, None, blobs / f.etag, present=True, blob=f.etag))
            continue
        if locked is not None:
            locked_missing(locked, ctx, f"the Hugging Face cache at {repo.cache} ({f.path} of commit {commit[:12]})")
        if dry_run:  # what would be fetched, not where: no path made for each of a large repo's files
            out.append(PlannedFile(f, None, blob=f.etag))
            continue
        target = blobs / f.etag
        if auth is None:
            # The fetch engine and the Hub's HTTP stack: loaded only when something is to be fetched
            # lazy: pull --offline start-up (the HTTP stack; an offline pull's start-up is a measured figure)
            from ...models.transfer import Download
            from . import api

            auth = api.headers(find_token(ctx.environ)[0])
        download = Download(f.url, target, locks / lock_name(f.etag), Expected(f.size, f.sha256, f.git_sha1),
                            file_label(repo.repo, f.path, named=True), auth, denied_hint=denied, folders=folders)
        out.append(PlannedFile(f, None, target, download=download, blob=f.etag))
    return tuple(out)


def _source() -> HfSource:
    """This hub's Source, which also lists a revision's files (``fileset``, not in the Source protocol)."""
    return cast("HfSource", registry.get(SPEC.name))


class HfPull:
    describes_uncurated = True

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        if ctx.offline:
            return self._offline(pid, ctx, opts, revision, asked)
        fs, record = _source().listing(pid, ctx, revision=revision)  # the search ability's listing
        if not fs.files:
            raise NotFoundError(f"{fs.id} has no files to download", hint=f"see {fs.page}" if fs.page else None)
        # A dataset's files are all data: no copy of weights in another format to leave out.
        chosen = choose(fs.files, replace(opts, all_files=True) if is_dataset(pid.ref) else opts)
        for f, _ in chosen:
            safe_relpath(f.path, what=fs.id)
        assert fs.commit is not None
        ref = parse_id(fs.id).ref
        cache = inside_home(hub_cache(ctx.environ), ctx.environ)
        repo = RepoCache(cache, ref)
        path = repo.snapshot(fs.commit)
        if not opts.dry_run:
            # huggingface_hub makes the snapshot folder before any download: a repo folder
            # without one (a pull stopped early) makes scan_cache_dir() warn.
            path.mkdir(parents=True, exist_ok=True)
        files = _planned(repo, fs.commit, chosen, ctx, page=fs.page, dry_run=opts.dry_run)
        notes: tuple[str, ...] = ()
        if any(is_pickle(f.path) for f in files if not f.skip):
            try:  # advice, not a gate: a failed scan lookup never fails the pull
                scans = security_scan(ref, ctx, fs.commit)
                files = tuple(_with_scan(f, scans.get(f.path)) for f in files)
            except Exception:  # noqa: BLE001 - any failure of the scan is only a note
                notes = (f"{fs.id}: the Hub's security scan could not be read",)
        return HfPlan(fs.id, SPEC.name, fs.revision, fs.commit, path, files, notes + skipped_note(fs.id, chosen),
                      described=record, cache=cache)

    def _offline(self, pid: ParsedId, ctx: Context, opts: PullOptions, revision: str | None,
                 asked: str) -> ModelPlan:
        """From the caches alone: the user's, then the shared tier's snapshot, checked and linked."""
        cache = hub_cache(ctx.environ)
        repo = RepoCache(cache, pid.ref)
        commit = repo.commit_of(revision or "main")
        notes: tuple[str, ...] = ()
        linked_files: frozenset[str] = frozenset()
        if commit is None and (linked := link_snapshot(repo, revision or "main", ctx.environ)) is not None:
            commit, linked_files, notes = linked.commit, frozenset(linked.files), tuple(linked.notes)
        if commit is None:
            raise OfflineError(f"{pid} ({revision or 'main'}) is not in the Hugging Face cache at {repo.cache}"
                               + (" nor in the shared tier" if shared.roots(ctx.environ) else ""),
                               hint=offline_hint(asked))
        path = repo.snapshot(commit)
        entries = []
        for p in sorted(path.rglob("*")):
            if p.is_file():
                # The first hop (../../blobs/<etag>): a blob may itself link into the shared tier or
                # huggingface_hub's store.
                blob = Path(os.path.normpath(p.parent / os.readlink(p))) if p.is_symlink() else p
                etag = blob.name if blob.parent == repo.root / "blobs" else None
                entries.append(FileEntry(p.relative_to(path).as_posix(), "", size=p.stat().st_size, etag=etag))
        files = tuple(PlannedFile(f, skip, None if skip else path / f.path, present=not skip,
                                  shared=f.path in linked_files, blob=f.etag) for f, skip in choose(entries, opts))
        return HfPlan(str(pid), SPEC.name, revision, commit, path, files, notes, cache=cache)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        assert isinstance(plan, HfPlan) and plan.commit is not None
        repo = RepoCache(plan.cache, parse_id(plan.id).ref)
        repo.link_all(plan.commit, [(f.path, f.entry.etag) for f in plan.files if not f.skip and f.entry.etag])
        repo.record(plan.commit, [f.entry for f in plan.files if not f.skip])  # trees/<commit>.json, CACHEDIR.TAG
        # The ref last: a revision never resolves to a snapshot still being filled; a lock never
        # moves a user's `main` back.
        if plan.revision and not (plan.pinned and repo.commit_of(plan.revision)):
            repo.write_ref(plan.revision, plan.commit)
        return plan.targets()


def security_scan(ref: str, ctx: Context, commit: str) -> dict[str, str]:
    """The Hub's security scan of each file at ``commit`` (safe, unsafe, suspicious, ...), from
    the tree listing with ``expand=true`` (pages of 50); empty where the Hub reports none."""
    # lazy: the HTTP stack not loaded by an offline pull, lock or bundle, which ask nothing
    from ...net.http import Session
    from . import api

    hub = ctx.endpoint(SPEC)
    token, _ = find_token(ctx.environ)
    out: dict[str, str] = {}
    url: str | None = f"{hub}{api.api_path(ref)}/tree/{commit}"
    params: dict[str, str] | None = {"recursive": "true", "expand": "true"}
    with Session(ctx, api.SERVICE) as s:
        for _ in range(100):  # 5,000 files at most: a scan is advice, not worth an endless walk
            if url is None:
                break
            answer = api.check(s.request("GET", url, params=params, headers=api.headers(token)), hub=hub, repo=ref,
                               token=token)
            page = answer.json()
            for entry in page if isinstance(page, list) else ():
                scan = entry.get("securityFileStatus") if isinstance(entry, dict) else None
                if (isinstance(scan, dict) and isinstance(scan.get("status"), str)
                        and isinstance(entry.get("path"), str)):
                    out[entry["path"]] = scan["status"]
            url, params = api.next_page(answer, hub), None
    return out


def _with_scan(f: PlannedFile, scan: str | None) -> PlannedFile:
    return replace(f, scan=scan) if scan else f


class HfLock:
    def pin(self, result: PullResult) -> LockedModel:
        assert result.path is not None
        root = Path(result.path)
        files = tuple(
            LockedFile(f.path, (root / f.path).stat().st_size, sha256_of(root / f.path, f.sha256, f.status),
                       f.blob or Path(os.path.realpath(root / f.path)).name)  # the blob the snapshot links to
            for f in result.files if f.status != "skipped"
        )
        ref = parse_id(result.id).ref
        return LockedModel(result.id, result.revision, result.commit, files, None, result.framework,
                           "dataset" if is_dataset(ref) else "model")

    def problem(self, locked: LockedModel) -> str | None:
        what = noun(parse_id(locked.id).ref)
        if locked.commit is None or not COMMIT_RE.fullmatch(locked.commit):
            return f"{locked.id}: a Hugging Face {what} needs `commit`, a 40-hex-digit commit sha"
        if locked.kind != what:
            return f"{locked.id}: a Hugging Face {what}'s entry has `kind = \"{locked.kind}\"`"
        missing = next((f.path for f in locked.files if f.blob is None), None)
        return f"{locked.id}: {missing}: a Hugging Face file needs `blob`" if missing else None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        assert locked.commit is not None
        ref = parse_id(locked.id).ref
        cache = inside_home(hub_cache(ctx.environ), ctx.environ)
        repo = RepoCache(cache, ref)
        hub = ctx.endpoint(SPEC)
        entries = [(FileEntry(f.path, f"{hub}/{ref}/resolve/{locked.commit}/{quote(f.path)}", f.size, f.sha256, f.blob),
                    None) for f in locked.files]
        files = _planned(repo, locked.commit, entries, ctx, page=f"{hub}/{ref}", locked=locked, dry_run=opts.dry_run)
        path = repo.snapshot(locked.commit)
        if any(f.download for f in files) and not opts.dry_run:
            path.mkdir(parents=True, exist_ok=True)  # as huggingface_hub does before any download
        return HfPlan(locked.id, SPEC.name, locked.revision, locked.commit, path, files, pinned=True, cache=cache)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        return None  # every file was checked against the lock by the engine or before
