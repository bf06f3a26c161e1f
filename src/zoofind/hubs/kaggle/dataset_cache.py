"""kagglehub's dataset cache, laid out as kagglehub 1.0's ``cache.py`` lays it out::

    $KAGGLEHUB_CACHE/datasets/<owner>/<name>/versions/<version>/    the extracted files
    $KAGGLEHUB_CACHE/datasets/<owner>/<name>/<version>.complete      the marker (empty), written last

The marker sits beside ``versions/``, not beside the version folder (``_get_dataset_path`` and
``_get_datasets_completion_marker_filepath``); ``Cache.load_from_cache`` uses a version when both
exist. The path parts are the handle's own spelling; the version is a plain integer.

What zoofind adds, never inside a version folder (``model_cache``'s names, in ``versions/``):
``.zoofind-<version>.archive`` (the zip while it arrives and until it is extracted),
``.zoofind-lock-<version>`` (held while the version is made visible) and
``.zoofind-tmp-<version>.<hex>`` (the folder being filled, renamed onto ``<version>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import DATASETS
from .model_cache import MARKER_SUFFIX, cache_root

VERSIONS = "versions"


def dataset_dir(env: Mapping[str, str], owner: str, name: str) -> Path:
    return cache_root(env) / DATASETS / owner / name


def version_dir(dataset: Path, version: int) -> Path:
    return dataset / VERSIONS / str(version)


def marker_path(folder: Path) -> Path:
    """``datasets/<owner>/<name>/<version>.complete`` for the folder ``.../versions/<version>``."""
    return folder.parent.parent / (folder.name + MARKER_SUFFIX)


def present(folder: Path) -> bool:
    """kagglehub's own test: the marker and the folder both exist."""
    return marker_path(folder).exists() and folder.exists()


def versions(dataset: Path) -> list[int]:
    """The complete versions cached for a dataset, oldest first."""
    try:
        names = [p.name for p in dataset.iterdir()]
    except OSError:
        return []
    out = []
    for name in names:
        stem = name[: -len(MARKER_SUFFIX)] if name.endswith(MARKER_SUFFIX) else ""
        if stem.isdigit() and str(int(stem)) == stem and (dataset / VERSIONS / stem).is_dir():
            out.append(int(stem))
    return sorted(out)


def scan(env: Mapping[str, str]) -> list[tuple[str, Path]]:
    """(datasets/owner/name/version, folder) of each complete dataset version."""
    base = cache_root(env) / DATASETS
    out = []
    for marker in sorted(base.glob("*/*/*" + MARKER_SUFFIX)) if base.is_dir() else ():
        stem = marker.name[: -len(MARKER_SUFFIX)]
        folder = marker.parent / VERSIONS / stem
        if stem.isdigit() and str(int(stem)) == stem and folder.is_dir():
            out.append((f"{DATASETS}/{marker.parent.relative_to(base).as_posix()}/{stem}", folder))
    return out
