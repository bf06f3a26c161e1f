"""The results of ``zoofind export`` and ``import``: what each bundled file and model became."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import EXIT_OK


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
    layout: str  # tar | folder
    models: tuple[BundledModel, ...]
    #: distinct members written (files shared by several models count once) and their bytes
    members: int
    bytes: int
    #: folder bundles: how many members are hard links to the cache files, how many copies
    linked: int = 0
    copied: int = 0

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
        return next((m.exit_code for m in self.models if not m.ok), EXIT_OK)


