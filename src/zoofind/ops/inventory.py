"""What the framework caches hold: `zoofind cache ls`, `verify`, `rm`, `prune` and `path`.

One view over the Hugging Face hub cache, torch.hub's checkpoints, the TF Hub module
folder and kagglehub's cache, whoever filled them (`hf download`, torch.hub, kagglehub or
zoofind), in two tiers: the user's own caches (``local``) and the read-only roots of
``ZOOFIND_SHARED_CACHE`` (``shared``, ``caches/shared.py``). Each model is one
``CachedModel``; a model's size counts each of its files once (blobs shared by several
revisions of a Hub repo too), as ``huggingface_hub.scan_cache_dir()`` counts a repo;
totals count a blob of huggingface_hub's cache-wide Xet store once however many repos
link to it. A local file that is a link into the shared tier is not the user's bytes: it
counts in ``linked_size``, never in ``size``.

Last use is when the model was placed or a framework last read it, never an archive's own
timestamps: the newest modification or access time of its files (a download writes them; a
framework loading them sets the access time where the mount records it: ``relatime`` at
most once a day, ``noatime`` never, and no framework writes anything when it loads), and
of what marks it placed: a TF Hub module's descriptor and a kagglehub version's
``.complete`` marker, written after the files by zoofind and by tensorflow_hub or kagglehub
alike (which extract with the archive's build dates: a module built in 2001 and fetched
today was used today). A link into the shared tier counts the link's own time too (when
the pull linked it), besides the shared file's.

Removing takes, without waiting, the locks a ``pull`` of the same model takes (the repo's
lease and every download lock beside it: ``fetch.locks``, marker files, no ``flock``), so
a model a pull is writing is skipped and reported with the pull's host and pid; a lock
whose owner died is broken as a pull breaks it. Files go in the order that keeps the cache
consistent if the removal stops half-way: refs, then snapshots, then blobs.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..caches.layout import PlainLayout, in_shared
from ..core.context import Context
from ..core.errors import AccessDeniedError, NotFoundError, UsageError
from ..core.units import parse_bytes
from ..fetch.locks import lock_for, try_acquire
from ..hubs import registry
from ..hubs.ids import split_revision
from ..hubs.protocol import Caches
from ..models.cache import TIERS, CachedModel, Removal, Removed, Skipped, Verified
from .resolve import resolve_id

__all__ = ["TIERS", "CachedModel", "Removal", "Removed", "Skipped", "Verified", "cached_models", "parse_age",
           "parse_size", "path_of", "plan_prune", "plan_removal", "remove", "select", "total", "verify"]


#: What removes a partial download (``Removal.source`` "partial"): its paths, under its download lock.
_PARTIALS = PlainLayout()


def _layout(source: str) -> Caches:
    return registry.ability(source, "cache")


def cached_models(ctx: Context, *, source: str | None = None) -> list[CachedModel]:
    """Every cached model of ``source`` (default all): the local tier first, then the shared one."""
    able = registry.able("cache")
    if source not in (None, *able):
        raise UsageError(f"no cache for source {source!r}", hint="one of: " + ", ".join(able))
    other = in_shared(ctx.environ)
    out: list[CachedModel] = []
    for tier in TIERS:
        for name in able:
            if source in (None, name):
                out += _layout(name).scan(ctx, tier, other)
        if other is None:
            break  # no shared tier
    return out


def _matching(models: Iterable[CachedModel], rid: str) -> list[CachedModel]:
    """The cached models an id names (its layout may let other ids name it), the local tier's only when it has any."""
    hits = [m for m in models if m.id == rid or _layout(m.source).matches(m, rid)]
    return [m for m in hits if m.tier == "local"] or hits


def path_of(raw_id: str, ctx: Context) -> str:
    """The path a framework loads for a cached model, the local tier's first; NotFoundError when it is not cached."""
    text, rev = split_revision(raw_id)
    pid = resolve_id(text, ctx)
    cacheable = registry.can(pid.source, "cache")
    if rev and cacheable:
        found = _layout(pid.source).revision_path(ctx, pid.ref, rev)
        if found is not None:
            return found
    wanted = str(pid)
    hits = _matching(cached_models(ctx, source=pid.source if cacheable else None), wanted)
    if hits:
        return hits[0].path
    raise NotFoundError(f"{wanted} is not in any cache zoofind knows", hint=f"zoofind pull {raw_id}")


# -- filters ------------------------------------------------------------------------------
_AGE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.I)


def parse_size(text: str) -> int:
    """``50M``, ``1G`` (decimal), ``50MiB``, ``1GiB`` (binary), ``1500`` (bytes) -> bytes."""
    size = parse_bytes(text)
    if size is None:
        raise UsageError(f"{text!r} is not a size", hint="e.g. 500M, 1G (decimal) or 512MiB, 1GiB (binary)")
    return size


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` -> seconds."""
    m = _AGE_RE.fullmatch(text)
    if not m:
        raise UsageError(f"{text!r} is not a duration", hint="e.g. 30d, 12h, 2w")
    return float(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m[2].lower()]


SORTS = ("size", "used", "id")
#: What `cache ls --kind` takes: what a cache entry may be (`CachedModel.kind`).
CACHED_KINDS = ("model", "dataset")


def select(models: Iterable[CachedModel], *, sort: str = "size", larger_than: int | None = None,
           unused_for: float | None = None, now: float | None = None, tier: str | None = None,
           kind: str | None = None) -> list[CachedModel]:
    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r} is not one of {', '.join(SORTS)}")
    if tier not in (None, *TIERS):
        raise UsageError(f"--tier {tier!r} is not one of {', '.join(TIERS)}")
    if kind not in (None, *CACHED_KINDS):
        raise UsageError(f"--kind {kind!r} is not one of {', '.join(CACHED_KINDS)}")
    now = time.time() if now is None else now
    out = [m for m in models if (larger_than is None or m.size > larger_than)
           and (unused_for is None or (m.last_used or 0) <= now - unused_for) and tier in (None, m.tier)
           and kind in (None, m.kind)]
    key = {"size": lambda m: (-m.size, m.id), "used": lambda m: (m.last_used or 0, m.id), "id": lambda m: m.id}[sort]
    return sorted(out, key=key)


def total(models: Iterable[CachedModel]) -> int:
    """Bytes the models take on disk together: each Xet store blob once, however many of them link to it."""
    size = 0
    store: dict[str, int] = {}
    for m in models:
        size += m.size - sum(n for _, n in m.store_blobs)
        store.update(m.store_blobs)
    return size + sum(store.values())


# -- verify -------------------------------------------------------------------------------
def verify(ctx: Context, ids: Iterable[str] = ()) -> list[Verified]:
    """Re-hash cached files against what names them (each layout knows what that is: a Hub
    blob's name, a checkpoint's hash prefix; a layout that records no hashes checks that
    the model holds files).

    Without ids: every local model, with the shared-tier files it links to. An id names
    its local entry, else its shared one.
    """
    models = cached_models(ctx)
    wanted = list(ids)
    if not wanted:
        return [_layout(m.source).verify(m) for m in models if m.tier == "local"]
    chosen = []
    for raw in wanted:
        rid = str(resolve_id(raw, ctx))
        hits = _matching(models, rid)
        if not hits:
            raise NotFoundError(f"{rid} is not in any cache zoofind knows", hint=f"zoofind pull {raw}")
        chosen += hits
    return [_layout(m.source).verify(m) for m in chosen]


# -- rm -----------------------------------------------------------------------------------
def plan_removal(ctx: Context, ids: Iterable[str]) -> list[Removal]:
    """Each id (``ID`` or ``ID@REV``) as a ``Removal``; NotFoundError for one not cached,
    AccessDeniedError for one only the shared tier holds (zoofind never changes it).

    A Hub revision takes its snapshot, the refs naming it, and only the blobs no other
    cached revision of the repo links to.
    """
    models = cached_models(ctx)
    out = []
    for raw in ids:
        text, rev = split_revision(raw)
        rid = str(resolve_id(text, ctx))
        hits = _matching(models, rid)
        if not hits:
            raise NotFoundError(f"{rid} is not in any cache zoofind knows", hint="`zoofind cache ls` lists what is")
        if all(m.tier == "shared" for m in hits):
            raise AccessDeniedError(f"{rid} is only in the shared tier ({hits[0].cache}), which zoofind never changes; "
                                    "nothing was removed",
                                    hint="its admin removes it there; `zoofind cache ls --tier local` lists what rm "
                                    "can remove")
        out += [_layout(m.source).plan_removal(m, rev) for m in hits]
    return _settle(out)


def _settle(removals: list[Removal]) -> list[Removal]:
    """Each hub's removals settled together (what they free only together), each kept in its place."""
    out = list(removals)
    for source in dict.fromkeys(r.source for r in removals):
        at = [i for i, r in enumerate(removals) if r.source == source]
        # Not strict: a removal a hub's settle() leaves out stays as planned.
        for i, r in zip(at, _layout(source).settle([removals[i] for i in at]), strict=False):
            out[i] = r
    return out


def remove(removals: Iterable[Removal]) -> Removed:
    """Carry out each removal that no pull is using (its locks taken without waiting, held
    while it runs); the others are skipped with the lock owner's host and pid."""
    done: list[Removal] = []
    skipped: list[Skipped] = []
    freed = 0
    for r in removals:
        layout = _PARTIALS if r.source == "partial" else _layout(r.source)
        locks = layout.locks(r)
        leases, busy = _take(locks.leases, locks.downloads)
        if busy is not None:
            skipped.append(Skipped(r, busy))
            continue
        try:
            layout.carry_out(r, {*locks.leases, *locks.downloads})
            freed += r.bytes
        finally:
            for lease in reversed(leases):
                with contextlib.suppress(Exception):
                    lease.release(force=True)
        done.append(r)
    return Removed(freed, tuple(done), tuple(skipped))


def _take(leases: tuple[str, ...], downloads: tuple[str, ...]) -> tuple[list[Any], str | None]:
    """Every lock held (a download lock only where its folder exists), or none and who holds the first one taken."""
    held: list[Any] = []
    for p, lease_kind in dict.fromkeys([*((Path(p), True) for p in leases), *((Path(p), False) for p in downloads)]):
        if not lease_kind and not p.parent.is_dir():
            continue
        lease = lock_for(p)
        if try_acquire(lease):
            held.append(lease)
            continue
        owner = lease.owner
        who = f"host {owner.hostname}, pid {owner.pid}" if owner is not None else f"lock {p}"
        for h in reversed(held):
            with contextlib.suppress(Exception):
                h.release(force=True)
        what = "a pull or removal" if lease_kind else "a pull"
        return [], f"in use by {what} ({who})"
    return held, None


# -- prune --------------------------------------------------------------------------------
def plan_prune(ctx: Context, *, max_size: int | None = None, unused_for: float | None = None,
               now: float | None = None) -> list[Removal]:
    """Least recently used local models first: those unused for ``unused_for`` seconds, then
    more until the local caches fit in ``max_size`` bytes (the shared tier is not the user's
    and is never counted or touched); plus partial downloads and temporary folders older
    than a day (a pull that was stopped and never resumed)."""
    if max_size is None and unused_for is None:
        raise UsageError("prune needs a budget", hint="give --max-size (e.g. 50G) and/or --unused-for (e.g. 30d)")
    now = time.time() if now is None else now
    models = sorted((m for m in cached_models(ctx) if m.tier == "local"), key=lambda m: (m.last_used or 0, m.id))
    size = total(models)
    holders: dict[str, int] = {}
    for m in models:
        for payload, _ in m.store_blobs:
            holders[payload] = holders.get(payload, 0) + 1
    evict: list[CachedModel] = []
    for m in models:
        old = unused_for is not None and (m.last_used or 0) <= now - unused_for
        over = max_size is not None and size > max_size
        if old or over:
            evict.append(m)
            # A Xet store blob frees its bytes only with the last model linking to it.
            size -= m.size - sum(n for _, n in m.store_blobs)
            for payload, n in m.store_blobs:
                holders[payload] -= 1
                if not holders[payload]:
                    size -= n
    out = _settle([_layout(m.source).plan_removal(m, None) for m in evict])
    return out + _stale_partials(ctx, now)




def _stale_partials(ctx: Context, now: float) -> list[Removal]:
    return [r for name in registry.able("cache") for r in _layout(name).stale_partials(ctx, now)]
