"""kagglehub's model cache, laid out as kagglehub's ``cache.py`` lays it out::

    $KAGGLEHUB_CACHE/models/<owner>/<model>/<framework>/<variation>/<version>/      the files
    $KAGGLEHUB_CACHE/models/<owner>/<model>/<framework>/<variation>/<version>.complete

``KAGGLEHUB_CACHE`` unset means ``~/.cache/kagglehub`` (kagglehub's ``config.py`` does not
read ``XDG_CACHE_HOME``). kagglehub's ``load_from_cache`` uses a version when both the
folder and its ``.complete`` marker (an empty file) exist; the path parts are the handle's
own spelling (``tensorFlow2`` and ``tensorflow2`` are two folders to kagglehub), and the
version is written as a plain integer.

A single file asked for (``model_download(handle, path)``, as keras_hub's ``from_preset`` asks
for each file of a preset) has its own marker, ``<variation>/.complete/<version>/<path>.complete``
(kagglehub's ``_get_models_completion_marker_filepath``); the version's marker does not answer
for it. So zoofind writes every file's marker too (``mark_files``), before the version's: both
kinds of call then find the version with no request.

What zoofind adds beside them, never inside a version folder:

* ``.zoofind-partial-<version>/``: the files of a version while they arrive (the engine's
  own partials and locks beside each), a stable name so a stopped pull continues;
* ``.zoofind-<version>.archive``: a version Kaggle sends as one archive;
* ``.zoofind-lock-<version>``: held while a version is made visible, so two processes
  never rename into the same place at once;
* ``.zoofind-tmp-<version>.<hex>``: the folder being filled, renamed onto ``<version>``
  when complete; the marker is written last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from ...core.atomic import TMP_PREFIX
from ...core.errors import ZoofindError
from ...fetch.integrity import IntegrityError
from ...fetch.locks import LOCK_PREFIX
from ...fetch.partial import PREFIX as PARTIAL_PREFIX

ENV = "KAGGLEHUB_CACHE"
MODELS = "models"
MARKER_SUFFIX = ".complete"
#: The folder of the per-file markers, beside the version folders (kagglehub's ``FILE_COMPLETION_MARKER_FOLDER``).
FILE_MARKERS = ".complete"


def cache_root(env: Mapping[str, str]) -> Path:
    """kagglehub's cache folder: ``KAGGLEHUB_CACHE``, else ``<home>/.cache/kagglehub``."""
    value = env.get(ENV)
    if value:
        return Path(value).expanduser()
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".cache" / "kagglehub"


def variation_dir(env: Mapping[str, str], owner: str, model: str, framework: str, variation: str) -> Path:
    return cache_root(env) / MODELS / owner / model / framework / variation


def version_dir(variation: Path, version: int) -> Path:
    return variation / str(version)


def marker_path(folder: Path) -> Path:
    return folder.with_name(folder.name + MARKER_SUFFIX)


def file_markers_dir(folder: Path) -> Path:
    """Where the per-file markers of a version folder sit: ``<variation>/.complete/<version>/``."""
    return folder.parent / FILE_MARKERS / folder.name


def mark_files(folder: Path) -> None:
    """Each file's own marker (empty, as kagglehub writes it), where one is missing."""
    markers = file_markers_dir(folder)
    for rel in files_of(folder):
        marker = markers.joinpath(*f"{rel}{MARKER_SUFFIX}".split("/"))
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()


def present(folder: Path) -> bool:
    """kagglehub's own test (``Cache.load_from_cache``): the marker and the folder both exist."""
    return marker_path(folder).exists() and folder.exists()


def versions(variation: Path) -> list[int]:
    """The complete versions cached for a variation, oldest first."""
    out = []
    try:
        names = [p.name for p in variation.iterdir()]
    except OSError:
        return []
    for name in names:
        stem = name[: -len(MARKER_SUFFIX)] if name.endswith(MARKER_SUFFIX) else ""
        if stem.isdigit() and str(int(stem)) == stem and (variation / stem).is_dir():
            out.append(int(stem))
    return sorted(out)


def staging_dir(folder: Path) -> Path:
    return folder.with_name(PARTIAL_PREFIX + folder.name)


def archive_path(folder: Path) -> Path:
    return folder.with_name(f".zoofind-{folder.name}.archive")


def lock_path(target: Path) -> Path:
    """The engine's lock for one download target (beside it, as every cache's)."""
    return target.with_name(LOCK_PREFIX + target.name)


def place_lock(folder: Path) -> Path:
    return folder.with_name(LOCK_PREFIX + folder.name)


def files_of(folder: Path) -> dict[str, Path]:
    """Every file below a version folder, by its path relative to it."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def tmp_name(folder: Path) -> Path:
    """A new name for the folder being filled beside ``folder`` (``.zoofind-tmp-<version>.<hex>``)."""
    return folder.with_name(f"{TMP_PREFIX}{folder.name}.{uuid.uuid4().hex}")


def fresh_tmp(folder: Path) -> Path:
    tmp = tmp_name(folder)
    tmp.mkdir(parents=True)
    return tmp


def into_place(tmp: Path, folder: Path, marker: Path) -> None:
    """The complete ``tmp`` becomes the version folder, then the marker says so."""
    if folder.is_dir() or folder.is_symlink():
        # Without its marker the folder is absent to kagglehub (it would download over it): an
        # earlier run's leftovers, moved aside first so the rename below cannot fail on them.
        aside = folder.with_name(f"{TMP_PREFIX}{folder.name}.{uuid.uuid4().hex}.old")
        os.rename(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)
    elif folder.exists():
        folder.unlink()
    os.rename(tmp, folder)
    if marker == marker_path(folder):
        # A model version: keras_hub's from_preset asks kagglehub for single files, which it
        # answers from each file's own marker only (a dataset version is asked for whole).
        mark_files(folder)
    marker.touch()  # last: kagglehub writes it empty, after the files


def install_files(staged: Mapping[str, Path], folder: Path) -> None:
    """Move verified files (relative path -> where the engine left them) into a new version folder."""
    marker = marker_path(folder)
    tmp = fresh_tmp(folder)
    try:
        for rel, src in staged.items():
            dst = tmp.joinpath(*rel.split("/"))
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(src, dst)
            except FileNotFoundError:
                raise ZoofindError(f"{folder}: the downloaded file {rel} is gone from {src.parent}",
                                   hint="another process may be placing the same version; retry the pull") from None
        into_place(tmp, folder, marker)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune_empty(staging_dir(folder))


def install_archive(archive: Path, folder: Path, *, what: str, listed: Mapping[str, int | None] | None = None,
                    limit: int | None = None, marker: Path | None = None) -> None:
    """Extract a verified archive (checked whole, extracted safely, bounded) into a new version folder.

    ``listed``: files Kaggle's listing names (path -> size), which the archive must hold with
    those sizes; an archive of some other version is refused like a damaged one. ``limit``:
    the bytes it may expand to (``ZOOFIND_MAX_EXTRACT``; None: ``archive.bound``'s default).
    ``marker``: kagglehub's completion marker of the folder (None: a model version's, beside it).
    """
    from ...fetch.archive import extract  # lazy: only when an archive is installed: off pull --offline

    tmp = fresh_tmp(folder)
    try:
        try:
            extract(archive, tmp, what=what, limit=limit)
            _check_listed(tmp, listed or {}, what)
        except IntegrityError:
            archive.unlink(missing_ok=True)  # bad bytes are never kept
            raise
        into_place(tmp, folder, marker or marker_path(folder))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink(missing_ok=True)  # installed: the archive is no longer needed


def _check_listed(tree: Path, listed: Mapping[str, int | None], what: str) -> None:
    wrong = []
    for rel, size in listed.items():
        p = tree.joinpath(*rel.split("/"))
        if not p.is_file():
            wrong.append(f"{rel} missing")
        elif size is not None and p.stat().st_size != size:
            wrong.append(f"{rel} is {p.stat().st_size} bytes, Kaggle lists {size}")
    if wrong:
        raise IntegrityError(f"{what}: the archive does not hold what Kaggle lists ({'; '.join(wrong[:3])}); "
                             "it was deleted",
                             hint="retry the pull; if it fails again the server is serving another version's files")


def _prune_empty(top: Path) -> None:
    """Remove ``top`` and the folders below it that are empty (another process's partials stay)."""
    if not top.is_dir():
        return
    for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
    with contextlib.suppress(OSError):
        top.rmdir()


def discard(paths: Iterable[Path], folder: Path) -> None:
    """Delete this run's downloads for ``folder`` that another process made redundant (it placed the version first)."""
    for p in paths:
        p.unlink(missing_ok=True)
    _prune_empty(staging_dir(folder))


def scan(env: Mapping[str, str]) -> list[tuple[str, Path]]:
    """(owner/model/framework/variation/version, folder) of each complete model version."""
    base = cache_root(env) / MODELS
    out = []
    for marker in sorted(base.glob("*/*/*/*/*" + MARKER_SUFFIX)) if base.is_dir() else ():
        # <version>.complete, a file; the per-file markers' folder (.complete) is none
        stem = marker.name[: -len(MARKER_SUFFIX)]
        folder = marker.parent / stem
        if stem.isdigit() and marker.is_file() and folder.is_dir():
            out.append((folder.relative_to(base).as_posix(), folder))
    return out
