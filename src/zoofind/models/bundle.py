"""The results of ``zoofind export`` and ``import`` (what each bundled file and model became), and the
placements a hub's bundle ability answers with (``hubs.protocol.Bundles``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import EXIT_OK, first_failure
from .lock import LockedFile, LockedModel


@dataclass(frozen=True)
class BundledFile:
    path: str
    size: int
    sha256: str
    #: the bundle member holding the bytes: ``blobs/<sha256>``
    member: str
    #: export: written (into a tar) | linked | copied (into a folder);
    #: import: placed | present (already there, size checked) | verified (already there,
    #: re-hashed) | replaced (was there, damaged, replaced from the bundle) | failed
    status: str
    #: export: the cache file read; import: where the bytes are now
    location: str | None = None


@dataclass(frozen=True)
class BundledModel:
    id: str
    #: what the framework loads here: the snapshot folder, the checkpoint file, the module folder
    path: str | None = None
    commit: str | None = None
    files: tuple[BundledFile, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None
    hint: str | None = None
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class ExportReport:
    #: the bundle's path, or ``-`` for a stream
    bundle: str
    layout: str  # tar | folder | s3
    models: tuple[BundledModel, ...]
    #: distinct members written (files shared by several models count once) and their bytes
    members: int
    bytes: int
    #: folder bundles: how many members are hard links to the cache files, how many copies
    linked: int = 0
    copied: int = 0
    #: an object store (layout ``s3``): members sent, members already there (same key and size,
    #: not sent again), and the bytes sent
    uploaded: int = 0
    present: int = 0
    sent: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_OK


@dataclass(frozen=True)
class ImportReport:
    bundle: str
    layout: str  # tar | folder | stream
    models: tuple[BundledModel, ...]
    #: bytes written into the caches (members placed), and files found already in place
    placed_bytes: int = 0
    present: int = 0

    @property
    def exit_code(self) -> int:
        """0 when every model is in place, else the first failure's code."""
        return first_failure(m.exit_code for m in self.models)




# -- what a hub's bundle ability tells the operations (``hubs.protocol.Bundles``) --------------
@dataclass(frozen=True)
class FileSlot:
    """Where one locked file's bytes go on import, which lock guards them, and where they may
    already sit."""

    file: LockedFile
    #: the file the verified bytes are renamed onto (inside ``Placement.staging`` for a model
    #: placed whole); two files with the same bytes may share one target
    target: Path
    #: the lock file ``pull`` takes for that target, taken by ``import`` too; None: the target
    #: is in this import's own staging folder, which nobody else writes
    guard: Path | None
    #: where the file already sits when the model is in place, first what the framework reads
    #: (the path an import reports)
    present_at: tuple[Path, ...]


@dataclass(frozen=True)
class Placement:
    """One locked model's place on this machine, for ``import``."""

    model: LockedModel
    #: this user's cache root of the model's hub
    root: Path
    #: what the framework loads: a snapshot folder, a checkpoint file, a module folder
    path: Path
    slots: tuple[FileSlot, ...]
    #: what the user should know (told once per import), e.g. a variable the framework needs
    notes: tuple[str, ...] = ()
    #: folders made before the model's first file is written
    folders: tuple[Path, ...] = ()
    #: a model placed whole: its files are filled in this folder (beside ``path``, named so
    #: ``cache prune`` knows a stray) and ``make_visible`` renames it to ``path``; None: each
    #: file is renamed onto its own target
    staging: Path | None = None
