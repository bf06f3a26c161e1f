"""TF Hub's module folder as ``cache ls/verify/rm/prune/path`` see it (``protocol.Caches``).

A model is one module folder (``$TFHUB_CACHE_DIR/<sha1 of the handle URL>``, and each
shared root's ``tfhub_modules``) named by its descriptor; it was placed when its descriptor
was written (tensorflow_hub extracts with the archive's dates). TF Hub records no hashes:
verify checks that it holds files.
"""

from __future__ import annotations

from pathlib import Path

from ...caches import layout
from ...core.context import Context
from ...models.cache import CachedModel, Removal
from ..protocol import InShared
from . import module_cache


class TfhubCache(layout.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        out = []
        for root in module_cache.PLACE.tiered(ctx.environ, tier):
            for handle, folder in module_cache.scan(root):
                t = layout.tree(folder, in_shared if tier == "local" else None)
                descriptor = module_cache.descriptor_path(folder)
                used = max(t.used or 0.0, layout.placed(folder), layout.placed(descriptor)) or None
                out.append(CachedModel(f"tfhub:{handle}" if handle else f"file:{folder}", "tfhub", (), t.size, used,
                                       str(folder), str(root), tier, t.linked))
        return out

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        p = Path(model.path)
        return layout.whole(model, revision, (p, module_cache.descriptor_path(p)), (module_cache.lock_path(p),))

    def carry_out(self, removal: Removal, held: set[str]) -> None:
        layout.remove_folder(Path(removal.paths[0]), Path(removal.paths[1]))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        # A partial's target is the module's archive; its lock is the module's.
        return layout.partials(module_cache.cache_dir(ctx.environ)[0],
                               lambda t: module_cache.lock_path(t.with_name(t.name.removesuffix(".archive"))), now)
