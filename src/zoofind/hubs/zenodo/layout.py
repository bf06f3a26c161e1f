"""Where a Zenodo record lands: zoofind's own store (no framework reads Zenodo).

* ``store``: ``<zoofind cache>/store/zenodo`` (``ZOOFIND_CACHE_DIR``, else the platform's cache
  folder for zoofind: ``$XDG_CACHE_HOME/zoofind``, ``~/.cache/zoofind``).
* ``folder``: ``<store>/<record id>/``, each file at its key. A record's files never change once
  it is published (a new version is a new record), so the record id and the key name the bytes.
* ``MARKER`` (``.zoofind-record.json`` in the folder), written last under the place lock, lists
  every file placed: key -> size, md5 (Zenodo's) and sha256 (computed while it downloaded). A
  folder without it is a pull in progress, not a record.
* Download locks and the place lock live in ``<store>/.zoofind-locks/``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...core.paths import cache_dir

#: What every name zoofind writes beside a record's files starts with; a file key never does.
OWN = ".zoofind"
MARKER = ".zoofind-record.json"
LOCKS = ".zoofind-locks"


def store(environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / "store" / "zenodo"


def folder(base: Path, record: str) -> Path:
    return base / record


def where(record_folder: Path, key: str) -> Path:
    return record_folder.joinpath(*key.split("/"))


def lock_path(record_folder: Path, key: str) -> Path:
    """One download lock per file (the engine fetches several at once)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return record_folder.parent / LOCKS / f"{record_folder.name}.{digest}"


def place_lock(record_folder: Path) -> Path:
    return record_folder.parent / LOCKS / f"{record_folder.name}.place"


def read_marker(record_folder: Path) -> dict[str, Any] | None:
    """The record's manifest ({"files": {key: {"size", "sha256"[, "md5"]}}, "concept"...}), None when absent
    or unreadable."""
    try:
        data = json.loads((record_folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return None
    clean = {k: v for k, v in files.items()
             if isinstance(k, str) and not k.startswith(OWN) and isinstance(v, dict)
             and isinstance(v.get("size"), int) and isinstance(v.get("sha256"), str)}
    return {**data, "files": clean}


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
