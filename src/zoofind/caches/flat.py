"""A flat folder of models that are one file each (torch.hub's checkpoints, Keras's models
folder): what listing it and bundling it take, shared by the hubs whose layouts are of this kind.

A file is visible by its own rename (the fetch engine's, an import's), so a bundle places each
locked file by its name in the folder under the lock ``pull`` takes, and nothing more is made
visible afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from ..models.bundle import FileSlot, Placement
from ..models.cache import CachedModel
from ..models.lock import LockedFile, LockedModel
from . import layout
from .shared import Place


def scan_files(folders: Sequence[Path], files: Callable[[Path], Iterable[Path]], tier: str,
               in_shared: Callable[[str], bool] | None, hub: str,
               id_of: Callable[[str], str | None]) -> list[CachedModel]:
    """Each file ``files`` lists in ``folders`` as a model of ``hub``: under the id ``id_of`` gives its
    name, else ``file:<path>``; in the local tier a link into the shared tier counts as linked bytes."""
    out = []
    for folder in folders:
        for f in files(folder):
            try:
                st = f.stat()
            except OSError:
                continue
            linked = tier == "local" and layout.links_elsewhere(str(f), in_shared)
            used = max(st.st_atime, st.st_mtime, layout.placed(f))
            out.append(CachedModel(id_of(f.name) or f"file:{f}", hub, (), 0 if linked else st.st_size, used,
                                   str(f), str(folder), tier, st.st_size if linked else 0))
    return out


class FlatBundles:
    """``protocol.Bundles`` for a flat folder: a subclass names its folder, place and lock rule."""

    #: what one file is called in a refusal ("checkpoint file", "Keras weights file")
    what = "file"
    place: Place
    home: Callable[[Mapping[str, str]], Path]
    lock_of: Callable[[Path], Path]

    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        own = self.home(environ)
        return (own, *self.place.shared(environ)) if shared else (own,)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return root / model.files[0].path

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (root / file.path,)

    def bad_name(self, path: str) -> bool:
        return "/" in path

    def problem(self, model: LockedModel) -> str | None:
        bad = next((f.path for f in model.files if self.bad_name(f.path)), None)
        return f"{model.id}: {bad!r} is not a {self.what} name" if bad else None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        slots = tuple(FileSlot(f, root / f.path, self.lock_of(root / f.path), (root / f.path,)) for f in model.files)
        return Placement(model, root, self.model_path(model, root), slots)

    def in_place(self, placement: Placement) -> bool:
        return True

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        return ()  # a file is visible by its own rename
