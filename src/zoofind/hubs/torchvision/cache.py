"""torch.hub's checkpoint folder as ``cache ls/verify/rm/prune/path`` see it (``protocol.Caches``).

A model is one checkpoint file (``$TORCH_HOME/hub/checkpoints/<name>``, and each shared
root's ``torch/hub/checkpoints``), listed under the torchvision id whose weights it holds
(from the catalog), else as ``file:<path>``; its name's hash prefix is what verify checks.
"""

from __future__ import annotations

import os
from pathlib import Path

from ... import catalog as catalog_mod
from ...caches import layout
from ...caches.flat import scan_files
from ...caches.torch_hub import PLACE, checkpoints, lock_path, scan
from ...core.context import Context
from ...fetch.integrity import hash_file
from ...models.cache import CachedModel, Problem, Removal, Verified
from ...models.transfer import Expected
from ..protocol import InShared
from .source import hash_prefix


class TorchvisionCache(layout.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        folders = PLACE.tiered(ctx.environ, tier)
        names = _names(ctx) if any(f.is_dir() for f in folders) else {}
        return scan_files(folders, scan, tier, in_shared, "torchvision", names.get)

    def matches(self, model: CachedModel, rid: str) -> bool:
        """A builder's name (``torchvision:resnet50``) names each of its cached weights."""
        return model.id.split(".", 1)[0] == rid

    def verify(self, model: CachedModel) -> Verified:
        f = Path(model.path)
        prefix = hash_prefix(f.name)
        bad = bool(prefix) and not hash_file(f, Expected()).sha256.hexdigest().startswith(prefix or "")
        return Verified(model.id, model.path, 1, os.stat(f).st_size,
                        (Problem(str(f), "hash prefix mismatch"),) if bad else ())

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        return layout.whole(model, revision, (Path(model.path),), (lock_path(Path(model.path)),))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        return layout.partials(checkpoints(ctx.environ), lock_path, now)


def _names(ctx: Context) -> dict[str, str]:
    """Checkpoint file name -> the torchvision id whose weights it holds (from the catalog)."""
    cat = catalog_mod.load(ctx)
    out: dict[str, str] = {}
    for doc in range(len(cat)):
        # The facet columns name the source without decoding: only torchvision's entries are read.
        rid, source = cat.facet(doc)[:2]
        if source != "torchvision" or cat.shadowed(doc):
            continue
        extra = cat.entry(doc).get("extra")
        url = extra.get("url") if isinstance(extra, dict) else None
        if isinstance(url, str):
            out.setdefault(url.rsplit("/", 1)[-1], rid)
    return out
