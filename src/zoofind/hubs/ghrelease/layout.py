"""Where a release's assets land: zoofind's own store (no library reads GitHub releases generally).

``<zoofind cache>/store/ghrelease/<owner>/<repo>/<tag>/<asset>`` (``ZOOFIND_CACHE_DIR``, else the
platform's cache folder for zoofind), with the manifest ``.zoofind-release.json`` written last:
asset -> size and sha256 (GitHub's digest, or computed while it arrived), the release's id and
what zoofind kept of the release's JSON (offline ``info`` and ``cite`` read it). The store's
rules are ``caches.manifest``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...caches.manifest import ManifestStore
from ...core.paths import cache_dir
from . import SPEC, ReleaseRef

MARKER = ".zoofind-release.json"


def store(environ: Mapping[str, str]) -> ManifestStore:
    return at(cache_dir(environ) / "store" / SPEC.name)


def at(base: Path) -> ManifestStore:
    """The store rooted at ``base`` (a scanned model's cache, an import's root)."""
    return ManifestStore(base, MARKER, 3)


def folder(s: ManifestStore, r: ReleaseRef) -> Path:
    return s.folder(r.owner, r.repo, r.tag)


def ref_of(s: ManifestStore, release_folder: Path) -> ReleaseRef:
    owner, repo, tag = release_folder.relative_to(s.base).parts
    return ReleaseRef(owner, repo, tag)
