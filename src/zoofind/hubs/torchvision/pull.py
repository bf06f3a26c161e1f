"""torchvision weights into torch.hub's checkpoint folder, and their locks.

A checkpoint is one immutable file named by its hash prefix (``resnet50-11ad3fa6.pth``); the
engine checks that prefix (and the lock's full sha256) before the file appears, so the
downloaded file is its own final place. The URLs come from the bundled index: no request but
the download itself, and offline none at all (the user's folder, then the shared tier's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ...caches import safe_relpath, shared
from ...caches.torch_hub import checkpoints, lock_path
from ...core.errors import NotFoundError, OfflineError, UsageError
from ...core.paths import inside_home
from ...models.files import FileEntry
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from .. import registry
from ..ids import parse_id
from ..pulling import choose, differs, file_label, locked_missing, offline_hint, sha256_of, skipped_note
from . import SPEC

# The hashing code and the lock's records: imported where a file is fetched or a lock written
# (a pull of a cached checkpoint needs neither: pull --offline start-up).
if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.lock import LockedModel
    from ...models.transfer import Fetched
    from .source import TorchvisionSource


def _planned(pid: ParsedId, chosen: Sequence[tuple[FileEntry, str | None]], ctx: Context, *,
             locked: LockedModel | None = None) -> tuple[PlannedFile, ...]:
    """Each checkpoint present in torch.hub's folder or downloaded to it, checked against its
    expected hash; ``locked``: a cached one hashed against the lock, offline a missing one
    fails. The one download planning of a normal and a locked pull."""
    folder = inside_home(checkpoints(ctx.environ), ctx.environ)
    pins = {f.path: f for f in locked.files} if locked else {}
    out = []
    for f, skip in chosen:
        target = folder / f.path
        if skip:
            out.append(PlannedFile(f, skip, target))
        elif target.is_file():
            if locked is not None:
                differs(locked, pins[f.path], target)
            out.append(PlannedFile(f, None, target, present=True))
        else:
            if locked is not None:
                locked_missing(locked, ctx, f"torch.hub's checkpoint folder {folder}")
            # lazy: only when fetching: off pull --offline start-up (the hashing code)
            from ...models.transfer import Download, Expected

            expected = Expected(f.size, f.sha256, None, f.sha256_prefix)
            out.append(PlannedFile(f, None, target, download=Download(
                f.url, target, lock_path(target), expected, file_label(pid.ref, f.path))))
    return tuple(out)


def _last_target(files: Sequence[PlannedFile]) -> Path | None:
    """What the framework loads: the checkpoint file itself."""
    return next((f.target for f in reversed(files) if f.target is not None), None)


def _source() -> TorchvisionSource:
    """This hub's Source, which also lists a model's files (``fileset``, not in the Source protocol)."""
    return cast("TorchvisionSource", registry.get(SPEC.name))


class TorchvisionPull:
    describes_uncurated = False

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        fs = _source().fileset(pid, ctx, revision=revision)  # the bundled index: no request
        if ctx.offline:
            return self._offline(parse_id(fs.id), fs.files, ctx, asked)
        if not fs.files:
            raise NotFoundError(f"{fs.id} has no files to download", hint=f"see {fs.page}" if fs.page else None)
        chosen = choose(fs.files, opts)
        for f, _ in chosen:
            safe_relpath(f.path, what=fs.id)
        files = _planned(pid, chosen, ctx)
        return ModelPlan(fs.id, SPEC.name, fs.revision, fs.commit, _last_target(files), files,
                         skipped_note(fs.id, chosen))

    def _offline(self, pid: ParsedId, entries: Sequence[FileEntry], ctx: Context, asked: str) -> ModelPlan:
        """The user's checkpoint folder, else the shared tier's copy (checked, then linked)."""
        files: list[PlannedFile] = []
        notes: list[str] = []
        for f in entries:
            target = checkpoints(ctx.environ) / f.path
            linked = False
            if not target.is_file():
                # lazy: the hashing code: off pull --offline start-up
                from ...models.transfer import Expected

                got = shared.link_file(target, Expected(f.size, f.sha256, None, f.sha256_prefix), ctx.environ,
                                       file_label(pid.ref, f.path))
                notes.extend(got.notes)
                if got.source is None:
                    raise OfflineError(f"{pid} is not in torch.hub's checkpoint folder {target.parent}"
                                       + (" nor in the shared tier" if shared.roots(ctx.environ) else ""),
                                       hint=offline_hint(asked))
                linked = True
            files.append(PlannedFile(FileEntry(f.path, f.url, size=target.stat().st_size), None, target,
                                     present=True, shared=linked))
        return ModelPlan(str(pid), SPEC.name, path=_last_target(files), files=tuple(files), notes=tuple(notes))

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        return plan.targets()  # a verified checkpoint is its own final path


class TorchvisionLock:
    def pin(self, result: PullResult) -> LockedModel:
        # lazy: only for a lock: off pull --offline start-up
        from ...models.lock import LockedFile, LockedModel

        assert result.path is not None
        root = Path(result.path)  # the checkpoint file itself
        files = tuple(LockedFile(f.path, root.stat().st_size, sha256_of(root, f.sha256, f.status))
                      for f in result.files if f.status != "skipped")
        return LockedModel(result.id, None, None, files, None, result.framework)

    def problem(self, locked: LockedModel) -> str | None:
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        pid = parse_id(locked.id)
        urls = {f.path: f.url for f in _source().fileset(pid, ctx).files}  # the bundled index
        entries = []
        for f in locked.files:
            if f.path not in urls:
                raise UsageError(f"{locked.id}: this zoofind's torchvision index has no {f.path}",
                                 hint="use the zoofind version that wrote the lock (`pip install zoofind==VERSION`)")
            entries.append((FileEntry(f.path, urls[f.path], f.size, f.sha256), None))
        files = _planned(pid, entries, ctx, locked=locked)
        return ModelPlan(locked.id, SPEC.name, path=_last_target(files), files=files, pinned=True)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        return None  # the engine checked each checkpoint against the lock

