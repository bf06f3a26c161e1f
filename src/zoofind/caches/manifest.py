"""A folder of zoofind's own store made complete by a manifest written last.

For models no framework's cache holds (a GitHub release's assets, ...): a model is one folder
``<base>/<name parts>/``, each file at its name, and a manifest (``marker``: a JSON file whose
name starts with ``.zoofind``, as no file of the model's may) listing every file placed: name ->
size, sha256 (computed while it downloaded) and the source's own digest where it gives one. A
folder without the manifest is a pull in progress, not a model. Download locks and the place lock
live in ``<base>/.zoofind-locks/``, named after the folder's path below ``base``. A store that puts
some files where a library reads them instead records that in their entries and says where they
are (``path_of``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.atomic import write_json
from ..fetch.integrity import READ_BLOCK
from ..fetch.locks import lock_for
from ..models.cache import Problem
from . import OWN

LOCKS = ".zoofind-locks"


@dataclass(frozen=True)
class ManifestStore:
    """``base``: the store's root; ``marker``: the manifest's name; ``depth``: name parts below ``base``."""

    base: Path
    marker: str
    depth: int

    def folder(self, *parts: str) -> Path:
        return self.base.joinpath(*parts)

    def where(self, folder: Path, name: str) -> Path:
        return folder.joinpath(*name.split("/"))

    def path_of(self, folder: Path, name: str, mark: Mapping[str, Any]) -> Path:
        """Where the manifest entry ``mark`` of file ``name`` says the file is: in the folder, unless a
        store that places some files where a library reads them says otherwise (``mark``'s own record)."""
        return self.where(folder, name)

    def _lock_name(self, folder: Path) -> str:
        return "~".join(folder.relative_to(self.base).parts)

    def lock_path(self, folder: Path, name: str) -> Path:
        """One download lock per file (the engine fetches several at once)."""
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
        return self.base / LOCKS / f"{self._lock_name(folder)}.{digest}"

    def place_lock(self, folder: Path) -> Path:
        return self.base / LOCKS / f"{self._lock_name(folder)}.place"

    def read(self, folder: Path) -> dict[str, Any] | None:
        """The manifest ({"files": {name: {"size", "sha256", ...}}, ...}), None when absent or unreadable."""
        try:
            data = json.loads((folder / self.marker).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            return None
        clean = {k: v for k, v in files.items()
                 if isinstance(k, str) and not k.startswith(OWN) and isinstance(v, dict)
                 and isinstance(v.get("size"), int) and isinstance(v.get("sha256"), str)}
        return {**data, "files": clean}

    def marked(self, folder: Path) -> dict[str, Any]:
        """name -> manifest entry ({} when the folder is no model)."""
        manifest = self.read(folder)
        return manifest["files"] if manifest else {}

    def folders(self) -> list[Path]:
        """The complete model folders of the store, sorted."""
        return sorted(f for f in self._walk(self.base, self.depth) if self.read(f) is not None)

    def _walk(self, at: Path, depth: int) -> Iterator[Path]:
        if depth == 0:
            yield at
            return
        try:
            names = os.listdir(at)
        except OSError:
            return
        for n in names:
            if not n.startswith(".") and (at / n).is_dir():
                yield from self._walk(at / n, depth - 1)

    def write(self, folder: Path, placed: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Any]) -> None:
        """Add ``placed`` (name -> size, sha256, digests) to the manifest, keeping the entries of files
        still there, under the place lock (another process placing the same model: one at a time)."""
        lock = lock_for(self.place_lock(folder))
        lock.acquire()
        try:
            old = self.read(folder) or {}
            files = {k: v for k, v in (old.get("files") or {}).items() if self.path_of(folder, k, v).is_file()}
            files.update({k: dict(v) for k, v in placed.items()})
            write_json(folder / self.marker, {**old, **extra, "files": files})
        finally:
            lock.release()

    def verify(self, folder: Path) -> tuple[int, tuple[Problem, ...]]:
        """(bytes read, problems): every file re-hashed against the sha256 (and md5) the manifest recorded."""
        problems, size = [], 0
        for name, mark in sorted(self.marked(folder).items()):
            path = self.path_of(folder, name, mark)
            if not path.is_file():
                problems.append(Problem(str(path), "missing"))
                continue
            size += path.stat().st_size
            sha, md5 = hashes(path)
            if sha != mark["sha256"]:
                problems.append(Problem(str(path), "sha256 mismatch"))
            elif mark.get("md5") and md5 != mark["md5"]:
                problems.append(Problem(str(path), "md5 mismatch"))
        return size, tuple(problems)


def hashes(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while block := fh.read(READ_BLOCK):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()
