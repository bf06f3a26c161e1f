"""zoofind: find and fetch pretrained models and deep-learning resources for science.

The Python API mirrors the command line and returns the same frozen records::

    import zoofind

    result = zoofind.search("protein language model", offline=True, limit=5)
    for hit in result.hits:
        print(hit.record.id, hit.score)
    print(zoofind.info("hf:facebook/esm2_t6_8M_UR50D", offline=True).install)

Nothing prints; errors are ``zoofind.ZoofindError`` subclasses with an ``exit_code`` and a
``hint``. Offline (``offline=True`` or ``ZOOFIND_OFFLINE=1`` / ``HF_HUB_OFFLINE=1`` when
the call starts) is decided once per call and no source then sends a request.
``import zoofind`` is cheap: the functions and types below load on first use.
"""

from __future__ import annotations

# Not `from typing import ...`: this module runs first in every process, and each import here
# widens the window in which a Ctrl-C cannot yet be turned into one line (cli/app.py).
TYPE_CHECKING = False

from .core.version import __version__

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence
    from typing import Any

    from .core.errors import (  # noqa: F401 - named for type checkers; __getattr__ loads them at run time
        AccessDeniedError,
        CatalogError,
        NotFoundError,
        OfflineError,
        SourceError,
        UsageError,
        ZoofindError,
    )
    from .hubs.base import SourceStatus
    from .models.cache import CachedModel, Removal, Removed, Verified
    from .models.cite import CiteReport
    from .models.pull import PullReport
    from .models.records import Record  # noqa: F401 - named for type checkers; __getattr__ loads it at run time
    from .models.transfer import ProgressEvent
    from .ops.find import SearchResult
    from .ops.lock import LockReport
    from .ops.lookup import InfoResult

_LAZY = {
    "Record": "models.records", "ParsedId": "models.records", "parse_id": "hubs.ids",
    "SearchResult": "ops.find", "SourceReport": "ops.find", "Hit": "ops.ranking", "InfoResult": "ops.lookup",
    "SourceStatus": "hubs.base", "Context": "core.context",
    "PullReport": "models.pull", "PullResult": "models.pull", "PulledFile": "models.pull",
    "ProgressEvent": "models.transfer", "CachedModel": "models.cache", "Verified": "models.cache",
    "Removal": "models.cache", "Removed": "models.cache", "Skipped": "models.cache",
    "export_bundle": "ops.bundle", "import_bundle": "ops.bundle", "ExportReport": "models.bundle",
    "ImportReport": "models.bundle",
    "BundledModel": "models.bundle", "BundledFile": "models.bundle",
    "CiteReport": "models.cite", "Reference": "models.cite", "Citation": "models.cite",
    "LockReport": "ops.lock", "Lock": "models.lock", "LockedModel": "models.lock", "LockedFile": "models.lock",
    **{name: "core.errors" for name in ("ZoofindError", "UsageError", "NotFoundError", "AccessDeniedError",
                                        "CatalogError", "SourceError", "OfflineError", "UnreachableError",
                                        "TimedOutError", "RateLimitedError", "ServerError", "BadAnswerError",
                                        "MissingHomeError", "OutputError", "ZoofindWarning")},
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'zoofind' has no attribute {name!r}")


def search(
    text: str = "", *, source: str | Sequence[str] | None = None, task: str | None = None, domain: str | None = None,
    framework: str | None = None, license: str | None = None, kind: str | None = None, sort: str = "relevance",
    limit: int = 20, offline: bool = False, timeout: float = 5.0, refresh: bool = False,
    size_category: str | None = None,
) -> SearchResult:
    """`zoofind search`: the catalog and every searching source, ranked; see the README for each option."""
    from .core.context import Context
    from .hubs import SearchQuery
    from .ops.find import search as run

    sources = (source,) if isinstance(source, str) else tuple(source or ())
    query = SearchQuery(text=text, sources=tuple(dict.fromkeys(sources)), task=task, domain=domain, framework=framework,
                        license=license, kind=kind, size_category=size_category, sort=sort, limit=limit)
    return run(query, Context.from_env(offline=offline, timeout=timeout, refresh=refresh))


def info(id: str, *, offline: bool = False, timeout: float = 5.0) -> InfoResult:  # noqa: A002 - mirrors the CLI's ID
    """`zoofind info`: one record with what it needs (``requirements``, ``install``) and ``warnings``."""
    from .core.context import Context
    from .ops.lookup import info as run

    return run(id, Context.from_env(offline=offline, timeout=timeout))


def pull(
    ids: str | Sequence[str] = (), *, revision: str | None = None, include: Sequence[str] = (),
    exclude: Sequence[str] = (), all_files: bool = False, dest: str | os.PathLike[str] | None = None, jobs: int = 8,
    dry_run: bool = False, offline: bool = False, timeout: float = 30.0,
    progress: Callable[[ProgressEvent], None] | None = None, lock: str | os.PathLike[str] | None = None,
    trust: bool = False, mirror: str | None = None, publish: bool = False,
) -> PullReport:
    """`zoofind pull`: each model into its framework's cache; one ``PullResult`` a model in ``.results``.

    A model that fails is reported in its result (``ok``, ``error``, ``exit_code``), the
    others go on. ``progress`` receives ``ProgressEvent``s (from the worker threads).
    ``lock``: a lock file (``zoofind lock``) instead of ids: exactly its revisions and bytes.
    ``trust``: you trust the models' own code (torch.hub's ``trusted_list`` records it); never implied.
    ``mirror``: the lab's store (``s3://BUCKET/PREFIX/``; default ``ZOOFIND_MIRROR``), asked for each
    file by its sha256 before the hub; ``publish``: add to it what had to come from a hub.
    """
    from pathlib import Path

    from .core.context import Context
    from .models.pull import PullOptions
    from .ops.pull import pull as run

    opts = PullOptions(revision=revision, include=tuple(include), exclude=tuple(exclude), all_files=all_files,
                       dest=Path(dest) if dest is not None else None, jobs=jobs, dry_run=dry_run, trust=trust,
                       mirror=mirror, publish=publish)
    ctx = Context.from_env(offline=offline, timeout=timeout)
    wanted = [ids] if isinstance(ids, str) else list(ids)
    if lock is not None:
        from .core.errors import UsageError
        from .ops import lockfile
        from .ops.lock import pull_locked

        if wanted:
            raise UsageError("give ids or a lock file, not both")
        return pull_locked(lockfile.read(Path(lock)), ctx, opts, progress)
    return run(wanted, ctx, opts, progress)


def lock(
    ids: str | Sequence[str], *, revision: str | None = None, include: Sequence[str] = (),
    exclude: Sequence[str] = (), all_files: bool = False, jobs: int = 8, offline: bool = False, timeout: float = 30.0,
    progress: Callable[[ProgressEvent], None] | None = None, output: str | os.PathLike[str] | None = None,
) -> LockReport:
    """`zoofind lock`: pull ``ids`` and pin exactly what arrived (commit, every file's size and sha256).

    ``.lock`` is the ``Lock`` (None when a model failed: see ``.pulled.results``); with
    ``output`` it is also written there (atomically).
    """
    from pathlib import Path

    from .core.context import Context
    from .models.pull import PullOptions
    from .ops import lockfile
    from .ops.lock import lock as run

    opts = PullOptions(revision=revision, include=tuple(include), exclude=tuple(exclude), all_files=all_files,
                       jobs=jobs)
    report = run([ids] if isinstance(ids, str) else list(ids), Context.from_env(offline=offline, timeout=timeout), opts,
                 progress)
    if output is not None and report.lock is not None:
        lockfile.write(report.lock, Path(output))
    return report


def cite(
    ids: str | Sequence[str] = (), *, lock: str | os.PathLike[str] | None = None, offline: bool = False,
    timeout: float = 5.0, with_tool: bool = False, with_software: bool = False,
) -> CiteReport:
    """`zoofind cite`: the references to cite for ``ids`` (or every model of a ``lock`` file).

    ``.references`` holds each work once (de-duplicated by DOI or arXiv id), with a stable ``key``
    and its ``source`` (catalog, card, or none: the model cited as itself); ``.citations`` says,
    per id, which keys cite it and what was not found. ``with_tool`` (with ``lock``): zoofind's own
    entry too, which ``methods_paragraph`` cites. ``with_software``: the libraries the models load
    with too, each as its owners ask (``.software``: name, version, key; the version installed here
    for ids, "not recorded" for a lock, which records none).
    """
    from pathlib import Path

    from .core.context import Context
    from .ops.cite import cite as run
    from .ops.cite import cite_lock

    ctx = Context.from_env(offline=offline, timeout=timeout)
    wanted = [ids] if isinstance(ids, str) else list(ids)
    read = None
    if lock is not None:
        from .core.errors import UsageError
        from .ops import lockfile

        if wanted:
            raise UsageError("give ids or a lock file, not both")
        read = lockfile.read(Path(lock))
        report = cite_lock(read, ctx, with_tool=with_tool)
    else:
        report = run(wanted, ctx)
    if with_software:
        from .ops.software import with_software as add_software

        report = add_software(report, ctx, lock=read)
    return report


def methods_paragraph(lock: str | os.PathLike[str], report: CiteReport, *, fmt: str = "bibtex",
                      offline: bool = False) -> str:
    """A methods paragraph for the models of ``lock``, citing ``report`` (``cite(lock=..., with_tool=True)``)
    the way ``fmt`` is read: ``\\cite{key}`` for bibtex, ``[@key]`` for csl-json, author and year for text."""
    from pathlib import Path

    from .core.context import Context
    from .ops import lockfile
    from .ops.cite import methods_paragraph as run
    from .ops.citeformats import CITE_MARKS

    return run(lockfile.read(Path(lock)), report, Context.from_env(offline=offline), style=CITE_MARKS[fmt])


def cached(
    *, source: str | None = None, sort: str = "size", larger_than: int | str | None = None,
    unused_for: float | str | None = None, tier: str | None = None, kind: str | None = None,
) -> list[CachedModel]:
    """`zoofind cache ls`: the models in the framework caches, as ``CachedModel`` records.

    ``larger_than`` is bytes or a size text (``"1G"``, ``"512MiB"``); ``unused_for`` seconds or
    a duration text (``"30d"``); ``tier``: ``local`` or ``shared`` (``ZOOFIND_SHARED_CACHE``);
    ``kind``: ``model`` or ``dataset``. Nothing is sent over the network.
    """
    from .core.context import Context
    from .ops.inventory import cached_models, parse_age, parse_size, select

    size = parse_size(larger_than) if isinstance(larger_than, str) else larger_than
    age = parse_age(unused_for) if isinstance(unused_for, str) else unused_for
    return select(cached_models(Context.from_env(offline=True), source=source), sort=sort, larger_than=size,
                  unused_for=age, tier=tier, kind=kind)


def verify_cache(ids: Sequence[str] = ()) -> list[Verified]:
    """`zoofind cache verify`: each cached model (or those named) re-hashed; ``Verified.problems`` lists bad or
    missing files."""
    from .core.context import Context
    from .ops.inventory import verify

    return verify(Context.from_env(offline=True), ids)


def plan_cache_removal(ids: Sequence[str]) -> list[Removal]:
    """What `zoofind cache rm IDS` would delete (``Removal``: paths and bytes freed); nothing is deleted."""
    from .core.context import Context
    from .ops.inventory import plan_removal

    return plan_removal(Context.from_env(offline=True), ids)


def plan_cache_prune(*, max_size: int | str | None = None, unused_for: float | str | None = None) -> list[Removal]:
    """What `zoofind cache prune` would evict (least recently used first) and stale partials; nothing is deleted."""
    from .core.context import Context
    from .ops.inventory import parse_age, parse_size, plan_prune

    size = parse_size(max_size) if isinstance(max_size, str) else max_size
    age = parse_age(unused_for) if isinstance(unused_for, str) else unused_for
    return plan_prune(Context.from_env(offline=True), max_size=size, unused_for=age)


def remove_from_cache(plan: Sequence[Removal]) -> Removed:
    """Carry out ``plan_cache_removal``'s plan: ``Removed(freed, done, skipped)``; a model a running
    pull holds is skipped (``Skipped.reason`` names the pull's host and pid), never waited for."""
    from .ops.inventory import remove

    return remove(plan)


def cache_path(id: str) -> str:  # noqa: A002 - mirrors the CLI's ID
    """`zoofind cache path`: what the framework loads for a cached model; ``NotFoundError`` if not cached."""
    from .core.context import Context
    from .ops.inventory import path_of

    return path_of(id, Context.from_env(offline=True))


def list_sources(*, offline: bool = False, timeout: float = 3.0) -> list[SourceStatus]:
    """`zoofind sources`: each source's endpoint, reachability (probed unless offline), credentials, cache age."""
    from .core.context import Context
    from .hubs import statuses

    ctx = Context.from_env(offline=offline, timeout=timeout)
    return statuses(ctx, probe=not ctx.offline)


# No module directly in the package is named like these functions: importing a submodule sets it
# as an attribute of the package, which would hide the function of the same name.
__all__ = ["search", "info", "pull", "lock", "cite", "methods_paragraph", "cached", "cache_path", "verify_cache",
           "plan_cache_removal", "plan_cache_prune", "remove_from_cache", "list_sources", "__version__", *_LAZY]
