"""The plans and results of a pull: what each hub plans (``ModelPlan`` of ``PlannedFile``s) and
what ``zoofind pull`` reports (``PullResult`` per model, ``PullReport`` for the run).

The result types' field names are the output contract (``--json``): renamed fields break users.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import EXIT_OK, first_failure

if TYPE_CHECKING:
    from .files import FileEntry
    from .records import Record
    from .transfer import Download


@dataclass(frozen=True)
class Requirement:
    """One pip package a model needs, and the version installed here (None: missing)."""

    package: str
    installed: str | None


@dataclass(frozen=True)
class PullOptions:
    revision: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    all_files: bool = False
    dest: Path | None = None
    jobs: int = 8
    dry_run: bool = False
    #: the user trusts the models' own code: a hub whose framework keeps a list of trusted
    #: sources (torch.hub's ``trusted_list``) records them there; never without it
    trust: bool = False
    #: the lab's store to read files from by sha256 before the hub (s3://BUCKET/PREFIX/; None:
    #: ``ZOOFIND_MIRROR``), and whether to add to it what had to come from a hub
    mirror: str | None = None
    publish: bool = False


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One file of a model's plan: what it is, why it is left out, and how it arrives.

    ``target`` is where its verified bytes go (a Hub blob, a checkpoint, a staging file);
    ``present``: already there (``shared``: linked from the shared tier while planning);
    ``download``: what the fetch engine must do, None when present, skipped or a dry run's
    hub could not ask for it.
    """

    entry: FileEntry
    skip: str | None = None
    target: Path | None = None
    present: bool = False
    shared: bool = False
    download: Download | None = None
    #: the hub's security scan of the file (safe, unsafe, suspicious...), if it reports one
    scan: str | None = None
    #: the file's name in the framework's own store, where it has one (a Hub blob: its ETag)
    blob: str | None = None

    @property
    def path(self) -> str:
        return self.entry.path


@dataclass(frozen=True)
class ModelPlan:
    """One model's pull, as its hub planned it. A hub that needs more between planning and
    placing (where staged bytes go) subclasses it, frozen, and reads the extra only itself.

    ``path`` is what the framework loads (the snapshot folder, the checkpoint file);
    ``pinned``: planned from a lock (refs are written only where none exists, and what the
    model needs is read from what is on disk only).
    """

    id: str
    source: str
    revision: str | None = None
    commit: str | None = None
    path: Path | None = None
    files: tuple[PlannedFile, ...] = ()
    notes: tuple[str, ...] = ()
    pinned: bool = False
    #: what the user must know before loading the model (its own code runs), shown as the
    #: result's flags beside the pickle flag
    flags: tuple[str, ...] = ()
    #: what the hub said of the model while planning, where it said it: the result's needs are
    #: read from it, without asking the hub again (a large repo's answer is costly to fetch twice)
    described: Record | None = None

    @property
    def downloads(self) -> tuple[Download, ...]:
        return tuple(f.download for f in self.files if f.download is not None)

    def targets(self) -> dict[str, Path]:
        """Each file that is not skipped -> where its bytes are (or will be)."""
        return {f.path: f.target for f in self.files if f.skip is None and f.target is not None}


@dataclass(frozen=True, slots=True)
class PulledFile:
    path: str
    size: int | None
    sha256: str | None = None
    #: downloaded | shared (linked from the shared tier, ZOOFIND_SHARED_CACHE) | mirror (read from
    #: the lab's store, ZOOFIND_MIRROR, and checked) | cached (already there) | skipped | planned
    #: (dry run) | failed
    status: str = "planned"
    reason: str | None = None
    pickle: bool = False
    #: the hub's security scan of the file (Hugging Face: safe, unsafe, suspicious...), if it reports one
    scan: str | None = None
    #: Hugging Face: the file's name in the cache's blobs/ (the Hub's ETag)
    blob: str | None = None


@dataclass(frozen=True)
class PullResult:
    id: str
    revision: str | None = None
    commit: str | None = None
    #: what the framework loads: the snapshot folder, the checkpoint file
    path: str | None = None
    files: tuple[PulledFile, ...] = ()
    total_bytes: int = 0
    fetched_bytes: int = 0
    framework: str | None = None
    packages: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    install: str | None = None
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dest: str | None = None
    dest_mode: str | None = None  # hardlink | symlink (files of the shared tier) | copy
    error: str | None = None
    hint: str | None = None
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


@dataclass(frozen=True)
class PullReport:
    results: tuple[PullResult, ...]
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every model succeeded, else the first failure's code."""
        return first_failure(r.exit_code for r in self.results)

