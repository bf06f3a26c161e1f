"""What a source does (``Source``) and the records only sources exchange.

What a source is, its ``SourceSpec``, lives in ``spec`` (imported on the offline search
path, which this module is kept off: defining these classes costs start-up time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..models.files import FileEntry
from ..models.records import ParsedId, Record
from .spec import SourceSpec

if TYPE_CHECKING:
    from ..core.context import Context


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked for; every source maps it to its own vocabulary.

    How to ask (offline, timeout, refresh) is the call's ``Context``, not part of the query.
    """

    text: str = ""
    sources: tuple[str, ...] = ()
    task: str | None = None
    domain: str | None = None
    framework: str | None = None
    license: str | None = None
    kind: str | None = None
    #: a dataset size category (``models.records.SIZE_CATEGORIES``): only datasets carry one
    size_category: str | None = None
    sort: str = "relevance"
    limit: int = 20
    # The query word a hub's id-substring search should use (set by the search runner), else text.
    keyword: str | None = None


@dataclass(frozen=True)
class SourceAnswer:
    records: tuple[Record, ...]
    # "live", "cache" (fresh cached answer), "stale" (old cache served because the network
    # failed), "bundled" (nothing beyond the catalog) or "skipped" (not asked; see note)
    origin: str = "live"
    age_seconds: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class SourceStatus:
    """What `zoofind sources` reports for one source."""

    name: str
    title: str
    endpoint: str | None
    network: bool
    reachable: bool | None = None
    reason: str | None = None
    credentials: bool | None = None
    cache_age_seconds: float | None = None
    details: tuple[tuple[str, str], ...] = ()


@runtime_checkable
class Source(Protocol):
    """A model index. Every method gets the call's ``Context``; none reads the environment.

    Optional: ``slow_start(ctx) -> str | None``, what a progress display should say when the
    next search will take seconds for a reason of the source's own (torchvision reading an
    installed registry once); the CLI's spinner shows it.

    Optional: ``fileset(pid, ctx, *, revision=None) -> FileSet``, the files with the exact
    revision they belong to, which the hub's own ``pull`` ability (``protocol.Pulls``) may read.
    """

    spec: SourceSpec

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer: ...

    def info(self, pid: ParsedId, ctx: Context) -> Record | None: ...

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]: ...

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus: ...


__all__ = ["Source", "SourceSpec", "SourceStatus", "SourceAnswer", "Record", "ParsedId"]
