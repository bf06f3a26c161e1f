"""kagglehub's model and dataset caches as ``cache ls/verify/rm/prune/path`` see them (``protocol.Caches``).

A model is one version folder (``models/<owner>/<model>/<framework>/<variation>/<version>``)
with its ``.complete`` marker beside it; a dataset is one version folder
(``datasets/<owner>/<name>/versions/<version>``) with its ``<version>.complete`` marker beside
``versions/``. kagglehub and zoofind alike write the marker after the files (so it is when the
version was placed). An id without a version names every cached version of it, newest first
(``cache path`` answers the newest, ``cache rm`` removes them all). Local tier only: the shared
tier has no kagglehub cache. kagglehub records no hashes: verify checks that a version holds files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...caches import layout
from ...core.context import Context
from ...models.cache import CachedModel, Removal
from ..protocol import InShared
from . import dataset_cache, is_dataset, model_cache


class KaggleCache(layout.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        root = str(model_cache.cache_root(ctx.environ))
        found: list[tuple[str, Path, Callable[[Path], Path], str]] = [
            *((h, f, model_cache.marker_path, "model") for h, f in model_cache.scan(ctx.environ)),
            *((h, f, dataset_cache.marker_path, "dataset") for h, f in dataset_cache.scan(ctx.environ)),
        ]
        out = []
        for handle, folder, marker, kind in found:
            t = layout.tree(folder, in_shared)
            used = max(t.used or 0.0, layout.placed(marker(folder))) or None
            out.append(CachedModel(f"kaggle:{handle}", "kaggle", (), t.size, used, str(folder), root, "local",
                                   t.linked, kind=kind))
        # Newest version first within each model or dataset: what an id without a version names first
        # (`cache path`), as kagglehub's handle without one means the newest.
        return sorted(out, key=lambda m: (_unversioned(m.id), -int(m.id.rsplit("/", 1)[1])))

    def matches(self, model: CachedModel, rid: str) -> bool:
        """An id without a version names every cached version of its model or dataset."""
        return _unversioned(model.id) == rid and rid != model.id

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        p = Path(model.path)
        # The marker first: kagglehub then ignores the folder; a model's per-file markers go with it.
        if is_dataset(model.id.partition(":")[2]):
            return layout.whole(model, revision, (dataset_cache.marker_path(p), p))
        return layout.whole(model, revision, (model_cache.marker_path(p), p, model_cache.file_markers_dir(p)))


def _unversioned(rid: str) -> str:
    return rid.rsplit("/", 1)[0]
