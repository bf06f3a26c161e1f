"""What every cache layout shares when it is listed, checked or removed: a tree's size and last
use, links into the shared tier, deleting without following links, and stale partials.

Each hub's ``cache`` module (``hubs/<hub>/cache.py``) reads its own layout with these;
nothing here knows a hub.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.atomic import TMP_PREFIX
from ..core.errors import UsageError
from ..fetch.partial import PREFIX
from ..models.cache import CachedModel, Problem, Removal, RemovalLocks, Verified
from . import shared

if TYPE_CHECKING:
    from ..core.context import Context

#: A partial download or temporary folder this old belongs to a pull that stopped and never resumed.
STALE_PARTIAL = 86400.0
#: A folder on its way out, renamed so that no framework sees it (left only by an interrupted rm).
TRASH_PREFIX = ".zoofind-trash-"
#: A module folder renamed away by a removal (``<sha1>.<uuid>.tmp``), left only by an interrupted rm.
_RENAMED = re.compile(r"[0-9a-f]{40}\.[0-9a-f]{32}\.tmp")


def in_shared(env: Mapping[str, str]) -> Callable[[str], bool] | None:
    """A test for "this path lies in the shared tier", or None when there is no shared tier."""
    if not shared.roots(env):
        return None
    return lambda p: shared.tier_of(Path(p), env) == "shared"


def links_elsewhere(path: str, other: Callable[[str], bool] | None) -> bool:
    """Whether ``path`` is a link whose bytes lie in the shared tier (as written or resolved)."""
    if other is None or not os.path.islink(path):
        return False
    target = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return other(target) or other(os.path.realpath(path))


@dataclass(frozen=True)
class Tree:
    size: int
    linked: int
    used: float | None
    files: int


def tree(folder: Path, other: Callable[[str], bool] | None = None) -> Tree:
    """Bytes of the files under ``folder`` (links followed), those reached through a link into
    the shared tier apart, and the newest time any of it was written or read.

    Folders count for the time too: a file added or removed changes its folder's.
    """
    size = linked = files = 0
    used: float | None = None
    stack = [(str(folder), other is not None and links_elsewhere(str(folder).rstrip(os.sep), other))]
    seen: set[tuple[int, int]] = set()
    while stack:
        path, far = stack.pop()
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in seen:
                continue  # a link back up the tree
            seen.add((st.st_dev, st.st_ino))
            used = max(used or 0.0, st.st_mtime)
            try:
                names = os.listdir(path)
            except OSError:
                continue
            for name in names:
                child = os.path.join(path, name)
                stack.append((child, far or links_elsewhere(child, other)))
        else:
            files += 1
            used = max(used or 0.0, st.st_atime, st.st_mtime)
            if far:
                linked += st.st_size
            else:
                size += st.st_size
    return Tree(size, linked, used, files)


def placed(p: Path) -> float:
    """When ``p`` was written, as itself (a link: when it was made) or what it leads to; 0 when absent."""
    try:
        own = os.lstat(p).st_mtime
    except OSError:
        return 0.0
    return max(own, mtime(p))


def mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def listdir(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def regular_bytes(path: str) -> int:
    """Bytes of the regular files at or below ``path``, links not followed: what deleting it frees."""
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    if stat.S_ISREG(st.st_mode):
        return st.st_size
    if not stat.S_ISDIR(st.st_mode):
        return 0
    size = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                if stat.S_ISREG(st.st_mode):
                    size += st.st_size
    return size


def delete(path: str) -> None:
    """A file, a link (never what it points to) or a folder tree."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def remove_folder(folder: Path, marker: Path) -> None:
    """Remove a model placed as a folder with a marker beside it (what makes it count for its framework):
    the folder renamed away first (it vanishes whole), then the marker, then the bytes; a link into
    the shared tier: only the link."""
    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        away = folder.with_name(f"{folder.name}.{uuid.uuid4().hex}.tmp")
        os.rename(folder, away)
        marker.unlink(missing_ok=True)
        shutil.rmtree(away, ignore_errors=True)
        return
    marker.unlink(missing_ok=True)


def whole(m: CachedModel, revision: str | None, paths: Iterable[Path], locks: Iterable[Path] = ()) -> Removal:
    """The removal of a model that has no revisions: ``paths`` in the order given, freeing its size."""
    if revision:
        raise UsageError(f"{m.id} has no revisions to remove one of", hint=f"zoofind cache rm {m.id}")
    return Removal(m.id, None, tuple(map(str, paths)), m.size, m.source, m.cache, locks=tuple(map(str, locks)))


def partials(folder: Path, lock_of: Callable[[Path], Path], now: float,
             also: Callable[[str], bool] = lambda name: False) -> list[Removal]:
    """The stale partial downloads, temporary files and trash in ``folder`` (``also``: a layout's own
    leftovers), each with the download lock (``lock_of`` its target) a resuming pull takes."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        name = p.name
        stale = name.startswith((PREFIX, TMP_PREFIX, TRASH_PREFIX)) or also(name) or (
            p.is_dir() and _RENAMED.fullmatch(name) is not None)
        try:
            age = now - p.stat().st_mtime
        except OSError:
            continue
        if not stale or age <= STALE_PARTIAL or name.endswith(".lock"):
            continue
        # The download it belongs to: taking its lock keeps a pull that resumes right now safe.
        lock = (str(lock_of(folder / name[len(PREFIX):].removesuffix(".json"))),) if name.startswith(PREFIX) else ()
        out.append(Removal(f"partial:{name}", None, (str(p),), regular_bytes(str(p)), "partial", str(folder),
                           locks=lock))
    return out


class PlainLayout:
    """The parts of ``hubs.protocol.Caches`` a layout of plain files or folders without revisions shares:
    a model is its path (no other name names it), verified to hold files (no hashes recorded), removed
    by deleting its ``paths`` in order under its download locks, with no partials of its own."""

    def matches(self, model: CachedModel, rid: str) -> bool:
        return False

    def verify(self, model: CachedModel) -> Verified:
        t = tree(Path(model.path))
        return Verified(model.id, model.path, t.files, t.size, () if t.files else (Problem(model.path, "empty"),))

    def revision_path(self, ctx: Context, ref: str, revision: str) -> str | None:
        return None

    def settle(self, removals: Sequence[Removal]) -> list[Removal]:
        return list(removals)

    def locks(self, removal: Removal) -> RemovalLocks:
        return RemovalLocks(downloads=removal.locks)

    def carry_out(self, removal: Removal, held: set[str]) -> None:
        for p in removal.paths:
            delete(p)

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        return []
