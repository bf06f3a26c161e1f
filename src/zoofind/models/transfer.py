"""What a caller hands the fetch engine and what it gets back: plain frozen data, no I/O.

``Download`` (one file: from where, to which path, what it must be, and where to look before
the network), ``Fetched`` (how it ended), ``ProgressEvent`` (what a progress callback is told)
and ``Found``, what a local source answers. Hubs plan ``Download``s (``hubs.protocol``,
``models.pull``), ``ops.pull`` runs them, the CLI renders the events: all of them import these
names from here without loading the engine or its HTTP stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Expected:
    """What is known of a file before its bytes arrive; every field that is set is checked."""

    size: int | None = None
    sha256: str | None = None
    #: git's blob id: sha1(b"blob <size>\\0" + bytes); the Hub's id for files outside LFS.
    git_sha1: str | None = None
    #: the first hex digits of the SHA-256 a torchvision checkpoint's name carries.
    sha256_prefix: str | None = None
    #: the MD5 a framework's own loader checks (Keras's ``get_file`` hashes of 32 hex digits) or a
    #: repository publishes as its only checksum (Zenodo's ``md5:<hex>``): checked here too, never
    #: trusted alone for a lock (the engine's SHA-256 of the same bytes is what a lock records).
    md5: str | None = None

    @property
    def identity(self) -> str | None:
        """What names this exact content, for telling a stale partial from a resumable one."""
        return (self.sha256 or self.git_sha1 or (f"md5:{self.md5}" if self.md5 else None)
                or (f"size:{self.size}" if self.size is not None else None))


class Found(Protocol):
    """A verified copy a local source put in place at a download's target without the network
    (``caches.shared.Linked`` is one). ``source`` None: it had none, and the file is fetched."""

    @property
    def source(self) -> Path | None: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str | None: ...
    #: copies passed over and why, for the pull's notes
    @property
    def notes(self) -> tuple[str, ...]: ...
    #: where the copy came from, as ``Fetched.via`` says it: "local" (the shared tier), "mirror" (the lab's store)
    @property
    def via(self) -> str: ...


#: Told ``(copy, size)`` before a local copy is hashed: a multi-GB file read over NFS takes a
#: while, and progress says so.
Checking = Callable[[Path, int], None]
#: The engine's way to a download's target without the network, given by its caller (pull: the
#: shared tier); asked once the download's lock is held, before any partial is touched. What
#: it raises fails the file: a copy it could not use is a note in ``Found.notes``.
LocalSource = Callable[["Download", Checking], Found]


@dataclass(frozen=True)
class Download:
    """One file to fetch: from where, to which path, what it must be."""

    url: str
    target: Path
    lock: Path
    expected: Expected
    label: str
    #: Headers for the URL's own host only (a hub token); never sent after a redirect elsewhere.
    auth: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: Whether what this download is for is already in place (a TF Hub folder another process
    #: extracted from the same archive); asked once the lock is held.
    done: Callable[[], bool] | None = field(default=None, repr=False, compare=False)
    #: What to do when the server refuses the file (where access is requested, which token).
    denied_hint: str | None = None
    #: Puts what this download is for in place without the network, when that is not the target
    #: file itself (a TF Hub module folder from the shared tier): the planner's word to the
    #: engine's ``LocalSource``, which asks it instead of looking for the target file.
    local: Callable[[], Found] | None = field(default=None, repr=False, compare=False)
    #: The most bytes the file may have, for a file of unknown size (an archive generated on the
    #: fly): a larger one is refused as soon as it passes the bound, and nothing of it is kept.
    limit: int | None = None
    #: What to do about a file refused for ``limit`` (which setting raises it).
    limit_hint: str | None = None
    #: Folders made with the target's own before any byte is written: a layout whose readers count
    #: a model folder without them as corrupt (a Hub repo's ``snapshots/``, for huggingface_hub's
    #: scan) never shows one, even when a removal took the model away while this download waited.
    folders: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Fetched:
    download: Download
    size: int
    sha256: str | None  # None when the target was already in place (not re-read)
    received: int  # body bytes received by this run
    resumed: int  # bytes an earlier run had left, kept
    reused: bool  # the target was already there: nothing fetched
    #: put in place by the engine's ``LocalSource`` in this run, with no request to the hub:
    #: "local" (the shared tier) or "mirror" (the lab's object store, ``ZOOFIND_MIRROR``)
    via: str | None = None
    #: what the run noticed on the way (a local copy passed over, and why)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProgressEvent:
    """``kind``: start | advance | wait | linked | done | failed; ``done`` bytes of ``total`` so far.

    ``linked``: the file came from a local source (pull: the shared tier), after ``start`` and
    ``advance`` events for checking its hash; ``done`` follows.
    """

    label: str
    kind: str
    done: int = 0
    total: int | None = None
    advanced: int = 0


Progress = Callable[[ProgressEvent], None]
