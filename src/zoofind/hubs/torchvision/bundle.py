"""torch.hub's checkpoints folder for bundles: a locked file is a checkpoint file by its own name,
renamed into place under the lock ``pull`` takes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...caches.torch_hub import PLACE, checkpoints, lock_path
from ...models.bundle import FileSlot, Placement
from ...models.lock import LockedFile, LockedModel


class TorchvisionBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        own = checkpoints(environ)
        return (own, *PLACE.shared(environ)) if shared else (own,)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return root / model.files[0].path

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (root / file.path,)

    def problem(self, model: LockedModel) -> str | None:
        bad = next((f.path for f in model.files if "/" in f.path), None)
        return f"{model.id}: {bad!r} is not a checkpoint file name" if bad else None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        slots = tuple(FileSlot(f, root / f.path, lock_path(root / f.path), (root / f.path,)) for f in model.files)
        return Placement(model, root, self.model_path(model, root), slots)

    def in_place(self, placement: Placement) -> bool:
        return True

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        return ()  # a checkpoint is visible by its own rename

