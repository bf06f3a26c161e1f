"""What the framework caches hold, and what checking and removing it found and did.

The plain records of ``zoofind cache ls/verify/rm/prune``: every hub's cache layout
(``hubs.protocol.Caches``) answers in these, and ``ops.inventory`` only combines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The two tiers of every cache: the user's own (``local``) and ``ZOOFIND_SHARED_CACHE``'s (``shared``, read-only).
TIERS = ("local", "shared")


@dataclass(frozen=True)
class CachedModel:
    id: str
    source: str
    #: Hub commits with their refs ("c5a9c64a... (main)"), else empty
    revisions: tuple[str, ...]
    #: bytes on disk in the model's own tier, each file once (links into the shared tier not counted)
    size: int
    #: when it was placed or a framework last read it (README: "last use per layout"), never an archive's dates
    last_used: float | None
    #: what the framework loads: a snapshot folder (the newest, or the one `main` points to), a file, a module folder
    path: str
    #: the cache the model sits in (its root folder)
    cache: str
    #: "local" (the user's own caches) or "shared" (a ZOOFIND_SHARED_CACHE root, read-only to zoofind)
    tier: str = "local"
    #: bytes of shared-tier files this model's files link to (not in ``size``)
    linked_size: int = 0
    #: (path, bytes) of its files in a cache-wide store other models may link to too (huggingface_hub's Xet
    #: store): totals count each once
    store_blobs: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)
    #: what it is: "model", or "dataset" (a hub's dataset repository or dataset version)
    kind: str = "model"


@dataclass(frozen=True)
class Problem:
    path: str
    problem: str  # "missing" | "sha256 mismatch" | "git blob id mismatch" | "hash prefix mismatch" | "empty"


@dataclass(frozen=True)
class Verified:
    id: str
    path: str
    files: int
    bytes: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Removal:
    """What removing one model (or one revision of it) deletes, and the bytes it frees.

    A layout that needs more between planning and carrying out (huggingface_hub's store
    links) plans its own frozen subclass and is the only one to read it.
    """

    id: str
    revision: str | None
    #: what goes, in the order that keeps the cache consistent if the removal stops half-way
    paths: tuple[str, ...]
    bytes: int
    source: str = ""
    #: the cache root it sits in
    cache: str = ""
    #: the download locks a pull of it would hold (a layout may list more when it runs: ``Caches.locks``)
    locks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemovalLocks:
    """The locks a removal takes, without waiting, before it deletes anything."""

    #: leases a pull or another removal holds for the whole model: taken even when their folder is new
    leases: tuple[str, ...] = ()
    #: download locks: taken where their folder exists (none there: no pull is writing)
    downloads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    removal: Removal
    #: why it was left: "in use by a pull (host h, pid 123)"
    reason: str


@dataclass(frozen=True)
class Removed:
    """What ``remove`` did: the bytes freed, the removals carried out and those skipped."""

    freed: int
    done: tuple[Removal, ...]
    skipped: tuple[Skipped, ...]
