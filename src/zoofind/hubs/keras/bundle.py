"""Keras's models folder for bundles: a locked file is a weights file by its own name, renamed
into place under the lock ``pull`` takes (``caches.flat``)."""

from __future__ import annotations

from ...caches.flat import FlatBundles
from .home import PLACE, lock_path, models_dir


class KerasBundles(FlatBundles):
    what = "Keras weights file"
    place = PLACE
    home = staticmethod(models_dir)
    lock_of = staticmethod(lock_path)

    def bad_name(self, path: str) -> bool:
        return "/" in path or path.startswith(".")
