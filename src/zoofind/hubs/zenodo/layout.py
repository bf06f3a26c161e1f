"""Where a Zenodo record lands: zoofind's own store (no framework reads Zenodo).

* ``store``: ``<zoofind cache>/store/zenodo`` (``ZOOFIND_CACHE_DIR``, else the platform's cache
  folder for zoofind: ``$XDG_CACHE_HOME/zoofind``, ``~/.cache/zoofind``).
* ``folder``: ``<store>/<record id>/``, each file at its key. A record's files never change once
  it is published (a new version is a new record), so the record id and the key name the bytes.
* ``MARKER`` (``.zoofind-record.json`` in the folder), written last under the place lock, lists
  every file placed: key -> size, md5 (Zenodo's) and sha256 (computed while it downloaded). A
  folder without it is a pull in progress, not a record.
* Download locks and the place lock live in ``<store>/.zoofind-locks/`` (``caches.manifest``'s rules).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...caches import OWN
from ...core.paths import cache_dir

if TYPE_CHECKING:
    from ...caches.manifest import ManifestStore
    from ...models.cache import Problem

MARKER = ".zoofind-record.json"
#: What every name zoofind writes beside a record's files starts with; a file key never does.
ZOOFIND_OWN = OWN


def store(environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / "store" / "zenodo"


def folder(base: Path, record: str) -> Path:
    return base / record


def _store(base: Path) -> ManifestStore:
    # lazy: the manifest's hashing and locks only for a placed record: the search path reads ZOOFIND_OWN alone
    from ...caches.manifest import ManifestStore

    return ManifestStore(base, MARKER, 1)


def where(record_folder: Path, key: str) -> Path:
    return _store(record_folder.parent).where(record_folder, key)


def lock_path(record_folder: Path, key: str) -> Path:
    """One download lock per file (the engine fetches several at once)."""
    return _store(record_folder.parent).lock_path(record_folder, key)


def place_lock(record_folder: Path) -> Path:
    return _store(record_folder.parent).place_lock(record_folder)


def read_marker(record_folder: Path) -> dict[str, Any] | None:
    """The record's manifest ({"files": {key: {"size", "sha256"[, "md5"]}}, "concept"...}), None when absent
    or unreadable."""
    return _store(record_folder.parent).read(record_folder)


def verify(record_folder: Path) -> tuple[int, tuple[Problem, ...]]:
    """(bytes read, problems): every file re-hashed against the manifest's sha256 and md5."""
    return _store(record_folder.parent).verify(record_folder)


def marked(record_folder: Path) -> dict[str, Any]:
    """key -> manifest entry ({} when the folder is no record)."""
    marker = read_marker(record_folder)
    return marker["files"] if marker else {}


def records(base: Path) -> list[Path]:
    """The complete record folders of the store, by record id."""
    try:
        names = sorted(os.listdir(base), key=lambda n: (len(n), n))
    except OSError:
        return []
    return [base / n for n in names if n.isdigit() and read_marker(base / n) is not None]
