"""zoofind's Zenodo store as ``cache ls/verify/rm/prune/path`` see it (``protocol.Caches``).

A model is one record's folder with its manifest (``layout.MARKER``); ``zenodo:<id>/<key>`` names
it too when that file was pulled. Verify re-hashes every file against the sha256 (and Zenodo's md5)
the manifest recorded. Removing a record takes its manifest first (from then on it is no record),
then the folder. Local tier only: the store is zoofind's own, not a framework's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...caches import layout as common
from ...core.context import Context
from ...models.cache import CachedModel, Removal, Verified
from ..protocol import InShared
from . import layout


class ZenodoCache(common.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        base = layout.store(ctx.environ)
        out = []
        for folder in layout.records(base):
            files = layout.marked(folder)
            size = sum(int(m["size"]) for k, m in files.items() if layout.where(folder, k).is_file())
            used = max(common.tree(folder).used or 0.0, common.placed(folder / layout.MARKER)) or None
            out.append(CachedModel(f"zenodo:{folder.name}", "zenodo", (), size, used, str(folder), str(base), "local"))
        return out

    def matches(self, model: CachedModel, rid: str) -> bool:
        """``zenodo:<id>/<key>`` names the record when that file is in it."""
        head, slash, key = rid.partition("/")
        return bool(slash) and head == model.id and key in layout.marked(Path(model.path))

    def verify(self, model: CachedModel) -> Verified:
        folder = Path(model.path)
        size, problems = layout.verify(folder)
        return Verified(model.id, model.path, len(layout.marked(folder)), size, problems)

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        folder = Path(model.path)
        return common.whole(model, revision, (folder / layout.MARKER, folder),
                            (layout.place_lock(folder), *(layout.lock_path(folder, k) for k in layout.marked(folder))))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        base = layout.store(ctx.environ)
        out = []
        for name in common.listdir(str(base)):
            if name.isdigit():
                out += common.partials(base / name, _lock_of(base / name), now)
        return out


def _lock_of(folder: Path) -> Callable[[Path], Path]:
    """The download lock of a partial's target in ``folder``."""
    return lambda target: layout.lock_path(folder, target.relative_to(folder).as_posix())
