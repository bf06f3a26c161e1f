"""zoofind's store of GitHub release assets as ``cache ls/verify/rm/prune/path`` see it.

A model is one release's folder with its manifest (``layout.MARKER``), named by the release's id;
``.../<tag>/<asset>`` names it too when that asset was pulled. Its assets are where the manifest says:
in the folder, or in the folder of the library that reads them (``layout``); its path is that one
file when the release's only asset here sits in a library's folder (what the library loads), else the
release's folder. Verify re-hashes every asset against the sha256 the manifest recorded. Removing a
release takes its manifest first (from then on it is no release), then the assets in libraries'
folders, then the folder. Local tier only: the store is zoofind's own, and a library's folder holds
only what that one library reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...caches import layout as common
from ...caches.manifest import LOCKS, ManifestStore
from ...core.context import Context
from ...models.cache import CachedModel, Removal, Verified
from ..protocol import InShared
from . import SPEC, layout, loaders, read_ref
from .layout import ReleaseStore


class ReleaseCache(common.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        s = layout.store(ctx.environ)
        out = []
        for folder in s.folders():
            here = {k: s.path_of(folder, k, m) for k, m in s.marked(folder).items()}
            here = {k: p for k, p in here.items() if p.is_file()}
            size = sum(p.stat().st_size for p in here.values())
            away = [p for k, p in here.items() if layout.outside(s, folder, k, p)]
            # A library reading its file counts as a use of the release (its atime moves).
            used = max([common.tree(folder).used or 0.0, common.placed(folder / layout.MARKER),
                        *(common.tree(p).used or 0.0 for p in away)]) or None
            path = away[0] if len(here) == 1 and away else folder
            out.append(CachedModel(layout.ref_of(s, folder).release_id, SPEC.name, (), size, used, str(path),
                                   str(s.base), "local"))
        return out

    def matches(self, model: CachedModel, rid: str) -> bool:
        """``.../<tag>/<asset>`` names the release when that asset is in it."""
        head, slash, asset = rid.rpartition("/")
        return bool(slash) and head == model.id and asset in _store_of(model).marked(_folder(model))

    def verify(self, model: CachedModel) -> Verified:
        s = _store_of(model)
        size, problems = s.verify(_folder(model))
        return Verified(model.id, model.path, len(s.marked(_folder(model))), size, problems)

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        s, folder = _store_of(model), _folder(model)
        marks = s.marked(folder)
        away = [p for k, m in marks.items() if layout.outside(s, folder, k, p := s.path_of(folder, k, m))]
        return common.whole(model, revision, (folder / layout.MARKER, *away, folder),
                            (s.place_lock(folder), *(s.lock_path(folder, k) for k in marks)))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        s = layout.store(ctx.environ)
        out = []
        for owner in common.listdir(str(s.base)):
            for repo in common.listdir(str(s.base / owner)) if not owner.startswith(".") else ():
                for tag in common.listdir(str(s.base / owner / repo)):
                    out += common.partials(s.folder(owner, repo, tag), _lock_of(s, s.folder(owner, repo, tag)), now)
        # The partials a pull left in a library's folder, each with the lock of the asset it was becoming.
        homes: dict[Path, dict[str, Path]] = {}
        for row in loaders.table().values():
            home = row.folder(ctx.environ)
            if home is not None and row.ref.asset:
                lock = s.lock_path(layout.folder(s, row.ref), row.ref.asset)
                homes.setdefault(home, {}).update({row.file: lock, layout.STAGED + row.file: lock})
        for home, locks in homes.items():
            out += common.partials(home, _lock_in(locks, s.base / LOCKS / "partials"), now,
                                   also=lambda name: name.startswith(layout.STAGED))
        return out


def _store_of(model: CachedModel) -> ReleaseStore:
    """The store a scanned model came from (its ``cache`` is the store's root)."""
    return layout.at(Path(model.cache))


def _folder(model: CachedModel) -> Path:
    """The release's folder in the store (its path may be its one asset, in a library's folder)."""
    r = read_ref(model.id.split(":", 1)[1])
    return layout.folder(_store_of(model), r)


def _lock_in(locks: dict[str, Path], other: Path) -> Callable[[Path], Path]:
    """The download lock of a partial's target in a library's folder (``other``: a file no table names)."""
    return lambda target: locks.get(target.name, other)


def _lock_of(s: ManifestStore, folder: Path) -> Callable[[Path], Path]:
    """The download lock of a partial's target in ``folder``."""
    return lambda target: s.lock_path(folder, target.name)
