"""The interface every source implements, and the records only sources exchange.

Kept apart from ``zoofind.sources`` so the search path does not pay for defining them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

from ..records import ParsedId, Record
from . import SearchQuery


@dataclass(frozen=True)
class FileEntry:
    """One file a model needs: where it comes from and how to check it."""

    path: str
    url: str
    size: int | None = None
    sha256: str | None = None
    etag: str | None = None
    # torchvision checkpoint names embed the first hex digits of their SHA-256
    # (resnet50-11ad3fa6.pth); torch.hub checks a download against them.
    sha256_prefix: str | None = None


@dataclass(frozen=True)
class SourceAnswer:
    records: tuple[Record, ...]
    # "live", "cache" (fresh cached answer) or "stale" (old cache served because the network failed)
    origin: str = "live"
    age_seconds: float | None = None
    note: str | None = None
    # The records are a full registry that supersedes the catalog's snapshot of this source.
    replaces_snapshot: bool = False


@dataclass(frozen=True)
class SourceStatus:
    """What `zoofind sources` reports for one source."""

    name: str
    title: str
    endpoint: str | None
    live: bool
    reachable: bool | None = None
    reason: str | None = None
    credentials: bool | None = None
    cache_age_seconds: float | None = None
    details: tuple[tuple[str, str], ...] = ()


@runtime_checkable
class Source(Protocol):
    name: str
    title: str
    live: bool

    def search(self, query: SearchQuery) -> SourceAnswer: ...

    def info(self, pid: ParsedId, *, offline: bool = False, timeout: float = 8.0) -> Record | None: ...

    def files(self, pid: ParsedId, *, timeout: float = 8.0) -> Sequence[FileEntry]: ...

    def status(self, *, probe: bool = True, timeout: float = 3.0) -> SourceStatus: ...

__all__ = ["FileEntry", "Source", "SourceStatus", "SearchQuery", "SourceAnswer", "Record", "ParsedId"]
