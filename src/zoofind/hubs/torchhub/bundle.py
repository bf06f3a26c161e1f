"""torch.hub's cache for bundles: a repository's files below ``$TORCH_HOME/hub`` by their locked paths
(``<folder>/<path>``, ``checkpoints/<name>``). A folder not yet there is filled in a temporary folder
beside it and renamed into place with zoofind's record; checkpoints are renamed onto their own names
under the lock ``pull`` takes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ...caches import torch_hub
from ...fetch.locks import lock_for
from ...models.bundle import FileSlot, Placement
from ...models.lock import LockedFile, LockedModel
from . import read_ref, repo_cache


def _folder(model: LockedModel, root: Path) -> Path:
    r = read_ref(model.id.partition(":")[2], model.revision)
    return root / repo_cache.folder_name(r.owner, r.repo, r.ref or "")


class TorchhubBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        own = torch_hub.hub_dir(environ)
        # The shared tier holds checkpoints (torch/hub/checkpoints in each root), never repository folders.
        return (own, *(p.parent for p in torch_hub.PLACE.shared(environ))) if shared else (own,)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return _folder(model, root)

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (root / file.path,)

    def problem(self, model: LockedModel) -> str | None:
        return None if model.revision else f"{model.id}: the lock records no ref (revision) to name its folder by"

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        folder = _folder(model, root)
        whole = not repo_cache.present(folder)
        staging = folder.with_name(f"{folder.name}.{os.urandom(16).hex()}.tmp") if whole else None
        prefix = folder.name + "/"
        slots = []
        for f in model.files:
            at = root / f.path
            if f.path.startswith(prefix):
                target = staging / f.path[len(prefix):] if staging is not None else at
                slots.append(FileSlot(f, target, None if staging is not None else repo_cache.lock_path(folder), (at,)))
            else:
                slots.append(FileSlot(f, at, torch_hub.lock_path(at), (at,)))
        return Placement(model, root, folder, tuple(slots), folders=(root / "checkpoints",), staging=staging)

    def in_place(self, placement: Placement) -> bool:
        return placement.staging is None  # a folder placed whole is there or not at all

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        staging, m = placement.staging, placement.model
        if staging is None:
            return ()
        if not staging.is_dir():
            return ()
        lock = lock_for(repo_cache.lock_path(placement.path))
        lock.acquire()
        try:
            if repo_cache.present(placement.path):
                shutil.rmtree(staging, ignore_errors=True)
                return (f"{m.id}: placed meanwhile by another process; kept that copy",)
            os.rename(staging, placement.path)
            r = read_ref(m.id.partition(":")[2], m.revision)
            record = repo_cache.new_record(
                r.owner, r.repo, r.ref or "", m.commit,
                [f.path.removeprefix("checkpoints/") for f in m.files if f.path.startswith("checkpoints/")],
                (m.archive.size, m.archive.sha256) if m.archive else None)
            repo_cache.write_record(placement.path, record)
        finally:
            lock.release()
        return ()
