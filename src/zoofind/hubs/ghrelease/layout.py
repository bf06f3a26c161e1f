"""Where a release's assets land: where the library that downloads them itself reads them, when a table
of ``loaders`` lists the asset; every other asset in zoofind's own store.

The store: ``<zoofind cache>/store/ghrelease/<owner>/<repo>/<tag>/<asset>`` (``ZOOFIND_CACHE_DIR``,
else the platform's cache folder for zoofind), with the manifest ``.zoofind-release.json`` written
last: asset -> size and sha256 (GitHub's digest, or computed while it arrived), the release's id and
what zoofind kept of the release's JSON (offline ``info`` and ``cite`` read it). The store's rules are
``caches.manifest``'s.

An asset placed in a library's folder (mace-torch's ``~/.cache/mace/macempa0mediummodel``) is listed
in the same manifest, its entry saying where it went (``at``); the release's folder in the store then
holds the manifest only. ``cache`` reads ``at`` (a manifest naming any other file than the one the
table gives for that asset is not believed: the entry counts as missing), while a pull, a lock and an
import place each asset where the library reads it now (its folder follows ``XDG_CACHE_HOME``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...caches.manifest import ManifestStore
from ...core.paths import cache_dir, inside_home
from . import SPEC, ReleaseRef, loaders

MARKER = ".zoofind-release.json"
#: Verified bytes waiting beside another file that holds an asset's place in a library's folder.
STAGED = ".zoofind-new-"
#: A manifest entry's record of the library's folder the asset was placed in.
AT = "at"


@dataclass(frozen=True)
class ReleaseStore(ManifestStore):
    def path_of(self, folder: Path, name: str, mark: Mapping[str, Any]) -> Path:
        at = mark.get(AT)
        if isinstance(at, str) and at:
            return placed_at(ref_of(self, folder), name, Path(at)) or self.where(folder, name)
        return self.where(folder, name)


def placed_at(r: ReleaseRef, name: str, at: Path) -> Path | None:
    """``at`` when it is a file a table says the asset may be placed as (an absolute path, the table's
    file name, in a folder named as the library's), else None."""
    row = loaders.row(r, name)
    ok = row is not None and at.is_absolute() and at.name == row.file and at.parent.name == row.below
    return at if ok else None


def store(environ: Mapping[str, str]) -> ReleaseStore:
    return at(cache_dir(environ) / "store" / SPEC.name)


def at(base: Path) -> ReleaseStore:
    """The store rooted at ``base`` (a scanned model's cache, an import's root)."""
    return ReleaseStore(base, MARKER, 3)


def folder(s: ManifestStore, r: ReleaseRef) -> Path:
    return s.folder(r.owner, r.repo, r.tag)


def ref_of(s: ManifestStore, release_folder: Path) -> ReleaseRef:
    owner, repo, tag = release_folder.relative_to(s.base).parts
    return ReleaseRef(owner, repo, tag)


def target(s: ManifestStore, release_folder: Path, r: ReleaseRef, name: str,
           environ: Mapping[str, str]) -> tuple[Path, loaders.Row | None]:
    """Where a pull puts asset ``name`` now, and the library that reads it there (None: zoofind's store)."""
    row = loaders.row(r, name)
    place = row.place(environ) if row is not None else None
    if place is None:
        return s.where(release_folder, name), None
    return inside_home(place.parent, environ) / place.name, row  # never made inside a home that is not there


def outside(s: ManifestStore, release_folder: Path, name: str, path: Path) -> bool:
    """Whether ``path`` is not the asset's place in the store (it went to a library's folder)."""
    return path != s.where(release_folder, name)


def staged(target: Path) -> Path:
    return target.with_name(STAGED + target.name)
