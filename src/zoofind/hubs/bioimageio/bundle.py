"""bioimage.io packages for ``export`` and ``import``: a locked model's files go to its version
folder (an entry name: into bioimageio.spec's cache folder beside it), each renamed into place by
the import, and the manifest last (``make_visible``), as ``pull`` places them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...core.atomic import write_json
from ...fetch.locks import lock_for
from ...models.bundle import FileSlot, Placement
from ...models.lock import LockedFile, LockedModel
from ..ids import parse_id
from . import layout


class BioimageioBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        return (layout.root(environ),)  # bioimageio.spec has no shared cache

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return layout.package_dir(root, parse_id(model.id).ref, model.commit or "")

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (layout.where(self.model_path(model, root), file.path),)

    def problem(self, model: LockedModel) -> str | None:
        if not model.commit:
            return f"{model.id}: a bioimage.io model needs its version (`commit`) to be placed"
        bad = next((f.path for f in model.files if f.path == layout.MARKER or f.path.startswith(layout.LOCKS)), None)
        return f"{model.id}: {bad!r} is zoofind's own file in a bioimage.io package, not a model file" if bad else None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        folder = self.model_path(model, root)
        slots = tuple(FileSlot(f, layout.where(folder, f.path), layout.lock_path(folder, f.path),
                               (layout.where(folder, f.path),)) for f in model.files)
        return Placement(model, root, folder, slots, folders=(folder,))

    def in_place(self, placement: Placement) -> bool:
        return True  # files are placed one by one: each is checked where it would be

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        """The manifest, written last under the place lock: the folder is a model from then on."""
        folder, m = placement.path, placement.model
        lock = lock_for(layout.place_lock(folder))
        lock.acquire()
        try:
            files = {**(layout.read_marker(folder) or {"files": {}})["files"],
                     **{f.path: {"size": f.size, "sha256": f.sha256} for f in m.files}}
            write_json(folder / layout.MARKER, {"id": m.id, "version": folder.name, "files": files})
        finally:
            lock.release()
        return ()
