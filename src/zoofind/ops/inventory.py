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
import os
import re
import shutil
import stat
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..context import Context
from ..errors import AccessDeniedError, NotFoundError, UsageError
from ..fetch.integrity import Expected, hash_file

SOURCES = ("hf", "torchvision", "tfhub", "kaggle")
TIERS = ("local", "shared")


@dataclass(frozen=True)
class CachedModel:
    id: str
    source: str
    #: Hub commits with their refs ("c5a9c64a... (main)"), else empty
    revisions: tuple[str, ...]
    #: bytes on disk in the model's own tier, each file once (links into the shared tier not counted)
    size: int
    last_used: float | None
    #: what the framework loads: a snapshot folder (the newest, or the one `main` points to), a file, a module folder
    path: str
    #: the cache the model sits in (its root folder)
    cache: str
    #: "local" (the user's own caches) or "shared" (a ZOOFIND_SHARED_CACHE root, read-only to zoofind)
    tier: str = "local"
    #: bytes of shared-tier files this model's files link to (not in ``size``)
    linked_size: int = 0
    #: (path, bytes) of its blobs in huggingface_hub's Xet store, which other repos may link to too
    store_blobs: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)


def cached_models(ctx: Context, *, source: str | None = None) -> list[CachedModel]:
    """Every cached model of ``source`` (default all): the local tier first, then the shared one."""
    if source not in (None, *SOURCES):
        raise UsageError(f"no cache for source {source!r}", hint="one of: " + ", ".join(SOURCES))
    from ..caches import shared

    env = ctx.environ
    other = _shared_test(env)
    out: list[CachedModel] = []
    for tier in TIERS:
        if source in (None, "hf"):
            out += _hf(env, tier, other)
        if source in (None, "torchvision"):
            out += _torch(env, tier, other)
        if source in (None, "tfhub"):
            out += _tfhub(env, tier, other)
        if source in (None, "kaggle") and tier == "local":
            out += _kaggle(env, other)
        if not shared.roots(env):
            break
    return out


def _shared_test(env: Mapping[str, str]) -> Callable[[str], bool] | None:
    """A test for "this path lies in the shared tier", or None when there is no shared tier."""
    from ..caches import shared

    if not shared.roots(env):
        return None
    return lambda p: shared.tier_of(Path(p), env) == "shared"


def _tiered(local: Path, others: Iterable[Path], tier: str) -> list[Path]:
    """The folders of one cache in ``tier``; a shared root that is the user's own cache is not listed twice."""
    if tier == "local":
        return [local]
    return [p for p in others if p.absolute() != local.absolute()]


def _hf(env: Mapping[str, str], tier: str, other: Callable[[str], bool] | None) -> list[CachedModel]:
    from ..caches import shared
    from ..caches.hf import hub_cache, scan

    out = []
    for cache in _tiered(hub_cache(env), shared.hub_caches(env), tier):
        for repo in scan(cache, other_tier=other if tier == "local" else None):
            main = next((c for c, refs in repo.revisions if "main" in refs), None)
            shown = main or max(repo.revisions, key=lambda r: _mtime(repo.folder / "snapshots" / r[0]))[0]
            revisions = tuple(f"{c}" + (f" ({', '.join(refs)})" if refs else "") for c, refs in repo.revisions)
            out.append(CachedModel(f"hf:{repo.repo}", "hf", revisions, repo.size, repo.last_used,
                                   str(repo.folder / "snapshots" / shown), str(cache), tier, repo.linked_size, repo.store_blobs))
    return out


def _torch(env: Mapping[str, str], tier: str, other: Callable[[str], bool] | None) -> list[CachedModel]:
    from ..caches import shared
    from ..caches.torch import checkpoints, scan

    out = []
    folders = _tiered(checkpoints(env), shared.checkpoint_dirs(env), tier)
    names = _torchvision_names() if any(f.is_dir() for f in folders) else {}
    for folder in folders:
        # A shared root is laid out as a cache home: its torch/ is a TORCH_HOME.
        for f in scan({"TORCH_HOME": str(folder.parent.parent)}):
            try:
                st = f.stat()
            except OSError:
                continue
            linked = tier == "local" and _links_elsewhere(str(f), other)
            rid = names.get(f.name) or f"file:{f}"
            used = max(st.st_atime, st.st_mtime, _placed(f))
            out.append(CachedModel(rid, "torchvision", (), 0 if linked else st.st_size, used,
                                   str(f), str(folder), tier, st.st_size if linked else 0))
    return out


def _links_elsewhere(path: str, other: Callable[[str], bool] | None) -> bool:
    """Whether ``path`` is a link whose bytes lie in the shared tier (as written or resolved)."""
    if other is None or not os.path.islink(path):
        return False
    target = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return other(target) or other(os.path.realpath(path))


def _torchvision_names() -> dict[str, str]:
    """Checkpoint file name -> the torchvision id whose weights it holds (from the catalog)."""
    from .. import catalog as catalog_mod

    cat = catalog_mod.load()
    out: dict[str, str] = {}
    for doc in range(len(cat)):
        # The facet columns name the source without decoding: only torchvision's entries are read.
        rid, source = cat.facet(doc)[:2]
        if source != "torchvision" or cat.shadowed(doc):
            continue
        extra = cat.entry(doc).get("extra")
        url = extra.get("url") if isinstance(extra, dict) else None
        if isinstance(url, str):
            out.setdefault(url.rsplit("/", 1)[-1], rid)
    return out


def _tfhub(env: Mapping[str, str], tier: str, other: Callable[[str], bool] | None) -> list[CachedModel]:
    from ..caches import shared, tfhub

    out = []
    for root in _tiered(tfhub.cache_dir(env)[0], shared.tfhub_dirs(env), tier):
        for handle, folder in tfhub.scan(root):
            t = _tree(folder, other if tier == "local" else None)
            used = max(t.used or 0.0, _placed(folder), _placed(tfhub.descriptor_path(folder))) or None
            out.append(CachedModel(f"tfhub:{handle}" if handle else f"file:{folder}", "tfhub", (), t.size, used,
                                   str(folder), str(root), tier, t.linked))
    return out


def _kaggle(env: Mapping[str, str], other: Callable[[str], bool] | None) -> list[CachedModel]:
    from ..caches import kagglehub

    out = []
    for handle, folder in kagglehub.scan(env):
        t = _tree(folder, other)
        used = max(t.used or 0.0, _placed(kagglehub.marker_path(folder))) or None
        out.append(CachedModel(f"kaggle:{handle}", "kaggle", (), t.size, used, str(folder),
                               str(kagglehub.cache_root(env)), "local", t.linked))
    return out


@dataclass(frozen=True)
class _Tree:
    size: int
    linked: int
    used: float | None
    files: int


def _tree(folder: Path, other: Callable[[str], bool] | None = None) -> _Tree:
    """Bytes of the files under ``folder`` (links followed), those reached through a link into
    the shared tier apart, and the newest time any of it was written or read.

    Folders count for the time too: a file added or removed changes its folder's.
    """
    size = linked = files = 0
    used: float | None = None
    stack = [(str(folder), other is not None and _links_elsewhere(str(folder).rstrip(os.sep), other))]
    seen: set[tuple[int, int]] = set()
    while stack:
        path, far = stack.pop()
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in seen:
                continue  # a link back up the tree
            seen.add((st.st_dev, st.st_ino))
            used = max(used or 0.0, st.st_mtime)
            try:
                names = os.listdir(path)
            except OSError:
                continue
            for name in names:
                child = os.path.join(path, name)
                stack.append((child, far or _links_elsewhere(child, other)))
        else:
            files += 1
            used = max(used or 0.0, st.st_atime, st.st_mtime)
            if far:
                linked += st.st_size
            else:
                size += st.st_size
    return _Tree(size, linked, used, files)


def _placed(p: Path) -> float:
    """When ``p`` was written, as itself (a link: when it was made) or what it leads to; 0 when absent."""
    try:
        own = os.lstat(p).st_mtime
    except OSError:
        return 0.0
    return max(own, _mtime(p))


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _matching(models: Iterable[CachedModel], rid: str) -> list[CachedModel]:
    """The cached models an id names (a torchvision builder's name names each of its cached weights),
    the local tier's only when it has any."""
    hits = [m for m in models if m.id == rid or (m.source == "torchvision" and m.id.split(".", 1)[0] == rid)]
    return [m for m in hits if m.tier == "local"] or hits


def path_of(raw_id: str, ctx: Context) -> str:
    """The path a framework loads for a cached model, the local tier's first; NotFoundError when it is not cached."""
    from ..ids import resolve_id
    from ..pull_runner import split_revision

    text, rev = split_revision(raw_id)
    pid = resolve_id(text, ctx)
    if pid.source == "hf" and rev:
        from ..caches import shared
        from ..caches.hf import RepoCache, hub_cache

        for cache in (hub_cache(ctx.environ), *shared.hub_caches(ctx.environ)):
            repo = RepoCache(cache, pid.ref)
            commit = repo.commit_of(rev)
            if commit is not None:
                return str(repo.snapshot(commit))
        raise NotFoundError(f"{pid}@{rev} is not in the Hugging Face cache", hint=f"zoofind pull {raw_id}")
    wanted = str(pid)
    hits = _matching(cached_models(ctx, source=pid.source if pid.source in SOURCES else None), wanted)
    if hits:
        return hits[0].path
    raise NotFoundError(f"{wanted} is not in any cache zoofind knows", hint=f"zoofind pull {raw_id}")


# -- filters ------------------------------------------------------------------------------
_AGE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.I)


def parse_size(text: str) -> int:
    """``50M``, ``1G`` (decimal), ``50MiB``, ``1GiB`` (binary), ``1500`` (bytes) -> bytes."""
    from ..units import parse_bytes

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


def select(models: Iterable[CachedModel], *, sort: str = "size", larger_than: int | None = None,
           unused_for: float | None = None, now: float | None = None, tier: str | None = None) -> list[CachedModel]:
    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r} is not one of {', '.join(SORTS)}")
    if tier not in (None, *TIERS):
        raise UsageError(f"--tier {tier!r} is not one of {', '.join(TIERS)}")
    now = time.time() if now is None else now
    out = [m for m in models if (larger_than is None or m.size > larger_than)
           and (unused_for is None or (m.last_used or 0) <= now - unused_for) and tier in (None, m.tier)]
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


def verify(ctx: Context, ids: Iterable[str] = ()) -> list[Verified]:
    """Re-hash cached files against what names them: a Hub blob's name is its sha256 (LFS)
    or git blob id, a torchvision checkpoint's name carries its sha256 prefix; TF Hub and
    kagglehub folders are checked to hold files (they record no hashes).

    Without ids: every local model, with the shared-tier files it links to. An id names
    its local entry, else its shared one.
    """
    from ..ids import resolve_id

    models = cached_models(ctx)
    wanted = list(ids)
    if not wanted:
        return [_verify_one(m) for m in models if m.tier == "local"]
    chosen = []
    for raw in wanted:
        rid = str(resolve_id(raw, ctx))
        hits = _matching(models, rid)
        if not hits:
            raise NotFoundError(f"{rid} is not in any cache zoofind knows", hint=f"zoofind pull {raw}")
        chosen += hits
    return [_verify_one(m) for m in chosen]


def _verify_one(m: CachedModel) -> Verified:
    problems: list[Problem] = []
    files = size = 0
    if m.source == "hf":
        from ..caches.hf import first_hop, snapshot_entries

        snapshots = Path(m.path).parent
        blobs = str(snapshots.parent / "blobs")
        checked: dict[str, str | None] = {}
        for snap in sorted(snapshots.iterdir()):
            for f in sorted(snapshot_entries(str(snap))):
                real = os.path.realpath(f)
                if not os.path.isfile(real):
                    problems.append(Problem(f, "missing"))
                    continue
                files += 1
                hop = first_hop(f)
                # The name is the repo's blobs/<etag> entry's, wherever its bytes are (the Xet store, the shared tier).
                name = os.path.basename(hop) if os.path.dirname(hop) == blobs else ""
                if real not in checked:
                    size += os.stat(real).st_size
                    checked[real] = _check_named(Path(real), name)
                if checked[real]:
                    problems.append(Problem(f, checked[real] or ""))
    elif m.source == "torchvision":
        from ..hubs.torchvision.source import hash_prefix

        f = Path(m.path)
        files, size = 1, f.stat().st_size
        prefix = hash_prefix(f.name)
        if prefix and not hash_file(f, Expected()).sha256.hexdigest().startswith(prefix):
            problems.append(Problem(str(f), "hash prefix mismatch"))
    else:
        t = _tree(Path(m.path))
        size, files = t.size, t.files
        if not files:
            problems.append(Problem(m.path, "empty"))
    return Verified(m.id, m.path, files, size, tuple(problems))


def _check_named(blob: Path, name: str) -> str | None:
    """A Hub blob named by a sha256 or a git blob id holds exactly those bytes; other names are not checked."""
    if re.fullmatch(r"[0-9a-f]{64}", name):
        return None if hash_file(blob, Expected()).sha256.hexdigest() == name else "sha256 mismatch"
    if re.fullmatch(r"[0-9a-f]{40}", name):
        h = hash_file(blob, Expected(git_sha1=name))
        return None if h.git is not None and h.git.hexdigest() == name else "git blob id mismatch"
    return None


# -- rm -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Removal:
    """What removing one model (or one Hub revision) deletes, and the bytes it frees."""

    id: str
    revision: str | None
    #: what goes (a whole Hub repo: its folder), then the Xet store blobs that go with it
    paths: tuple[str, ...]
    bytes: int
    source: str = ""
    #: the cache root it sits in
    cache: str = ""
    #: repo blob entries that link into huggingface_hub's Xet store (huggingface_hub removes those)
    store_links: tuple[str, ...] = ()
    #: Xet store blobs no other repo links to once this removal (and those before it) ran
    store_payloads: tuple[str, ...] = ()
    #: the download locks a pull of it would hold (a Hub repo's are listed when it runs)
    locks: tuple[str, ...] = ()


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


def plan_removal(ctx: Context, ids: Iterable[str]) -> list[Removal]:
    """Each id (``ID`` or ``hf:...@REV``) as a ``Removal``; NotFoundError for one not cached,
    AccessDeniedError for one only the shared tier holds (zoofind never changes it).

    A Hub revision takes its snapshot, the refs naming it, and only the blobs no other
    cached revision of the repo links to.
    """
    from ..ids import resolve_id
    from ..pull_runner import split_revision

    models = cached_models(ctx)
    out = []
    for raw in ids:
        text, rev = split_revision(raw)
        rid = str(resolve_id(text, ctx))
        hits = _matching(models, rid)
        if not hits:
            raise NotFoundError(f"{rid} is not in any cache zoofind knows", hint="`zoofind cache ls` lists what is")
        if all(m.tier == "shared" for m in hits):
            raise AccessDeniedError(f"{rid} is only in the shared tier ({hits[0].cache}), which zoofind never changes; nothing was removed",
                                    hint="its admin removes it there; `zoofind cache ls --tier local` lists what rm can remove")
        for m in hits:
            out.append(_hf_removal(m, rev) if m.source == "hf" else _whole(m, rev))
    return _account_store(out)


def _whole(m: CachedModel, rev: str | None) -> Removal:
    if rev:
        raise UsageError(f"{m.id} has no revisions to remove one of", hint=f"zoofind cache rm {m.id}")
    from ..caches import tfhub, torch

    p = Path(m.path)
    locks: tuple[Path, ...] = ()
    if m.source == "tfhub":
        paths = (str(p), str(tfhub.descriptor_path(p)))
        locks = (tfhub.lock_path(p),)
    elif m.source == "kaggle":
        paths = (str(p.with_name(p.name + ".complete")), str(p))  # the marker first: kagglehub then ignores the folder
    else:
        paths = (str(p),)
        locks = (torch.lock_path(p),)
    return Removal(m.id, None, paths, m.size, m.source, m.cache, locks=tuple(map(str, locks)))


def _hf_removal(m: CachedModel, rev: str | None) -> Removal:
    from ..caches.hf import RepoCache, first_hop, read_refs, snapshot_entries, store_dir

    ref = m.id.split(":", 1)[1]
    repo = RepoCache(Path(m.cache), ref)
    folder = str(repo.root)
    blobs_dir = os.path.join(folder, "blobs")
    store = store_dir(repo.cache)
    if rev is None:
        entries = _listdir(blobs_dir)
        links = [p for p in (os.path.join(blobs_dir, n) for n in entries) if _store_link(p, store)]
        size = _regular_bytes(folder)
        return Removal(m.id, None, (folder,), size, "hf", m.cache, tuple(links))
    commit = repo.commit_of(rev)
    if commit is None:
        raise NotFoundError(f"{m.id}@{rev} is not in the Hugging Face cache", hint="`zoofind cache ls` lists the cached revisions")
    snapshot = str(repo.snapshot(commit))
    snapshots = os.path.join(folder, "snapshots")

    def hops(snap: str) -> set[str]:
        return {first_hop(f) for f in snapshot_entries(snap)}

    mine = hops(snapshot)
    others = set().union(*(hops(os.path.join(snapshots, s)) for s in _listdir(snapshots) if s != commit))
    going = sorted(h for h in mine - others if os.path.dirname(h) == blobs_dir and os.path.lexists(h))
    links = [h for h in going if _store_link(h, store)]
    plain = [h for h in going if h not in links]
    refs = [os.path.join(folder, "refs", name) for name in read_refs(repo.root).get(commit, ())]
    trees = os.path.join(folder, "trees", f"{commit}.json")  # huggingface_hub's listing of that commit
    size = _regular_bytes(snapshot) + sum(_regular_bytes(h) for h in plain)
    paths = (*refs, snapshot, *plain, *links, *([trees] if os.path.lexists(trees) else []))
    return Removal(m.id, commit, paths, size, "hf", m.cache, tuple(links))


def _listdir(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _store_link(path: str, store: str | None) -> bool:
    from ..caches.hf import first_hop, is_store_payload

    return store is not None and os.path.islink(path) and is_store_payload(first_hop(path), store)


def _regular_bytes(path: str) -> int:
    """Bytes of the regular files at or below ``path``, links not followed: what deleting it frees."""
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    if stat.S_ISREG(st.st_mode):
        return st.st_size
    if not stat.S_ISDIR(st.st_mode):
        return 0
    size = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                if stat.S_ISREG(st.st_mode):
                    size += st.st_size
    return size


def _account_store(removals: list[Removal]) -> list[Removal]:
    """Credit each Xet store blob to the last removal that unlinks a reference to it, when
    every reference its manifest lists (and the disk confirms) is among those going."""
    if not any(r.store_links for r in removals):
        return removals
    from ..caches.hf import first_hop, store_references

    going = {link for r in removals for link in r.store_links}
    last: dict[str, int] = {}
    for i, r in enumerate(removals):
        for link in r.store_links:
            last[first_hop(link)] = i
    credited: dict[int, list[str]] = {}
    for payload, i in last.items():
        refs = store_references(payload, Path(removals[i].cache))
        if refs and refs <= going:
            credited.setdefault(i, []).append(payload)
    out = []
    for i, r in enumerate(removals):
        payloads = tuple(sorted(credited.get(i, ())))
        freed = sum(_regular_bytes(p) for p in payloads)
        out.append(replace(r, paths=(*r.paths, *payloads), bytes=r.bytes + freed, store_payloads=payloads))
    return out


def remove(removals: Iterable[Removal]) -> Removed:
    """Carry out each removal that no pull is using (its locks taken without waiting, held
    while it runs); the others are skipped with the lock owner's host and pid."""
    done: list[Removal] = []
    skipped: list[Skipped] = []
    freed = 0
    for r in removals:
        locks = _locks_of(r)
        leases, busy = _take(locks)
        if busy is not None:
            skipped.append(Skipped(r, busy))
            continue
        try:
            freed += _carry_out(r, {str(p) for p in locks})
        finally:
            for lease in reversed(leases):
                with contextlib.suppress(Exception):
                    lease.release(force=True)
        done.append(r)
    return Removed(freed, tuple(done), tuple(skipped))


def _locks_of(r: Removal) -> list[Path]:
    """The locks a pull of what ``r`` removes would hold: a Hub repo's lease first, then
    every download lock beside it now; else the file's or module's download lock."""
    if r.source == "hf":
        from ..caches.hf import REPO_LOCK, RepoCache

        repo = RepoCache(Path(r.cache), r.id.split(":", 1)[1])
        folder = repo.repo_lock().parent
        downloads = [folder / n for n in _listdir(str(folder)) if n.endswith(".zoofind.lock") and n != REPO_LOCK]
        return [repo.repo_lock(), *downloads]
    return [Path(p) for p in r.locks]


def _take(paths: list[Path]) -> tuple[list[Any], str | None]:
    """Every lock in ``paths`` held, or none and who holds the first one that is taken."""
    from ..caches.hf import REPO_LOCK
    from ..fetch.locks import lock_for, try_acquire

    held: list[Any] = []
    for p in dict.fromkeys(paths):
        if not p.parent.is_dir() and p.name != REPO_LOCK:
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
        what = "a pull or removal" if p.name == REPO_LOCK else "a pull"
        return [], f"in use by {what} ({who})"
    return held, None


def _carry_out(r: Removal, held: set[str]) -> int:
    """Delete what ``r`` names, in an order that leaves a consistent cache at every step; the bytes freed.
    ``held``: the locks taken for it (a download lock that is not among them belongs to a pull that began since)."""
    if r.source == "hf":
        _remove_hf(r, held)
    elif r.source == "tfhub":
        _remove_module(Path(r.paths[0]), Path(r.paths[1]))
    else:
        for p in r.paths:
            _delete(p)
    return r.bytes


def _remove_hf(r: Removal, held: set[str]) -> None:
    from ..caches.hf import RepoCache
    from ..fetch.partial import PREFIX

    repo = RepoCache(Path(r.cache), r.id.split(":", 1)[1])
    if r.revision is not None:
        refs_dir = str(repo.root / "refs")
        for p in r.paths:
            if p in r.store_links or p in r.store_payloads:
                continue
            if p.startswith(refs_dir + os.sep):
                if _read(p) != r.revision:
                    continue  # a pull pointed it at another commit since the plan: it stays
                os.unlink(p)
                _prune_empty(os.path.dirname(p), refs_dir)
            else:
                _delete(p)
        _collect_store(list(r.store_links), r.cache)
        return
    folder = str(repo.root)
    # Refs first (no ref ever names a missing snapshot), then snapshots (no link ever points at a missing blob), then blobs.
    refs_dir = os.path.join(folder, "refs")
    for dirpath, _, names in os.walk(refs_dir):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(dirpath, name))
    snapshots = os.path.join(folder, "snapshots")
    for name in _listdir(snapshots):
        _delete(os.path.join(snapshots, name))
    from ..caches.hf import store_dir

    blobs_dir = os.path.join(folder, "blobs")
    store = store_dir(repo.cache)
    links = []
    for name in _listdir(blobs_dir):
        p = os.path.join(blobs_dir, name)
        if name.startswith(PREFIX):
            lock = str(repo.lock(name[len(PREFIX):].removesuffix(".json")))
            if lock not in held and os.path.lexists(lock):
                continue  # a download a pull began after the locks were taken: its bytes stay
        if _store_link(p, store):
            links.append(p)
        else:
            _delete(p)
    _collect_store(links, r.cache)
    for name in _listdir(folder):
        if name not in ("snapshots", "refs", "blobs"):
            _delete(os.path.join(folder, name))
    for name in ("refs", "blobs"):
        _remove_empty(os.path.join(folder, name))  # empty now, unless a pull has just begun: its files stay
    if _listdir(folder) == ["snapshots"] and not _listdir(snapshots):
        # The empty folder goes in one step: huggingface_hub counts a repo folder without
        # snapshots/ as corrupted, so there is never one, even for an instant. It is renamed
        # below .locks/ (which scans skip) and deleted there.
        trash = repo.repo_lock().parent / f"{TRASH_PREFIX}{uuid.uuid4().hex}"
        with contextlib.suppress(OSError):
            os.rename(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _remove_empty(top: str) -> None:
    """The folders below ``top`` and ``top`` itself, those that are empty (deepest first)."""
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _prune_empty(folder: str, stop: str) -> None:
    while folder.startswith(stop + os.sep):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _collect_store(links: list[str], cache: str) -> None:
    """Remove repo blob links into huggingface_hub's Xet store through huggingface_hub, which
    then deletes each store blob whose manifest names no other link, under its own lock for
    that blob (the only lock huggingface_hub processes linking the same blob respect)."""
    if not links:
        return
    try:
        from huggingface_hub import DeleteCacheStrategy

        strategy = DeleteCacheStrategy(expected_freed_size=0, blobs=frozenset(map(Path, links)), refs=frozenset(),
                                       repos=frozenset(), snapshots=frozenset(), cache_dir=Path(cache))
    except (ImportError, TypeError):
        # A huggingface_hub without the store (1.x): the links go, the store blobs stay for one that knows them.
        for link in links:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
        return
    strategy.execute()


def _remove_module(module: Path, descriptor: Path) -> None:
    """A TF Hub module: renamed away first (it vanishes whole for tensorflow_hub), then its descriptor, then the bytes."""
    if module.is_symlink():
        module.unlink()  # a link into the shared tier: only the link goes
    elif module.exists():
        away = module.with_name(f"{module.name}.{uuid.uuid4().hex}.tmp")
        os.rename(module, away)
        descriptor.unlink(missing_ok=True)
        shutil.rmtree(away, ignore_errors=True)
        return
    descriptor.unlink(missing_ok=True)


def _delete(path: str) -> None:
    """A file, a link (never what it points to) or a folder tree."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# -- prune --------------------------------------------------------------------------------
STALE_PARTIAL = 86400.0
#: An emptied Hub repo folder on its way out, below ``.locks/<repo>/`` (left there only by an interrupted rm).
TRASH_PREFIX = ".zoofind-trash-"


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
    out = _account_store([_hf_removal(m, None) if m.source == "hf" else _whole(m, None) for m in evict])
    return out + _stale_partials(ctx, now)


def _stale_partials(ctx: Context, now: float) -> list[Removal]:
    from ..atomic import TMP_PREFIX
    from ..caches import tfhub, torch
    from ..caches.hf import hub_cache
    from ..fetch.partial import PREFIX

    hub = hub_cache(ctx.environ)
    # Each folder, with the download lock a partial's target there has.
    folders: list[tuple[Path, Callable[[Path], Path]]] = [
        (torch.checkpoints(ctx.environ), torch.lock_path),
        (tfhub.cache_dir(ctx.environ)[0], lambda t: tfhub.lock_path(t.with_name(t.name.removesuffix(".archive")))),
    ]
    folders += [(b, lambda t: hub / ".locks" / t.parent.parent.name / f"{t.name}.zoofind.lock") for b in hub.glob("models--*/blobs")]
    folders += [(b, lambda t: t) for b in hub.glob(".locks/models--*")]
    out = []
    for folder, lock_of in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        in_hub = folder.name == "blobs"
        for p in entries:
            name = p.name
            # huggingface_hub 2.x's own leftovers are process-unique: <etag>.<8 hex>.incomplete
            stale = name.startswith((PREFIX, TMP_PREFIX, TRASH_PREFIX)) or (in_hub and name.endswith(".incomplete")) or (
                p.is_dir() and re.fullmatch(r"[0-9a-f]{40}\.[0-9a-f]{32}\.tmp", name))
            try:
                age = now - p.stat().st_mtime
            except OSError:
                continue
            if not stale or age <= STALE_PARTIAL or name.endswith(".lock"):
                continue
            # The download it belongs to: taking its lock keeps a pull that resumes right now safe.
            lock = (str(lock_of(folder / name[len(PREFIX):].removesuffix(".json"))),) if name.startswith(PREFIX) else ()
            out.append(Removal(f"partial:{name}", None, (str(p),), _regular_bytes(str(p)), "partial", str(folder), locks=lock))
    return out
