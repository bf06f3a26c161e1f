"""tinyhub's bundle ability: a model is ``<home>/<name>/``; an import fills a folder beside it and
renames it into place, then writes ``.complete`` (last: without it the folder is partial)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from zoofind.hubs.ids import parse_id
from zoofind.models.bundle import FileSlot, Placement
from zoofind.models.lock import LockedFile, LockedModel

from .source import PLACE, home

MARKER = ".complete"


class TinyBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        return (home(environ), *PLACE.shared(environ)) if shared else (home(environ),)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return root / parse_id(model.id).ref

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        folder = self.model_path(model, root)
        return (folder / file.path,) if (folder / MARKER).is_file() else ()  # a partial folder is no model

    def problem(self, model: LockedModel) -> str | None:
        bad = next((f.path for f in model.files if f.path == MARKER), None)
        return f"{model.id}: {bad!r} is tinyhub's own marker, not a model file" if bad else None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        path = self.model_path(model, root)
        staging = root / f"{path.name}.{os.urandom(16).hex()}.tmp"  # no model name has a dot
        slots = tuple(FileSlot(f, staging / f.path, None, (path / f.path,)) for f in model.files)
        return Placement(model, root, path, slots, staging=staging)

    def in_place(self, placement: Placement) -> bool:
        return (placement.path / MARKER).is_file()

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        if placement.staging is None or not placed:
            return ()
        if not (placement.path / MARKER).is_file():
            shutil.rmtree(placement.path, ignore_errors=True)  # partial: not a model
        os.rename(placement.staging, placement.path)
        (placement.path / MARKER).write_text("")
        return ()
