"""kagglehub's cache for bundles (``export``/``import``): a model or dataset version is a folder
placed whole, as ``pull`` places it: its files are filled in a temporary folder beside the
version folder (``.zoofind-tmp-<version>.<hex>``), renamed onto it under the version's lock,
and kagglehub's ``.complete`` marker is written last (``model_cache.into_place``, the one
writer). Local tier only: there is no shared kagglehub cache."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from ...fetch.locks import lock_for
from ...models.bundle import FileSlot, Placement
from ...models.lock import LockedFile, LockedModel
from ..ids import parse_id
from . import dataset_cache, is_dataset, model_cache
from .datasets import DatasetHandle
from .mapping import Handle


def _folder_and_marker(model: LockedModel, root: Path) -> tuple[Path, Path]:
    """The version folder kagglehub loads below ``root`` and its completion marker."""
    ref = parse_id(model.id).ref
    if is_dataset(ref):
        d = DatasetHandle.parse(ref)
        folder = dataset_cache.version_dir(root / dataset_cache.DATASETS / d.owner / d.name, d.version or 0)
        return folder, dataset_cache.marker_path(folder)
    h = Handle.parse(ref)
    folder = model_cache.version_dir(root / model_cache.MODELS / h.variation_ref, h.version or 0)
    return folder, model_cache.marker_path(folder)


class KaggleBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        return (model_cache.cache_root(environ),)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return _folder_and_marker(model, root)[0]

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        folder, marker = _folder_and_marker(model, root)
        # Only a complete version: a folder without its marker is one kagglehub would download over.
        return (folder / file.path,) if marker.exists() else ()

    def problem(self, model: LockedModel) -> str | None:
        if not parse_id(model.id).ref.rsplit("/", 1)[-1].isdigit():
            return f"{model.id}: a Kaggle entry needs its version (.../<version>): kagglehub names its folders by it"
        return None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        folder, _marker = _folder_and_marker(model, root)
        staging = model_cache.tmp_name(folder)
        slots = tuple(FileSlot(f, staging.joinpath(*f.path.split("/")), None, (folder / f.path,)) for f in model.files)
        # The root is kagglehub's own (KAGGLEHUB_CACHE honoured): nothing for the user to set.
        return Placement(model, root, folder, slots, staging=staging)

    def in_place(self, placement: Placement) -> bool:
        folder, marker = _folder_and_marker(placement.model, placement.root)
        return marker.exists() and folder.exists()  # placed whole: nothing is half there

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        staging, m = placement.staging, placement.model
        if staging is None or not placed:
            return ()  # the version was in place already
        folder, marker = _folder_and_marker(m, placement.root)
        lock = lock_for(model_cache.place_lock(folder))
        lock.acquire()
        try:
            if marker.exists() and folder.exists():
                shutil.rmtree(staging, ignore_errors=True)  # another process placed it meanwhile
                return (f"{m.id}: placed meanwhile by another process; kept that copy",)
            model_cache.into_place(staging, folder, marker)
        finally:
            lock.release()
        return ()
