"""`zoofind lock` and `zoofind pull --lock`: the exact models a study used, and the same again.

``lock`` pulls the models (so every byte it records was verified, or is verified now
when it was already cached) and turns each result into a ``LockedModel``: the Hub commit,
each selected file's size, sha256 and blob name; a torchvision checkpoint's full sha256;
a TF Hub archive's sha256 and every extracted file. Cached files whose sha256 this run did
not compute are hashed from disk: a lock never records a digest nobody checked.

``pull_locked`` builds pull plans from the lock alone: Hugging Face URLs name the locked
commit, torchvision and TF Hub URLs come from the bundled indexes, so no metadata request
is made. A file already cached is hashed against the lock and a mismatch fails its model
(exit 1, file named); a missing file is fetched and verified against the lock's size and
sha256 before it becomes visible. With everything cached it makes zero requests.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence
from urllib.parse import quote

from ..context import Context
from ..errors import OfflineError, UsageError
from .lockfile import Lock, LockedArchive, LockedFile, LockedModel
from ..paths import inside_home
from .pull import PullOptions, PullReport, PullResult, _label, _Plan, _tfhub_dir, pull, run_plans

if TYPE_CHECKING:
    from ..fetch.engine import ProgressEvent

Progress = Callable[["ProgressEvent"], None] | None


@dataclass(frozen=True)
class LockReport:
    """What ``zoofind lock`` did: the pull of every model, and the lock (None if any failed)."""

    pulled: PullReport
    lock: Lock | None

    @property
    def exit_code(self) -> int:
        return self.pulled.exit_code


# -- writing a lock ----------------------------------------------------------------------
def lock(ids: Sequence[str], ctx: Context, opts: PullOptions, progress: Progress = None) -> LockReport:
    """Pull ``ids`` and record exactly what arrived; no lock when any model failed."""
    from .. import __version__

    if opts.dry_run:
        raise UsageError("lock has no --dry-run: it records the bytes it verified", hint="use `zoofind pull --dry-run` to see what would be fetched")
    report = pull(ids, ctx, opts, progress)
    if report.exit_code:
        return LockReport(report, None)
    models = tuple(_locked(r) for r in report.results)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return LockReport(report, Lock(models, __version__, now))


def _locked(r: PullResult) -> LockedModel:
    from ..fetch.integrity import Expected, hash_file

    def sha256_of(path: Path, known: str | None, status: str) -> str:
        # A sha256 this run computed from the bytes it received is verified; anything else is
        # hashed now (a cached blob's name is only what the Hub called it).
        return known if status == "downloaded" and known else hash_file(path, Expected()).sha256.hexdigest()

    source = r.id.split(":", 1)[0]
    assert r.path is not None
    root = Path(r.path)
    if source in ("tfhub", "kaggle"):  # a folder: every file in it
        from ..caches import tfhub

        files = tuple(
            LockedFile(p.relative_to(root).as_posix(), p.stat().st_size, sha256_of(p, None, "cached"))
            for p in sorted(root.rglob("*")) if p.is_file()
        )
        fetched = next((f for f in r.files if f.status == "downloaded" and f.sha256 and f.size is not None), None)
        sha, size = (fetched.sha256, fetched.size) if fetched else (tfhub.archive_sha256(root), tfhub.archive_size(root))
        archive = LockedArchive(size, sha) if source == "tfhub" and sha and size is not None else None
        return LockedModel(r.id, None, None, files, archive, r.framework)
    kept = [f for f in r.files if f.status != "skipped"]
    if source == "hf":
        locked = tuple(
            LockedFile(f.path, (root / f.path).stat().st_size, sha256_of(root / f.path, f.sha256, f.status), f.blob or _blob_name(root / f.path))
            for f in kept
        )
        return LockedModel(r.id, r.revision, r.commit, locked, None, r.framework)
    # torchvision: the path printed is the checkpoint file itself.
    locked = tuple(LockedFile(f.path, root.stat().st_size, sha256_of(root, f.sha256, f.status)) for f in kept)
    return LockedModel(r.id, None, None, locked, None, r.framework)


def _blob_name(snapshot_file: Path) -> str:
    """A snapshot file's blob name: where its link points (huggingface_hub's layout)."""
    return Path(os.path.realpath(snapshot_file)).name


# -- pulling a lock ----------------------------------------------------------------------
def pull_locked(lock: Lock, ctx: Context, opts: PullOptions, progress: Progress = None) -> PullReport:
    if opts.revision or opts.include or opts.exclude or opts.all_files:
        raise UsageError("--lock fixes the revisions and files; it takes no --revision, --include, --exclude or --all-files")
    if opts.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if not lock.models:
        raise UsageError(f"{lock.origin or 'the lock'} locks no model")
    plans = [_plan_locked(m, ctx, opts) for m in lock.models]
    return _check_extracted(run_plans(plans, ctx, opts, progress), lock)


def _plan_locked(m: LockedModel, ctx: Context, opts: PullOptions) -> _Plan:
    plan = _Plan(m.id, id=m.id, source=m.source, revision=m.revision, commit=m.commit, pinned=True)
    try:
        if m.source == "hf":
            _plan_hf(plan, m, ctx, opts)
        elif m.source == "torchvision":
            _plan_torchvision(plan, m, ctx)
        elif m.source == "tfhub":
            _plan_tfhub(plan, m, ctx)
        else:
            _plan_kaggle(plan, m, ctx, opts)
    except Exception as exc:  # noqa: BLE001 - one model's failure is its result
        plan.error = exc
    return plan


def _differs(m: LockedModel, f: LockedFile, path: Path) -> None:
    """Hash a cached file against the lock; a difference fails the model, naming the file."""
    from ..fetch.integrity import Expected, IntegrityError, hash_file, verify

    expected = Expected(f.size, f.sha256)
    try:
        verify(hash_file(path, expected), expected, f"{m.id}: {f.path}")
    except IntegrityError as exc:
        raise IntegrityError(
            f"{m.id}: the cached {f.path} ({path}) is not the file the lock records: {exc.message}",
            hint=f"remove it (`zoofind cache rm {m.id}`) and run the pull again to fetch the locked bytes",
        ) from None


def _missing(plan: _Plan, ctx: Context, where: str) -> None:
    if ctx.offline:
        raise OfflineError(f"{plan.id} is not in {where}",
                           hint="on a machine with network run `zoofind pull --lock FILE` with the same cache folders, "
                                "or carry the files over with `zoofind export`/`zoofind import`")


def _plan_hf(plan: _Plan, m: LockedModel, ctx: Context, opts: PullOptions) -> None:
    from ..caches.hf import RepoCache, hub_cache
    from ..fetch.engine import Download
    from ..fetch.integrity import Expected
    from ..hubs.base import FileEntry
    from ..hubs.hf import SPEC
    from ..hubs.hf.auth import find_token

    assert m.commit is not None
    repo_id = m.id.split(":", 1)[1]
    repo = RepoCache(inside_home(hub_cache(ctx.environ), ctx.environ), repo_id)
    plan.repo, plan.path = repo, repo.snapshot(m.commit)
    hub = ctx.endpoint(SPEC)
    token, _ = find_token(ctx.environ)
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    page = f"{hub}/{repo_id}"
    for f in m.files:
        assert f.blob is not None
        entry = FileEntry(f.path, f"{hub}/{repo_id}/resolve/{m.commit}/{quote(f.path)}", f.size, f.sha256, f.blob)
        plan.chosen.append((entry, None))
        plan.targets[f.path] = repo.blob(f.blob)
        if repo.present(m.commit, f.path, f.size):
            _differs(m, f, plan.path / f.path)
            plan.present.add(f.path)
            continue
        _missing(plan, ctx, f"the Hugging Face cache at {repo.cache} ({f.path} of commit {m.commit[:12]})")
        plan.downloads.append(Download(
            entry.url, repo.blob(f.blob), repo.lock(f.blob), Expected(f.size, f.sha256), _label(m.id, f.path), auth,
            denied_hint=f"request access at {page}, then set HF_TOKEN (or run `hf auth login`)",
        ))
    if plan.downloads and not opts.dry_run:
        plan.path.mkdir(parents=True, exist_ok=True)  # as huggingface_hub does before any download


def _plan_torchvision(plan: _Plan, m: LockedModel, ctx: Context) -> None:
    from ..caches.torch import checkpoints, lock_path
    from ..fetch.engine import Download
    from ..fetch.integrity import Expected
    from ..ids import parse_id
    from .pull import _fileset
    from ..hubs.base import FileEntry

    folder = inside_home(checkpoints(ctx.environ), ctx.environ)
    urls = {f.path: f.url for f in _fileset(parse_id(m.id), ctx, None).files}  # the bundled index: no request
    for f in m.files:
        url = urls.get(f.path)
        if url is None:
            raise UsageError(f"{m.id}: this zoofind's torchvision index has no {f.path}",
                             hint="use the zoofind version that wrote the lock (`pip install zoofind==VERSION`)")
        target = folder / f.path
        plan.chosen.append((FileEntry(f.path, url, f.size, f.sha256), None))
        plan.targets[f.path] = plan.path = target
        if target.is_file():
            _differs(m, f, target)
            plan.present.add(f.path)
            continue
        _missing(plan, ctx, f"torch.hub's checkpoint folder {folder}")
        plan.downloads.append(Download(url, target, lock_path(target), Expected(f.size, f.sha256), _label(m.id, f.path)))


def _plan_tfhub(plan: _Plan, m: LockedModel, ctx: Context) -> None:
    """A module folder is checked file by file; a missing one is fetched as the locked archive."""
    from ..caches import tfhub
    from ..fetch.engine import Download
    from ..fetch.integrity import Expected
    from ..ids import parse_id
    from .pull import _fileset
    from ..hubs.base import FileEntry

    module_dir = _tfhub_dir(plan, ctx)
    if tfhub.present(module_dir):
        for f in m.files:
            path = module_dir / f.path
            if not path.is_file():
                raise _integrity(m, f"{f.path} is missing from the cached module folder {module_dir}")
            _differs(m, f, path)
            plan.chosen.append((FileEntry(f.path, "", f.size, f.sha256), None))
            plan.present.add(f.path)
            plan.targets[f.path] = path
        return
    _missing(plan, ctx, f"the TF Hub cache {module_dir.parent}")
    archive = next(iter(_fileset(parse_id(m.id), ctx, None).files), None)
    if archive is None:
        raise UsageError(f"{m.id}: this zoofind's TF Hub index has no asset for it")
    size, sha = (m.archive.size, m.archive.sha256) if m.archive else (None, None)
    plan.chosen.append((FileEntry(archive.path, archive.url, size, sha), None))
    target = tfhub.archive_path(module_dir)
    plan.targets[archive.path] = target
    from ..caches import shared

    expected = Expected(size, sha)
    # The shared tier holds module folders: one whose descriptor records the locked archive's
    # sha256 is linked (its files are then checked against the lock like a fetched module's).
    plan.downloads.append(Download(archive.url, target, tfhub.lock_path(module_dir), expected, _label(m.id, archive.path),
                                   done=lambda d=module_dir: tfhub.present(d),
                                   shared=lambda d=module_dir, e=expected: shared.link_module(d, m.id.split(":", 1)[1], e, ctx.environ)))


def _plan_kaggle(plan: _Plan, m: LockedModel, ctx: Context, opts: PullOptions) -> None:
    """Kaggle's own planning for the locked version; every file then checked against the lock:
    cached ones now, fetched ones by the engine (one by one) or once placed (a whole-version archive)."""
    from dataclasses import replace

    from ..fetch.integrity import Expected
    from ..ids import parse_id
    from ..hubs.kaggle.pull import plan_kaggle

    plan_kaggle(plan, parse_id(m.id), ctx, opts)
    by_label = {_label(plan.id, f.path): f for f in m.files}
    for f in m.files:
        if f.path in plan.present:
            _differs(m, f, plan.targets[f.path])
    plan.downloads = [
        replace(d, expected=Expected(by_label[d.label].size, by_label[d.label].sha256)) if d.label in by_label else d
        for d in plan.downloads
    ]


def _integrity(m: LockedModel, what: str) -> Exception:
    from ..fetch.integrity import IntegrityError

    return IntegrityError(f"{m.id}: {what}", hint=f"remove it (`zoofind cache rm {m.id}`) and run the pull again")


def _check_extracted(report: PullReport, lock: Lock) -> PullReport:
    """Folders fetched as an archive (TF Hub, Kaggle): every file in place must be the locked one."""
    from dataclasses import replace

    from ..caches import tfhub
    from ..errors import describe

    by_id = {m.id: m for m in lock.models}
    out = []
    for r in report.results:
        m = by_id.get(r.id)
        if m is None or m.source not in ("tfhub", "kaggle") or not r.ok or report.dry_run or r.path is None:
            out.append(r)
            continue
        module_dir = Path(r.path)
        try:
            for f in m.files:
                if not (module_dir / f.path).is_file():
                    raise _integrity(m, f"the archive holds no {f.path}")
                _differs(m, f, module_dir / f.path)
        except Exception as exc:  # noqa: BLE001
            import shutil

            # Not the locked module: it must not stay where its framework would load it.
            if m.source == "tfhub":
                tfhub.descriptor_path(module_dir).unlink(missing_ok=True)
            else:
                from ..caches import kagglehub

                kagglehub.marker_path(module_dir).unlink(missing_ok=True)  # first: the folder no longer counts
            if module_dir.is_symlink():
                module_dir.unlink()  # a link into the shared tier: only the link is ours
            else:
                shutil.rmtree(module_dir, ignore_errors=True)
            d = describe(exc)
            r = replace(r, error=d.message, hint=d.hint, exit_code=d.exit_code)
        out.append(r)
    return replace(report, results=tuple(out))
