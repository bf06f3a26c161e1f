"""The types of a lock file: the exact models, revisions and bytes a study used.

``ops.lockfile`` reads and writes them (TOML); each hub's ``lock`` ability pins a pull's
result into a ``LockedModel`` and plans a pull from one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

SCHEMA = 1


@dataclass(frozen=True)
class LockedFile:
    #: The file's path inside the model: a repo path (Hugging Face), the checkpoint's file
    #: name (torchvision), a path inside the extracted module folder (TF Hub).
    path: str
    size: int
    sha256: str
    #: Hugging Face: the file's name in the cache's ``blobs/`` (the Hub's ETag: the LFS
    #: sha256 for large files, the git blob sha1 for small ones).
    blob: str | None = None


@dataclass(frozen=True)
class LockedArchive:
    """TF Hub: the compressed archive the module's files were extracted from."""

    size: int
    sha256: str


@dataclass(frozen=True)
class LockedModel:
    id: str
    #: What was asked for (a branch or tag), kept for people reading the lock.
    revision: str | None = None
    #: Hugging Face: the commit sha every file was taken from.
    commit: str | None = None
    files: tuple[LockedFile, ...] = ()
    archive: LockedArchive | None = None
    framework: str | None = None
    #: what it is: "model", or "dataset" (written to the lock file only when not a model)
    kind: str = "model"

    @property
    def source(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Lock:
    models: tuple[LockedModel, ...]
    zoofind: str = ""
    created: datetime.datetime | None = None
    schema: int = SCHEMA
    #: Where it was read from (None when built in memory).
    origin: str | None = field(default=None, compare=False)
