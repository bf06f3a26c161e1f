"""TF Hub's cache for bundles: a module is a folder named by its handle's sha1, placed whole: its
files are filled in a temporary folder beside it, renamed into place with its descriptor by
``module_cache.place`` (the one writer, which ``pull`` uses too)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ...fetch.locks import lock_for
from ...models.bundle import FileSlot, Placement
from ...models.lock import LockedFile, LockedModel
from ..ids import parse_id
from . import module_cache


class TfhubBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        own = module_cache.cache_dir(environ)[0]
        return (own, *module_cache.PLACE.shared(environ)) if shared else (own,)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return root / module_cache.module_name(parse_id(model.id).ref)

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        return (self.model_path(model, root) / file.path,)

    def problem(self, model: LockedModel) -> str | None:
        return None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        path = self.model_path(model, root)
        # The name cache prune recognises, as module_cache.install's: <sha1>.<32 hex>.tmp
        staging = path.with_name(f"{path.name}.{os.urandom(16).hex()}.tmp")
        notes: tuple[str, ...] = ()
        if not module_cache.cache_dir(environ)[1]:
            notes = (f"TF Hub modules are in {root}; for tensorflow_hub to find them there: "
                     f"export {module_cache.ENV}={root}",)
        slots = tuple(FileSlot(f, staging / f.path, None, (path / f.path,)) for f in model.files)
        return Placement(model, root, path, slots, notes, staging=staging)

    def in_place(self, placement: Placement) -> bool:
        return module_cache.present(placement.path)  # renamed whole: nothing is half there

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        staging, m = placement.staging, placement.model
        if staging is None or not placed:
            return ()  # the module was in place already
        lock = lock_for(module_cache.lock_path(placement.path))
        lock.acquire()
        try:
            # The descriptor as pull writes it: the locked archive's sha256 and size, for a lock written here later.
            if not module_cache.place(staging, placement.path, parse_id(m.id).ref, m.archive):
                shutil.rmtree(staging, ignore_errors=True)  # another process installed it meanwhile
                return (f"{m.id}: installed meanwhile by another process; kept that copy",)
        finally:
            lock.release()
        return ()

