"""`zoofind pull kaggle:...`: Kaggle models into kagglehub's own cache, so kagglehub finds them offline.

The protocol is kagglehub 1.0's (``http_resolver.ModelHttpResolver``, over kagglesdk's RPCs;
``hubs.kaggle.api`` speaks it):

1. A handle without a version means the latest: ``GetModelInstance`` says which.
2. A version already complete in kagglehub's cache (folder + ``.complete`` marker) is
   answered from the disk with no request and no credentials, as kagglehub does.
3. ``ListModelInstanceVersionFiles`` (25 a page): when that is all, each file is asked
   for with ``DownloadModelInstanceVersion`` and its ``path``; when Kaggle has more, the
   version is asked for whole, as one archive.
4. Each download call answers a redirect to a signed storage URL; its ``Location`` goes to
   the fetch engine (ranges, resume, locks, retries, the size check), without the credentials.

Without credentials every call is made anonymously, as kagglehub 1.0 makes them (its
``build_kaggle_client`` builds an unauthenticated client and ``ModelHttpResolver`` asks the same
RPCs): Kaggle serves public models and datasets so; a private or consent-gated one answers
401/403, an ``AccessDeniedError`` saying to sign in and accept its terms.

``KagglePull.place`` then moves the verified files (or the archive, checked whole and extracted
safely) into a new folder renamed onto ``<version>``, and writes the marker last. A version
is pulled whole (kagglehub marks a version complete only with every file), so the
``--include``/``--exclude`` choice and the safetensors rule of the other hubs do not apply.

Offline: the cache alone (a version-less handle means the newest complete version there),
with zero requests; else the next step.

A dataset (``kaggle:datasets/owner/name[/version]``) is kagglehub 1.0's ``DatasetHttpResolver``:
``GetDataset`` says the current version when none is given, the version already complete in
kagglehub's cache is answered from it, else ``DownloadDataset`` redirects to the version as one
zip, which the fetch engine fetches (resumable) and ``place`` extracts safely into
``datasets/<owner>/<name>/versions/<version>``, writing ``<version>.complete`` last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ...caches import safe_relpath
from ...core.errors import BadAnswerError, NotFoundError, OfflineError, UsageError
from ...core.paths import inside_home, max_extract
from ...core.units import human_bytes
from ...fetch.locks import lock_for
from ...models.files import FileEntry
from ...models.lock import LockedModel
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from ...models.transfer import Expected
from .. import json_int
from ..ids import parse_id
from ..pulling import check_folder, differs, file_label, pin_folder
from . import SPEC, api, dataset_cache, is_dataset, model_cache
from .auth import credentials
from .datasets import DatasetHandle, download_link, get_dataset
from .mapping import Handle, framework_enum

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.transfer import Download, Fetched
    from .auth import Credentials

#: What the result calls a version Kaggle sends as one archive (a model's; a dataset's).
ARCHIVE_NAME = "archive.tar.gz"
ARCHIVE_ZIP = "archive.zip"
#: Download links asked for at once (each its own session and deadline), as kagglehub's 8 threads.
LINK_JOBS = 8
#: Asks Kaggle where one file (its path) or the whole version (None) is to be fetched from.
Link = Callable[[str | None], str]
_H = TypeVar("_H", Handle, DatasetHandle)
STORAGE_DENIED_HINT = "the storage link Kaggle gave may have expired; retry the pull (it continues from here)"


@dataclass(frozen=True)
class KagglePlan(ModelPlan):
    """Where one version's verified bytes wait and where they go (read by ``place`` only)."""

    #: the version folder kagglehub loads; None: answered from the cache, already in place
    folder: Path | None = None
    #: the archive, when Kaggle sends the version whole; None: the files one by one
    archive: Path | None = None
    #: the listing's files (path -> size), which an archive must hold
    listed: Mapping[str, int | None] = field(default_factory=dict)
    #: the bytes the archive may expand to (ZOOFIND_MAX_EXTRACT); None: the default bound
    max_extract: int | None = None
    #: kagglehub's completion marker of ``folder`` (None: a model version's, beside it)
    marker: Path | None = None


def plan_kaggle(pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str,
                locked: LockedModel | None = None) -> ModelPlan:
    """The plan of one version: from the cache, or its files (or archive) from Kaggle. ``locked``:
    each file downloaded is checked against the lock's size and sha256, each cached one now (the
    one download planning of a normal and a locked pull)."""
    if is_dataset(pid.ref):
        return _locked_plan(plan_dataset(pid, ctx, opts, revision=revision, asked=asked), locked)
    if opts.include or opts.exclude:
        raise UsageError(f"{pid}: Kaggle model versions are pulled whole (kagglehub marks a version complete only with "
                         "every file); --include and --exclude do not apply", hint="drop --include/--exclude")
    h = _with_revision(Handle.parse(pid.ref), revision, pid)
    enum = framework_enum(h.framework)
    if enum is None:
        raise UsageError(f"{pid}: {h.framework!r} is not a Kaggle Models framework",
                         hint="use the framework as the model's Kaggle address spells it: tensorFlow2, tfLite, "
                              "pyTorch, jax, keras, transformers, gguf, ...")
    variation = model_cache.variation_dir(ctx.environ, h.owner, h.model, h.framework, h.variation)
    h, cached = _on_disk(pid, h, ctx, asked, model_cache.versions(variation),
                         lambda v: model_cache.version_dir(variation, v), model_cache.present)
    if cached is not None:
        return _checked(_from_cache(h, cached), locked)
    # No credentials: asked anonymously, as kagglehub does (Kaggle serves public models so; a private or
    # consent-gated one answers 401/403, which api.check words as "sign in, accept its terms").
    creds = credentials(ctx.environ)
    return _locked_plan(_plan_online(h, enum, inside_home(variation, ctx.environ), creds, ctx, opts), locked)


def _on_disk(pid: ParsedId, h: _H, ctx: Context, asked: str, cached: list[int], folder_of: Callable[[int], Path],
             present: Callable[[Path], bool]) -> tuple[_H, Path | None]:
    """What kagglehub's cache answers, as kagglehub asks it (no request, no credentials): the version's
    folder when it is complete there (offline, a handle without a version means the newest complete
    one, ``cached``), else None; offline and absent, an ``OfflineError`` with the next step."""
    root = model_cache.cache_root(ctx.environ)
    hint = (f"on a machine with network run `zoofind pull {asked}` (Kaggle credentials only for a private or "
            "consent-gated one) "
            f"(with the same {model_cache.ENV}), or drop --offline")
    if h.version is None and ctx.offline:
        if not cached:
            raise OfflineError(f"{pid}: no version of it is in kagglehub's cache {root}", hint=hint)
        h = h.at(cached[-1])
    if h.version is not None and present(folder := folder_of(h.version)):
        return h, folder
    if ctx.offline:
        raise OfflineError(f"kaggle:{h} is not in kagglehub's cache {root}", hint=hint)
    return h, None


def _locked_plan(plan: ModelPlan, locked: LockedModel | None) -> ModelPlan:
    """A locked pull: the cached files checked now, each download against the lock's size and sha256."""
    plan = _checked(plan, locked)
    if locked is None:
        return plan
    pins = {f.path: f for f in locked.files}
    return replace(plan, files=tuple(
        replace(f, download=replace(f.download, expected=Expected(pins[f.path].size, pins[f.path].sha256)))
        if f.download is not None and f.path in pins else f for f in plan.files))


def _checked(plan: ModelPlan, locked: LockedModel | None) -> ModelPlan:
    """A locked pull: every file already there hashed against the lock now."""
    if locked is not None:
        present = {p.path: p.target for p in plan.files if p.present and p.target is not None}
        for f in locked.files:
            if f.path in present:
                differs(locked, f, present[f.path])
    return plan


def _with_revision(h: _H, revision: str | None, pid: ParsedId) -> _H:
    """``kaggle:...@3`` or ``--revision 3``: a version number, the same as ``kaggle:.../3``."""
    if revision is None:
        return h
    if not (revision.isdigit() and int(revision) > 0) or (h.version is not None and h.version != int(revision)):
        raise UsageError(f"{pid}@{revision}: a Kaggle revision is a version number, given once",
                         hint="write the version at the end of the handle: .../<version>")
    return h.at(int(revision))


def _from_cache(h: Handle | DatasetHandle, folder: Path) -> ModelPlan:
    files = tuple(PlannedFile(FileEntry(rel, "", size=p.stat().st_size), None, p, present=True)
                  for rel, p in model_cache.files_of(folder).items())
    return KagglePlan(f"kaggle:{h}", SPEC.name, path=folder, files=files)


def _plan_online(h: Handle, enum: str, variation: Path, creds: Credentials | None, ctx: Context,
                 opts: PullOptions) -> ModelPlan:
    endpoint = ctx.endpoint(SPEC)
    body = api.instance_body(h.owner, h.model, enum, h.variation)
    with api.session(ctx, creds) as s:
        version = h.version
        if version is None:
            instance = api.get_model_instance(s, endpoint, body, creds, what=f"model {h}", page=h.page)
            version = _version_of(instance, h)
            h = h.at(version)
        folder = model_cache.version_dir(variation, version)
        if model_cache.present(folder):
            return _from_cache(h, folder)
        what = f"version {version} of {h.variation_ref}"
        raw, more = api.list_version_files(s, endpoint, body, version, creds, what=what, page=h.page)
    model = f"kaggle:{h}"
    entries = _entries(raw, model)
    if not entries:
        raise NotFoundError(f"{model} has no files to download", hint=f"see {h.page}")

    def link(path: str | None) -> str:
        with api.session(ctx, creds) as s:
            return api.download_link(s, endpoint, body, version, creds, what=what, page=h.page, path=path)

    if more:
        return _plan_archive(model, folder, entries, link, opts, max_extract(ctx.environ))
    return _plan_files(model, folder, entries, link, opts)


def _version_of(instance: Mapping[str, Any], h: Handle) -> int:
    version = json_int(instance.get("versionNumber"))
    if not version:
        raise BadAnswerError(f"Kaggle's API answered GetModelInstance for {h} without a version number",
                             hint="give the version in the handle (.../<version>), or retry later")
    return version


def _entries(raw: Sequence[Any], model: str) -> list[FileEntry]:
    """The listing's files as entries, every name checked to stay inside the version folder."""
    out: dict[str, FileEntry] = {}
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise BadAnswerError(f"Kaggle's API listed a file of {model} without a name")
        safe_relpath(name, what=model)
        if name in out:
            raise BadAnswerError(f"Kaggle's API listed {name!r} twice for {model}")
        out[name] = FileEntry(name, "", size=json_int(item.get("size")))
    return list(out.values())


def _download(model: str, url: str, target: Path, size: int | None, name: str, folder: Path,
              marker: Path | None = None) -> Download:
    from ...models.transfer import Download  # lazy: only when fetching: off pull --offline start-up

    flag = marker or model_cache.marker_path(folder)
    # No auth: the link is signed, and the credentials are for Kaggle's API only.
    return Download(url, target, model_cache.lock_path(target), Expected(size), file_label(parse_id(model).ref, name),
                    done=lambda: flag.exists() and folder.exists(), denied_hint=STORAGE_DENIED_HINT)


def _plan_files(model: str, folder: Path, entries: list[FileEntry], link: Link, opts: PullOptions) -> ModelPlan:
    """Up to a page of files: each fetched on its own into the staging folder beside the version."""
    staging = model_cache.staging_dir(folder)
    targets = {f.path: staging.joinpath(*f.path.split("/")) for f in entries}
    # A staged file of the listed size was verified by an earlier run that stopped before placing.
    wanted = [f for f in entries if not (targets[f.path].is_file() and f.size is not None
                                         and targets[f.path].stat().st_size == f.size)]
    urls: dict[str, str] = {}
    if wanted and not opts.dry_run:
        with ThreadPoolExecutor(max_workers=min(LINK_JOBS, len(wanted)),
                                thread_name_prefix="zoofind-kaggle-link") as pool:
            urls = dict(zip([f.path for f in wanted], pool.map(link, [f.path for f in wanted]), strict=True))
    files = tuple(
        PlannedFile(f, None, targets[f.path], present=f not in wanted,
                    download=_download(model, urls[f.path], targets[f.path], f.size, f.path, folder)
                    if f.path in urls else None)
        for f in entries
    )
    return KagglePlan(model, SPEC.name, path=folder, files=files, folder=folder)


def _plan_archive(model: str, folder: Path, entries: list[FileEntry], link: Link, opts: PullOptions,
                  limit: int | None) -> ModelPlan:
    """More files than a page: the version as one archive, extracted when placed."""
    archive = model_cache.archive_path(folder)
    entry = FileEntry(ARCHIVE_NAME, "", size=None)
    listed = sum(f.size or 0 for f in entries)
    note = (f"{model}: Kaggle lists more than {api.FILES_PAGE} files "
            f"(the first {len(entries)}: {human_bytes(listed)}); "
            "they come as one archive, whose size is known once it arrives, extracted into the version folder")
    download = None if opts.dry_run else _download(model, link(None), archive, None, entry.path, folder)
    return KagglePlan(model, SPEC.name, path=folder, files=(PlannedFile(entry, None, archive, download=download),),
                      notes=(note,), folder=folder, archive=archive, listed={f.path: f.size for f in entries},
                      max_extract=limit)


def plan_dataset(pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
    """The plan of one dataset version: from kagglehub's cache, or its zip from Kaggle."""
    if opts.include or opts.exclude:
        raise UsageError(f"{pid}: Kaggle serves a dataset version whole, as one zip (kagglehub marks a version "
                         "complete only with every file); --include and --exclude do not apply",
                         hint="drop --include/--exclude")
    h = _with_revision(DatasetHandle.parse(pid.ref), revision, pid)
    dataset = dataset_cache.dataset_dir(ctx.environ, h.owner, h.name)
    h, cached = _on_disk(pid, h, ctx, asked, dataset_cache.versions(dataset),
                         lambda v: dataset_cache.version_dir(dataset, v), dataset_cache.present)
    if cached is not None:
        return _from_cache(h, cached)
    creds = credentials(ctx.environ)  # None: asked anonymously, as kagglehub does (public datasets)
    endpoint = ctx.endpoint(SPEC)
    notes: tuple[str, ...] = ()
    with api.session(ctx, creds) as s:
        if h.version is None or opts.dry_run:
            about = get_dataset(s, endpoint, h, creds)
            if h.version is None:
                if not (current := json_int(about.get("currentVersionNumber"))):
                    raise BadAnswerError(f"Kaggle's API answered GetDataset for {h} without a version number",
                                         hint="give the version in the handle (.../<version>), or retry later")
                h = h.at(current)
            if (total := json_int(about.get("totalBytes"))) is not None:
                notes = (f"kaggle:{h}: Kaggle gives the dataset's files as {human_bytes(total)} "
                         "(its current version), sent as one zip extracted into the version folder",)
        assert h.version is not None
        folder = dataset_cache.version_dir(inside_home(dataset, ctx.environ), h.version)
        if dataset_cache.present(folder):
            return _from_cache(h, folder)
        url = None if opts.dry_run else download_link(s, endpoint, h, h.version, creds)
    model, archive, marker = f"kaggle:{h}", model_cache.archive_path(folder), dataset_cache.marker_path(folder)
    download = None if url is None else _download(model, url, archive, None, ARCHIVE_ZIP, folder, marker)
    return KagglePlan(model, SPEC.name, path=folder, notes=notes, folder=folder, archive=archive, marker=marker,
                      files=(PlannedFile(FileEntry(ARCHIVE_ZIP, "", size=None), None, archive, download=download),),
                      max_extract=max_extract(ctx.environ))


class KagglePull:
    describes_uncurated = False

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        return plan_kaggle(pid, ctx, opts, revision=revision, asked=asked)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        """Make the verified files the version folder kagglehub loads; the ``.complete`` marker last."""
        assert isinstance(plan, KagglePlan)
        if plan.folder is None:
            if plan.path is not None:
                # placed by kagglehub's whole-version download (no per-file markers): add them, so that
                # model_download(handle, path) (keras_hub's from_preset) finds each file too
                with contextlib.suppress(OSError):
                    model_cache.mark_files(Path(plan.path))
            return plan.targets()  # answered from the cache: already in place
        lock = lock_for(model_cache.place_lock(plan.folder))
        lock.acquire()  # another process placing the same version: wait for it, then find it in place
        marker = plan.marker or model_cache.marker_path(plan.folder)
        try:
            if marker.exists() and plan.folder.exists():
                # Another process placed it first: this run's copies are redundant.
                model_cache.discard([plan.archive] if plan.archive else plan.targets().values(), plan.folder)
            elif plan.archive is not None:
                model_cache.install_archive(plan.archive, plan.folder, what=plan.id, listed=plan.listed,
                                            limit=plan.max_extract, marker=marker)
            else:
                model_cache.install_files(plan.targets(), plan.folder)
        finally:
            lock.release()
        return model_cache.files_of(plan.folder)


class KaggleLock:
    def pin(self, result: PullResult) -> LockedModel:
        pinned = pin_folder(result)
        return replace(pinned, kind="dataset") if is_dataset(parse_id(result.id).ref) else pinned

    def problem(self, locked: LockedModel) -> str | None:
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        """Kaggle's own planning for the locked version; every file then checked against the lock:
        cached ones now, fetched ones by the engine (one by one) or once placed (a whole-version archive)."""
        plan = plan_kaggle(parse_id(locked.id), ctx, opts, revision=None, asked=locked.id, locked=locked)
        return replace(plan, pinned=True)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        if result.path is not None:
            folder = Path(result.path)
            marker = dataset_cache.marker_path(folder) if is_dataset(parse_id(locked.id).ref) else None
            check_folder(locked, folder, marker or model_cache.marker_path(folder))
