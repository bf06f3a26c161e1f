"""TF Hub modules into tensorflow_hub's cache (``<cache>/<sha1 of the handle>/``), and their locks.

A module comes as one compressed archive, fetched beside the module folder, checked, and
extracted into a new folder renamed onto the module's (its descriptor last). The shared tier
holds module folders, not archives: a download's ``shared`` step links a checked folder
instead. A lock pins the archive's sha256 and every extracted file; files extracted from a
fetched archive are checked against the lock once placed (``check_placed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...caches import safe_relpath, shared
from ...core.errors import NotFoundError, OfflineError, UsageError
from ...core.paths import inside_home, max_extract
from ...models.files import FileEntry
from ...models.lock import LockedArchive, LockedModel
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from ...models.transfer import Expected
from .. import registry
from ..ids import parse_id
from ..pulling import check_folder, choose, differs, file_label, locked_missing, not_locked, offline_hint, pin_folder
from . import SPEC, module_cache

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.transfer import Fetched


def _module_dir(pid: ParsedId, ctx: Context) -> tuple[Path, tuple[str, ...]]:
    """The module's folder, and the note saying how tensorflow_hub finds it when its cache is not set."""
    root, own = module_cache.cache_dir(ctx.environ)
    root = inside_home(root, ctx.environ)
    note = () if own else (f"TF Hub modules are in {root}; for tensorflow_hub to find them there: "
                           f"export {module_cache.ENV}={root}",)
    return root / module_cache.module_name(pid.ref), note


def _archive(pid: ParsedId, module_dir: Path, f: FileEntry, expected: Expected, ctx: Context) -> PlannedFile:
    """The module's archive, downloaded beside its folder unless the folder is there (another
    process may extract it meanwhile) or the shared tier has it. The one download planning of a
    normal and a locked pull."""
    archive = module_cache.archive_path(module_dir)
    if module_cache.present(module_dir):
        return PlannedFile(f, None, archive, present=True)
    from ...models.transfer import Download  # lazy: only when fetching: off pull --offline start-up

    return PlannedFile(f, None, archive, download=Download(
        f.url, archive, module_cache.lock_path(module_dir), expected, file_label(pid.ref, f.path),
        done=lambda: module_cache.present(module_dir),
        local=lambda: module_cache.link_module(module_dir, pid.ref, expected, ctx.environ)))


def _folder(module_dir: Path, shared_files: bool) -> tuple[PlannedFile, ...]:
    return tuple(PlannedFile(FileEntry(p.relative_to(module_dir).as_posix(), "", size=p.stat().st_size), None, p,
                             present=True, shared=shared_files)
                 for p in sorted(module_dir.rglob("*")) if p.is_file())


class TfhubPull:
    describes_uncurated = False

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        module_dir, notes = _module_dir(pid, ctx)
        if ctx.offline:
            return self._offline(pid, module_dir, notes, ctx, asked)
        if revision:
            raise UsageError(f"{pid.source} models have no revisions ({pid}@{revision})", hint="drop the @revision")
        entries = tuple(registry.get(SPEC.name).files(pid, ctx))
        if not entries:
            raise NotFoundError(f"{pid} has no files to download")
        chosen = choose(entries, opts)
        for f, _ in chosen:
            safe_relpath(f.path, what=str(pid))
        files = tuple(PlannedFile(f, skip) if skip else _archive(pid, module_dir, f, Expected(f.size, f.sha256), ctx)
                      for f, skip in chosen)
        return ModelPlan(str(pid), SPEC.name, path=module_dir, files=files, notes=notes)

    def _offline(self, pid: ParsedId, module_dir: Path, notes: tuple[str, ...], ctx: Context,
                 asked: str) -> ModelPlan:
        """The user's module folder, else the shared tier's (checked, then linked)."""
        from_shared = False
        if not module_cache.present(module_dir):
            linked = module_cache.link_module(module_dir, pid.ref, Expected(), ctx.environ)
            notes += linked.notes
            if linked.source is None:
                raise OfflineError(f"{pid} is not in the TF Hub cache {module_dir.parent}"
                                   + (" nor in the shared tier" if shared.roots(ctx.environ) else ""),
                                   hint=offline_hint(asked))
            from_shared = True
        return ModelPlan(str(pid), SPEC.name, path=module_dir, files=_folder(module_dir, from_shared), notes=notes)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        assert plan.path is not None
        handle = parse_id(plan.id).ref
        for f in plan.files:
            # another process may have installed it meanwhile
            if not f.present and f.target is not None and not module_cache.present(plan.path):
                outcome = fetched.get(f.path)
                module_cache.install(f.target, plan.path, handle,
                                     is_archive=f.path.endswith((".tar.gz", ".tgz", ".tar")),
                                     name=f.path, sha256=outcome.sha256 if outcome else None,
                                     max_extract=max_extract(ctx.environ))
        return {p.relative_to(plan.path).as_posix(): p for p in plan.path.rglob("*") if p.is_file()}


class TfhubLock:
    def pin(self, result: PullResult) -> LockedModel:
        assert result.path is not None
        root = Path(result.path)
        # The archive this run verified, else the one the module's descriptor records.
        got = next((f for f in result.files if f.status == "downloaded" and f.sha256 and f.size is not None), None)
        sha, size = ((got.sha256, got.size) if got
                     else (module_cache.archive_sha256(root), module_cache.archive_size(root)))
        return pin_folder(result, LockedArchive(size, sha) if sha and size is not None else None)

    def problem(self, locked: LockedModel) -> str | None:
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        """A module folder is checked file by file; a missing one is fetched as the locked archive."""
        pid = parse_id(locked.id)
        module_dir, notes = _module_dir(pid, ctx)
        if module_cache.present(module_dir):
            files = []
            for f in locked.files:
                path = module_dir / f.path
                if not path.is_file():
                    raise not_locked(locked, f"{f.path} is missing from the cached module folder {module_dir}")
                differs(locked, f, path)
                files.append(PlannedFile(FileEntry(f.path, "", f.size, f.sha256), None, path, present=True))
            return ModelPlan(locked.id, SPEC.name, path=module_dir, files=tuple(files), notes=notes, pinned=True)
        locked_missing(locked, ctx, f"the TF Hub cache {module_dir.parent}")
        asset = next(iter(registry.get(SPEC.name).files(pid, ctx)), None)
        if asset is None:
            raise UsageError(f"{locked.id}: this zoofind's TF Hub index has no asset for it")
        size, sha = (locked.archive.size, locked.archive.sha256) if locked.archive else (None, None)
        # A shared module folder whose descriptor records the locked archive's sha256 is linked (its
        # files are then checked against the lock like a fetched module's).
        entry = FileEntry(asset.path, asset.url, size, sha)
        archive = _archive(pid, module_dir, entry, Expected(size, sha), ctx)
        return ModelPlan(locked.id, SPEC.name, path=module_dir, files=(archive,), notes=notes, pinned=True)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        if result.path is not None:
            check_folder(locked, Path(result.path), module_cache.descriptor_path(Path(result.path)))
