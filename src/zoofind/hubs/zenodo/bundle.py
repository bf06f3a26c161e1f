"""Zenodo records for ``export`` and ``import``: a locked record's files go to its folder in
zoofind's store, each renamed into place by the import under the lock ``pull`` takes, and the
manifest last (``make_visible``), as ``pull`` places them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...models.bundle import FileSlot, Placement
from ...models.files import FileEntry
from ...models.lock import LockedFile, LockedModel
from ...models.pull import ModelPlan, PlannedFile
from ..ids import parse_id
from . import SPEC, layout
from .pull import ZenodoLock, key_of, place_files


class ZenodoBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        return (layout.store(environ),)  # zoofind's own store has no shared tier

    def model_path(self, model: LockedModel, root: Path) -> Path:
        folder = layout.folder(root, model.commit or "")
        key = key_of(parse_id(model.id))
        return layout.where(folder, key) if key else folder

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (layout.where(layout.folder(root, model.commit or ""), file.path),)

    def problem(self, model: LockedModel) -> str | None:
        return ZenodoLock().problem(model)

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        folder = layout.folder(root, model.commit or "")
        slots = tuple(FileSlot(f, layout.where(folder, f.path), layout.lock_path(folder, f.path),
                               (layout.where(folder, f.path),)) for f in model.files)
        return Placement(model, root, self.model_path(model, root), slots, folders=(folder,))

    def in_place(self, placement: Placement) -> bool:
        return True  # files are placed one by one: each is checked where it would be

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        """The manifest, written last under the place lock: the folder is a record from then on."""
        m = placement.model
        folder = layout.folder(placement.root, m.commit or "")
        files = tuple(PlannedFile(FileEntry(f.path, "", f.size, f.sha256), None, layout.where(folder, f.path))
                      for f in m.files)
        place_files(ModelPlan(m.id, SPEC.name, commit=m.commit, path=folder, files=files), folder, {})
        return ()
