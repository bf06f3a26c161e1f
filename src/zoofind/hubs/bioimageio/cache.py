"""bioimage.io packages as ``cache ls/verify/rm/prune/path`` see them (``protocol.Caches``).

A model is ``<root>/packages/<id>/``, its revisions the version folders that hold a manifest
(``layout.MARKER``); its size counts each file of every version once, bioimageio.spec cache
entries included. Verify re-hashes every file against the manifest. Removing a version takes
its manifest first (from then on it is no model), then its folder, then the cache entries no
other version of any model still lists. Local tier only: bioimageio.spec has no shared cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ...caches import layout as common
from ...core.context import Context
from ...core.errors import NotFoundError
from ...fetch.integrity import hash_file
from ...models.cache import CachedModel, Problem, Removal, Verified
from ...models.transfer import Expected
from ..protocol import InShared
from . import layout


def _marked(folders: Iterable[Path]) -> dict[str, dict[str, int | str]]:
    """path -> its manifest entry, over ``folders`` (a cache entry listed by two versions: once)."""
    out: dict[str, dict[str, int | str]] = {}
    for folder in folders:
        for path, mark in (layout.read_marker(folder) or {"files": {}})["files"].items():
            out[str(layout.where(folder, path))] = mark
    return out


def _entries_in_use(root: Path, leaving: set[Path]) -> set[str]:
    """The cache entries the manifests of every version not in ``leaving`` list."""
    used: set[str] = set()
    packages = layout.packages(root)
    for alias in common.listdir(str(packages)):
        for folder in layout.versions(root, alias):
            if folder not in leaving:
                used |= {p for p in (layout.read_marker(folder) or {"files": {}})["files"] if layout.is_entry(p)}
    return used


def _lock_of(folder: Path) -> Callable[[Path], Path]:
    """The download lock of a partial's target in ``folder``."""
    return lambda target: layout.lock_path(folder, target.relative_to(folder).as_posix())


class BioimageioCache(common.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        root = layout.root(ctx.environ)
        out = []
        for alias in common.listdir(str(layout.packages(root))):
            folders = layout.versions(root, alias)
            if alias.startswith(".") or not folders:
                continue
            files = _marked(folders)
            size = sum(int(m["size"]) for p, m in files.items() if os.path.isfile(p))
            used = max([common.tree(f).used or 0.0 for f in folders]
                       + [common.placed(f / layout.MARKER) for f in folders]) or None
            out.append(CachedModel(f"bioimageio:{alias}", "bioimageio", tuple(sorted(f.name for f in folders)), size,
                                   used, str(layout.packages(root) / alias), str(root), "local"))
        return out

    def verify(self, model: CachedModel) -> Verified:
        problems, size = [], 0
        root = Path(model.cache)
        files = _marked(layout.package_dir(root, model.id.partition(":")[2], v) for v in model.revisions)
        for path, mark in sorted(files.items()):
            p = Path(path)
            if not p.is_file():
                problems.append(Problem(path, "missing"))
                continue
            size += p.stat().st_size
            if hash_file(p, Expected()).sha256.hexdigest() != mark["sha256"]:
                problems.append(Problem(path, "sha256 mismatch"))
        return Verified(model.id, model.path, len(files), size, tuple(problems))

    def revision_path(self, ctx: Context, ref: str, revision: str) -> str | None:
        folder = layout.package_dir(layout.root(ctx.environ), ref, revision)
        if not layout.complete(folder):
            raise NotFoundError(f"bioimageio:{ref}@{revision} is not in the bioimage.io packages",
                                hint=f"pull it: zoofind pull bioimageio:{ref}@{revision}")
        return str(folder)

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        root, alias = Path(model.cache), model.id.partition(":")[2]
        if revision is not None and revision not in model.revisions:
            raise NotFoundError(f"{model.id}@{revision} is not cached",
                                hint=f"its versions: {', '.join(model.revisions)}")
        leaving = [layout.package_dir(root, alias, v) for v in ((revision,) if revision else model.revisions)]
        kept = _entries_in_use(root, set(leaving))
        files = _marked(leaving)
        entries = [p for p in files if layout.is_entry(Path(p).name) and Path(p).name not in kept]
        freed = sum(int(files[p]["size"]) for p in files if (not layout.is_entry(Path(p).name) or p in entries)
                    and os.path.isfile(p))
        paths = [*(f / layout.MARKER for f in leaving), *leaving, *map(Path, entries)]
        if revision is None:
            paths.append(layout.packages(root) / alias)
        locks = [layout.place_lock(f) for f in leaving]
        return Removal(model.id, revision, tuple(map(str, paths)), freed, model.source, model.cache,
                       locks=tuple(map(str, locks)))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        root = layout.root(ctx.environ)
        out = common.partials(root, lambda t: layout.entry_lock(root, t.name), now)
        packages = layout.packages(root)
        for alias in common.listdir(str(packages)):
            for version in common.listdir(str(packages / alias)):
                out += common.partials(packages / alias / version, _lock_of(packages / alias / version), now)
        return out
