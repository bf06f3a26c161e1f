"""zoofind's store of GitHub release assets as ``cache ls/verify/rm/prune/path`` see it.

A model is one release's folder with its manifest (``layout.MARKER``), named by the release's id;
``.../<tag>/<asset>`` names it too when that asset was pulled. Verify re-hashes every asset against
the sha256 the manifest recorded. Removing a release takes its manifest first (from then on it is no
release), then the folder. Local tier only: the store is zoofind's own, not a framework's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...caches import layout as common
from ...caches.manifest import ManifestStore
from ...core.context import Context
from ...models.cache import CachedModel, Removal, Verified
from ..protocol import InShared
from . import SPEC, layout


class ReleaseCache(common.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        s = layout.store(ctx.environ)
        out = []
        for folder in s.folders():
            files = s.marked(folder)
            size = sum(int(m["size"]) for k, m in files.items() if s.where(folder, k).is_file())
            used = max(common.tree(folder).used or 0.0, common.placed(folder / layout.MARKER)) or None
            out.append(CachedModel(layout.ref_of(s, folder).release_id, SPEC.name, (), size, used, str(folder),
                                   str(s.base), "local"))
        return out

    def matches(self, model: CachedModel, rid: str) -> bool:
        """``.../<tag>/<asset>`` names the release when that asset is in it."""
        head, slash, asset = rid.rpartition("/")
        return bool(slash) and head == model.id and asset in _store_of(model).marked(Path(model.path))

    def verify(self, model: CachedModel) -> Verified:
        s = _store_of(model)
        size, problems = s.verify(Path(model.path))
        return Verified(model.id, model.path, len(s.marked(Path(model.path))), size, problems)

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        s, folder = _store_of(model), Path(model.path)
        return common.whole(model, revision, (folder / layout.MARKER, folder),
                            (s.place_lock(folder), *(s.lock_path(folder, k) for k in s.marked(folder))))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        s = layout.store(ctx.environ)
        out = []
        for owner in common.listdir(str(s.base)):
            for repo in common.listdir(str(s.base / owner)) if not owner.startswith(".") else ():
                for tag in common.listdir(str(s.base / owner / repo)):
                    out += common.partials(s.folder(owner, repo, tag), _lock_of(s, s.folder(owner, repo, tag)), now)
        return out


def _store_of(model: CachedModel) -> ManifestStore:
    """The store a scanned model came from (its ``cache`` is the store's root)."""
    return layout.at(Path(model.cache))


def _lock_of(s: ManifestStore, folder: Path) -> Callable[[Path], Path]:
    """The download lock of a partial's target in ``folder``."""
    return lambda target: s.lock_path(folder, target.name)
