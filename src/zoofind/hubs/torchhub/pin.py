"""The ``lock`` ability of PyTorch Hub repositories (``protocol.Locks``).

A lock pins the ref (``revision``), its commit, the archive's size and sha256, and every file
by its path below ``$TORCH_HOME/hub``: the repository's (``<folder>/<path>``) and the
checkpoints (``checkpoints/<name>``). GitHub generates archives on request and does not promise
the same bytes twice, so ``pull --lock`` checks what matters, each extracted file against the
lock (``check_placed``), rather than refusing a re-generated archive of the same commit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..pulling import check_folder, sha256_of
from . import pull, repo_cache

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.lock import LockedModel
    from ...models.pull import ModelPlan, PullOptions, PullResult


class TorchhubLock:
    def pin(self, result: PullResult) -> LockedModel:
        from ...models.lock import LockedArchive, LockedFile, LockedModel  # lazy: pull --offline start-up

        assert result.path is not None
        folder = Path(result.path)
        hub = folder.parent
        files = [LockedFile(f"{folder.name}/{p.relative_to(folder).as_posix()}", p.stat().st_size,
                            sha256_of(p, None, "cached"))
                 for p in sorted(folder.rglob("*")) if p.is_file()]
        for f in result.files:
            if f.path.startswith("checkpoints/") and f.status != "skipped":
                p = hub / f.path
                files.append(LockedFile(f.path, p.stat().st_size, sha256_of(p, f.sha256, f.status)))
        got = next((f for f in result.files if f.path.endswith(".zip") and f.status == "downloaded"
                    and f.sha256 and f.size is not None), None)
        known = repo_cache.read_record(folder).get("archive") or {}
        sha, size = (got.sha256, got.size) if got else (known.get("sha256"), known.get("size"))
        archive = LockedArchive(int(size), str(sha)) if sha and isinstance(size, int) else None
        return LockedModel(result.id, result.revision, result.commit, tuple(files), archive, result.framework)

    def problem(self, locked: LockedModel) -> str | None:
        if not locked.revision or not locked.commit:
            return f"{locked.id}: a PyTorch Hub model needs its ref (revision) and commit in the lock"
        bad = next((f.path for f in locked.files if "/" not in f.path), None)
        return f"{locked.id}: {bad!r} is neither a repository file nor a checkpoint" if bad else None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        return pull.plan_from_lock(locked, ctx)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        if result.path is None:
            return
        folder = Path(result.path)
        prefix = folder.name + "/"
        own = replace(locked, files=tuple(replace(f, path=f.path[len(prefix):]) for f in locked.files
                                          if f.path.startswith(prefix)))
        check_folder(own, folder, repo_cache.record_path(folder))
