"""kagglehub's model cache as ``cache ls/verify/rm/prune/path`` see it (``protocol.Caches``).

A model is one version folder (``models/<owner>/<model>/<framework>/<variation>/<version>``)
with its ``.complete`` marker, written after the files by kagglehub and zoofind alike (so
it is when the version was placed). Local tier only: the shared tier has no kagglehub
cache. kagglehub records no hashes: verify checks that it holds files.
"""

from __future__ import annotations

from pathlib import Path

from ...caches import layout
from ...core.context import Context
from ...models.cache import CachedModel, Removal
from ..protocol import InShared
from . import model_cache


class KaggleCache(layout.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        out = []
        for handle, folder in model_cache.scan(ctx.environ):
            t = layout.tree(folder, in_shared)
            used = max(t.used or 0.0, layout.placed(model_cache.marker_path(folder))) or None
            out.append(CachedModel(f"kaggle:{handle}", "kaggle", (), t.size, used, str(folder),
                                   str(model_cache.cache_root(ctx.environ)), "local", t.linked))
        return out

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        p = Path(model.path)
        # The marker first: kagglehub then ignores the folder.
        return layout.whole(model, revision, (model_cache.marker_path(p), p))
