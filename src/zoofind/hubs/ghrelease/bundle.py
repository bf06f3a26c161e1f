"""GitHub release assets for ``export`` and ``import``: a locked release's assets go to its folder in
zoofind's store, each renamed into place by the import under the lock ``pull`` takes, and the
manifest last (``make_visible``), as ``pull`` places them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...models.bundle import FileSlot, Placement
from ...models.files import FileEntry
from ...models.lock import LockedFile, LockedModel
from ...models.pull import ModelPlan, PlannedFile
from . import SPEC, layout
from .pull import ReleaseLock, parse_release, place_files


class ReleaseBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        return (layout.store(environ).base,)  # zoofind's own store has no shared tier

    def _folder(self, model: LockedModel, root: Path) -> Path:
        return layout.folder(layout.at(root), parse_release(model.id))

    def model_path(self, model: LockedModel, root: Path) -> Path:
        asset = parse_release(model.id).asset
        folder = self._folder(model, root)
        return folder / asset if asset else folder

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (self._folder(model, root) / file.path,)

    def problem(self, model: LockedModel) -> str | None:
        return ReleaseLock().problem(model)

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        s, folder = layout.at(root), self._folder(model, root)
        slots = tuple(FileSlot(f, folder / f.path, s.lock_path(folder, f.path), (folder / f.path,))
                      for f in model.files)
        return Placement(model, root, self.model_path(model, root), slots, folders=(folder,))

    def in_place(self, placement: Placement) -> bool:
        return True  # files are placed one by one: each is checked where it would be

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        """The manifest, written last under the place lock: the folder is a release from then on."""
        m = placement.model
        folder = self._folder(m, placement.root)
        files = tuple(PlannedFile(FileEntry(f.path, "", f.size, f.sha256), None, folder / f.path) for f in m.files)
        place_files(ModelPlan(m.id, SPEC.name, commit=m.commit, path=folder, files=files), layout.at(placement.root),
                    folder, {})
        return ()
