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

``place_kaggle`` then moves the verified files (or the archive, checked whole and extracted
safely) into a new folder renamed onto ``<version>``, and writes the marker last. A version
is pulled whole (kagglehub marks a version complete only with every file), so the
``--include``/``--exclude`` choice and the safetensors rule of the other hubs do not apply.

Offline: the cache alone (a version-less handle means the newest complete version there),
with zero requests; else the next step.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ...context import Context
from ...errors import AccessDeniedError, BadAnswerError, NotFoundError, OfflineError, UsageError
from ...paths import inside_home, max_extract
from ...records import ParsedId

if TYPE_CHECKING:
    from ...fetch.engine import Download
    from ...ops.pull import PullOptions, _Plan
    from ...hubs.base import FileEntry
    from ...hubs.kaggle.auth import Credentials
    from ...hubs.kaggle.mapping import Handle

#: What the result calls a version Kaggle sends as one archive.
ARCHIVE_NAME = "archive.tar.gz"
#: Download links asked for at once (each its own session and deadline), as kagglehub's 8 threads.
LINK_JOBS = 8
NO_CREDENTIALS_HINT = ("create a token at https://www.kaggle.com/settings and set KAGGLE_API_TOKEN "
                       "(or KAGGLE_USERNAME and KAGGLE_KEY, or ~/.kaggle/kaggle.json)")
#: Asks Kaggle where one file (its path) or the whole version (None) is to be fetched from.
Link = Callable[[str | None], str]
STORAGE_DENIED_HINT = "the storage link Kaggle gave may have expired; retry the pull (it continues from here)"


@dataclass(frozen=True)
class _Placement:
    """Where one version's verified bytes wait and where they go (the plan's ``repo`` slot)."""

    folder: Path
    #: the archive, when Kaggle sends the version whole; None: the files one by one
    archive: Path | None = None
    #: the listing's files (path -> size), which an archive must hold
    listed: Mapping[str, int | None] = field(default_factory=dict)
    #: the bytes the archive may expand to (ZOOFIND_MAX_EXTRACT); None: the default bound
    max_extract: int | None = None


def plan_kaggle(plan: "_Plan", pid: ParsedId, ctx: Context, opts: "PullOptions") -> None:
    """Fill ``plan`` (id with the resolved version, path, chosen files, targets, downloads, notes)."""
    from ...caches import kagglehub
    from ...hubs.kaggle.mapping import Handle, framework_enum

    if opts.include or opts.exclude:
        raise UsageError(f"{pid}: Kaggle model versions are pulled whole (kagglehub marks a version complete only with "
                         "every file); --include and --exclude do not apply", hint="drop --include/--exclude")
    h = _with_revision(Handle.parse(pid.ref), plan.revision, pid)
    enum = framework_enum(h.framework)
    if enum is None:
        raise UsageError(f"{pid}: {h.framework!r} is not a Kaggle Models framework",
                         hint="use the framework as the model's Kaggle address spells it: tensorFlow2, tfLite, pyTorch, "
                              "jax, keras, transformers, gguf, ...")
    variation = kagglehub.variation_dir(ctx.environ, h.owner, h.model, h.framework, h.variation)
    offline_hint = (f"on a machine with network and Kaggle credentials run `zoofind pull {plan.raw}` "
                    f"(with the same {kagglehub.ENV}), or drop --offline")
    if h.version is None and ctx.offline:
        cached = kagglehub.versions(variation)
        if not cached:
            raise OfflineError(f"{pid}: no version of it is in kagglehub's cache {kagglehub.cache_root(ctx.environ)}", hint=offline_hint)
        h = h.at(cached[-1])
    if h.version is not None and kagglehub.present(kagglehub.version_dir(variation, h.version)):
        _from_cache(plan, h, kagglehub.version_dir(variation, h.version))  # as kagglehub: no request, no credentials
        return
    if ctx.offline:
        raise OfflineError(f"kaggle:{h} is not in kagglehub's cache {kagglehub.cache_root(ctx.environ)}", hint=offline_hint)
    from ...hubs.kaggle.auth import credentials

    creds = credentials(ctx.environ)
    if creds is None:
        raise AccessDeniedError(f"{pid}: Kaggle serves model files only with credentials, and none are set", hint=NO_CREDENTIALS_HINT)
    _plan_online(plan, h, enum, inside_home(variation, ctx.environ), creds, ctx, opts)


def _with_revision(h: "Handle", revision: str | None, pid: ParsedId) -> "Handle":
    """``kaggle:...@3`` or ``--revision 3``: a version number, the same as ``kaggle:.../3``."""
    if revision is None:
        return h
    if not (revision.isdigit() and int(revision) > 0) or (h.version is not None and h.version != int(revision)):
        raise UsageError(f"{pid}@{revision}: a Kaggle model's revision is its version number, given once",
                         hint="write the version in the handle: owner/model/framework/variation/<version>")
    return h.at(int(revision))


def _from_cache(plan: "_Plan", h: "Handle", folder: Path) -> None:
    from ...caches import kagglehub
    from ...hubs.base import FileEntry

    plan.id, plan.path = f"kaggle:{h}", folder
    for rel, p in kagglehub.files_of(folder).items():
        plan.chosen.append((FileEntry(rel, "", size=p.stat().st_size), None))
        plan.present.add(rel)
        plan.targets[rel] = p


def _plan_online(plan: "_Plan", h: "Handle", enum: str, variation: Path, creds: "Credentials", ctx: Context,
                 opts: "PullOptions") -> None:
    from ...caches import kagglehub
    from ...hubs.kaggle import SPEC, api

    endpoint = ctx.endpoint(SPEC)
    body = api.instance_body(h.owner, h.model, enum, h.variation)
    with api.session(ctx, creds) as s:
        if h.version is None:
            instance = api.get_model_instance(s, endpoint, body, creds, what=f"model {h}", page=h.page)
            h = h.at(_version_of(instance, h))
        folder = kagglehub.version_dir(variation, h.version)
        if kagglehub.present(folder):
            _from_cache(plan, h, folder)
            return
        what = f"version {h.version} of {h.variation_ref}"
        raw, more = api.list_version_files(s, endpoint, body, h.version, creds, what=what, page=h.page)
    plan.id, plan.path = f"kaggle:{h}", folder
    entries = _entries(raw, plan.id)
    if not entries:
        raise NotFoundError(f"{plan.id} has no files to download", hint=f"see {h.page}")

    def link(path: str | None) -> str:
        with api.session(ctx, creds) as s:
            return api.download_link(s, endpoint, body, h.version, creds, what=what, page=h.page, path=path)

    if more:
        _plan_archive(plan, folder, entries, link, opts, max_extract(ctx.environ))
    else:
        _plan_files(plan, folder, entries, link, opts)


def _version_of(instance: Mapping[str, Any], h: "Handle") -> int:
    from ...hubs import json_int

    version = json_int(instance.get("versionNumber"))
    if not version:
        raise BadAnswerError(f"Kaggle's API answered GetModelInstance for {h} without a version number",
                             hint="give the version in the handle (.../<version>), or retry later")
    return version


def _entries(raw: Sequence[Any], model: str) -> list["FileEntry"]:
    """The listing's files as entries, every name checked to stay inside the version folder."""
    from ...caches import safe_relpath
    from ...hubs import json_int
    from ...hubs.base import FileEntry

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


def _download(plan: "_Plan", url: str, target: Path, size: int | None, name: str, folder: Path) -> "Download":
    from ...caches import kagglehub
    from ...fetch.engine import Download
    from ...fetch.integrity import Expected
    from ...ops.pull import _label

    # No auth: the link is signed, and the credentials are for Kaggle's API only.
    return Download(url, target, kagglehub.lock_path(target), Expected(size), _label(plan.id, name),
                    done=lambda: kagglehub.present(folder), denied_hint=STORAGE_DENIED_HINT)


def _plan_files(plan: "_Plan", folder: Path, entries: list["FileEntry"], link: "Link", opts: "PullOptions") -> None:
    """Up to a page of files: each fetched on its own into the staging folder beside the version."""
    from ...caches import kagglehub

    staging = kagglehub.staging_dir(folder)
    wanted = []
    for f in entries:
        target = staging.joinpath(*f.path.split("/"))
        plan.chosen.append((f, None))
        plan.targets[f.path] = target
        if target.is_file() and f.size is not None and target.stat().st_size == f.size:
            plan.present.add(f.path)  # verified by an earlier run that stopped before placing
        else:
            wanted.append(f)
    plan.repo = _Placement(folder)
    if opts.dry_run or not wanted:
        return
    with ThreadPoolExecutor(max_workers=min(LINK_JOBS, len(wanted)), thread_name_prefix="zoofind-kaggle-link") as pool:
        urls = list(pool.map(link, [f.path for f in wanted]))
    for f, url in zip(wanted, urls):
        plan.downloads.append(_download(plan, url, plan.targets[f.path], f.size, f.path, folder))


def _plan_archive(plan: "_Plan", folder: Path, entries: list["FileEntry"], link: "Link", opts: "PullOptions",
                  limit: int | None) -> None:
    """More files than a page: the version as one archive, extracted when placed."""
    from ...caches import kagglehub
    from ...hubs.base import FileEntry
    from ...hubs.kaggle.api import FILES_PAGE
    from ...units import human_bytes

    archive = kagglehub.archive_path(folder)
    entry = FileEntry(ARCHIVE_NAME, "", size=None)
    plan.chosen.append((entry, None))
    plan.targets[entry.path] = archive
    plan.repo = _Placement(folder, archive, {f.path: f.size for f in entries}, limit)
    listed = sum(f.size or 0 for f in entries)
    plan.notes.append(f"{plan.id}: Kaggle lists more than {FILES_PAGE} files (the first {len(entries)}: {human_bytes(listed)}); "
                      "they come as one archive, whose size is known once it arrives, extracted into the version folder")
    if not opts.dry_run:
        plan.downloads.append(_download(plan, link(None), archive, None, entry.path, folder))


def place_kaggle(plan: "_Plan", by_label: dict[str, "Download"]) -> None:
    """Make the verified files the version folder kagglehub loads; the ``.complete`` marker last."""
    from ...caches import kagglehub
    from ...fetch.locks import lock_for

    placement = plan.repo
    if not isinstance(placement, _Placement):
        return  # answered from the cache: already in place
    lock = lock_for(kagglehub.place_lock(placement.folder))
    lock.acquire()  # another process placing the same version: wait for it, then find it in place
    try:
        if kagglehub.present(placement.folder):
            # Another process placed it first: this run's copies are redundant.
            kagglehub.discard([placement.archive] if placement.archive else plan.targets.values(), placement.folder)
        elif placement.archive is not None:
            kagglehub.install_archive(placement.archive, placement.folder, what=plan.id, listed=placement.listed,
                                      limit=placement.max_extract)
        else:
            kagglehub.install_files(plan.targets, placement.folder)
    finally:
        lock.release()
    plan.targets = kagglehub.files_of(placement.folder)
