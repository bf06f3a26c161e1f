"""GitHub release assets for ``export`` and ``import``: a locked release's assets go where ``pull`` puts
them (the folder of the library that reads one, else the release's folder in zoofind's store), each
renamed into place by the import under the lock ``pull`` takes, and the manifest last
(``make_visible``), as ``pull`` places them."""

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
        return self._at(folder, asset, root) if asset else folder

    def _at(self, folder: Path, name: str, root: Path) -> Path:
        """Where the manifest says the asset is (in a library's folder, or in the store's)."""
        s = layout.at(root)
        return s.path_of(folder, name, s.marked(folder).get(name, {}))

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        folder = self._folder(model, root)
        return tuple(dict.fromkeys((self._at(folder, file.path, root), folder / file.path)))

    def problem(self, model: LockedModel) -> str | None:
        return ReleaseLock().problem(model)

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        """Each asset where its library reads it here (``layout.target``), else in the store's folder."""
        s, r = layout.at(root), parse_release(model.id)
        folder = layout.folder(s, r)
        targets = {f.path: layout.target(s, folder, r, f.path, environ)[0] for f in model.files}
        slots = tuple(FileSlot(f, targets[f.path], s.lock_path(folder, f.path), (targets[f.path],))
                      for f in model.files)
        path = targets.get(r.asset, folder) if r.asset else folder
        homes = (t.parent for t in targets.values() if t.parent != folder)
        return Placement(model, root, path, slots, folders=tuple(dict.fromkeys((folder, *homes))))

    def in_place(self, placement: Placement) -> bool:
        return True  # files are placed one by one: each is checked where it would be

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        """The manifest, written last under the place lock: the folder is a release from then on."""
        m = placement.model
        folder = self._folder(m, placement.root)
        files = tuple(PlannedFile(FileEntry(slot.file.path, "", slot.file.size, slot.file.sha256), None, slot.target)
                      for slot in placement.slots)
        place_files(ModelPlan(m.id, SPEC.name, commit=m.commit, path=folder, files=files), layout.at(placement.root),
                    folder, {})
        return ()
