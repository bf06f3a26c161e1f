"""Where a bioimage.io model lands: bioimageio.spec's cache folder, its entries, and the package folder.

* ``root``: ``$BIOIMAGEIO_CACHE_PATH`` (``~`` expanded, as bioimageio.spec's settings do), else
  ``platformdirs.user_cache_dir("bioimageio")`` computed from the call's environment
  (``$XDG_CACHE_HOME/bioimageio``, ``~/.cache/bioimageio``; ``~/Library/Caches/bioimageio`` on
  macOS). bioimageio.spec also reads ``BIOIMAGEIO_CACHE_PATH`` from a ``.env`` file in the
  working folder; zoofind does not (say it in the environment instead).
* ``entry_name``: genericache's name for a URL's verified bytes,
  ``entry__url_<sha256 of the URL>_contents_<sha256 of the bytes>``, directly in ``root``.
* ``package_dir``: ``<root>/packages/<id>/<version>/``: ``rdf.yaml`` and the files it names by a
  relative path; ``MARKER`` (written last) lists every file of the model: path -> size and sha256,
  and for a file named by URL the URL (its key is the entry's name, below ``root``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV = "BIOIMAGEIO_CACHE_PATH"
PACKAGES = "packages"
MARKER = ".zoofind-package.json"
LOCKS = ".zoofind-locks"
RDF = "rdf.yaml"
_ENTRY = re.compile(r"entry__url_[0-9a-f]{64}_contents_[0-9a-f]{64}")


def root(environ: Mapping[str, str]) -> Path:
    """bioimageio.spec's cache folder for this environment."""
    raw = environ.get(ENV, "").strip()
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    if raw:
        return home / raw[2:] if raw == "~" or raw.startswith("~/") else Path(raw)
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "bioimageio"
    if sys.platform == "win32":
        base = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "bioimageio" / "Cache"
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache") / "bioimageio"


def entry_name(url: str, sha256: str) -> str:
    """genericache's file name for ``url``'s bytes of ``sha256`` (``UrlDigest.from_str``: the URL's UTF-8)."""
    import hashlib  # lazy: search start-up (hashlib ~3 ms): rdf.py reads this module's names on cached searches

    return f"entry__url_{hashlib.sha256(url.encode('utf-8')).hexdigest()}_contents_{sha256}"


def is_entry(name: str) -> bool:
    return _ENTRY.fullmatch(name) is not None


def packages(base: Path) -> Path:
    return base / PACKAGES


def package_dir(base: Path, alias: str, version: str) -> Path:
    return base / PACKAGES / alias / version


def where(folder: Path, path: str) -> Path:
    """Where a model file is: an entry's name below the cache root, any other path in the folder."""
    return folder.parents[2] / path if is_entry(path) else folder.joinpath(*path.split("/"))


def lock_path(folder: Path, path: str) -> Path:
    """The download lock of one file (one per file: the engine fetches several at once)."""
    if is_entry(path):
        return entry_lock(folder.parents[2], path)
    import hashlib  # lazy: search start-up (hashlib ~3 ms): see entry_name

    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:24]
    return folder.parents[2] / LOCKS / f"{folder.parent.name}.{folder.name}.{digest}"


def entry_lock(base: Path, name: str) -> Path:
    """A cache entry's download lock (shared by every model that names the same URL and bytes)."""
    return base / LOCKS / name


def place_lock(folder: Path) -> Path:
    return folder.parents[2] / LOCKS / f"{folder.parent.name}.{folder.name}.place"


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The package's manifest ({"files": {path: {"size", "sha256"[, "url"]}}}), None when absent or unreadable."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return None
    clean = {k: v for k, v in files.items()
             if isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("size"), int)
             and isinstance(v.get("sha256"), str)}
    return {**data, "files": clean}


def complete(folder: Path) -> bool:
    return read_marker(folder) is not None


def versions(base: Path, alias: str) -> list[Path]:
    """The complete version folders of ``alias``, most recently placed first."""
    try:
        names = os.listdir(base / PACKAGES / alias)
    except OSError:
        return []
    folders = [base / PACKAGES / alias / n for n in names if not n.startswith(".") and complete(
        base / PACKAGES / alias / n)]
    return sorted(folders, key=lambda p: (p / MARKER).stat().st_mtime, reverse=True)
