"""Reading the Hugging Face hub cache: what each repo holds, sized as ``huggingface_hub.scan_cache_dir()``
sizes it (``repo_cache`` places what is read here).

huggingface_hub 2.x adds a cache-wide store for files it fetched over Xet
(``utils/_shared_blobs.py``; off with ``HF_HUB_DISABLE_XET=1`` or
``HF_HUB_DISABLE_SHARED_BLOBS=1``)::

    <hub cache>/blobs/.huggingface-shared-blobs   marker, "1\\n" (an unmarked blobs/ is not the store)
    <hub cache>/blobs/<2 hex>/<xet hash>          the bytes, once for every repo holding them
    <hub cache>/blobs/<2 hex>/<xet hash>.refs     manifest: one "models--o--n/blobs/<etag>" line a referencing repo
    <hub cache>/blobs/<2 hex>/<xet hash>.lock     huggingface_hub's lock for linking and collecting it

and a repo's ``blobs/<etag>`` is then a relative symlink into it. A repo's size still
counts such a blob (as ``scan_cache_dir()``'s per-repo ``size_on_disk`` does); totals
count it once (``CachedRepo.store_blobs`` says which). The shared tier (``caches.shared``)
adds a third kind of ``blobs/<etag>``: an absolute symlink to a blob in a shared root.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

#: huggingface_hub's Xet store: folder, marker file and its content, payload names.
STORE_DIR = "blobs"
STORE_MARKER = ".huggingface-shared-blobs"
STORE_LAYOUT = "1\n"
XET_HASH_RE = re.compile(r"[0-9a-f]{64}")


# -- huggingface_hub's Xet store ---------------------------------------------------------------
def store_dir(cache: Path) -> str | None:
    """The cache-wide Xet store's folder when huggingface_hub marked it as one, else None."""
    folder = os.path.join(cache, STORE_DIR)
    try:
        with open(os.path.join(folder, STORE_MARKER), encoding="utf-8") as fh:
            return folder if fh.read() == STORE_LAYOUT else None
    except (OSError, UnicodeDecodeError):
        return None


def is_store_payload(path: str, store: str | None) -> bool:
    """Whether ``path`` (normalised) is ``<store>/<2 hex>/<xet hash>``."""
    if store is None:
        return False
    prefix, name = os.path.split(path)
    return (os.path.dirname(prefix) == store and bool(XET_HASH_RE.fullmatch(name))
            and os.path.basename(prefix) == name[:2])


def store_references(payload: str, cache: Path) -> set[str] | None:
    """The repo blob entries (absolute paths) that link to ``payload`` now, read from its
    ``.refs`` manifest and each checked on disk; None when the manifest is missing or
    unreadable (huggingface_hub then keeps the payload, whoever asks)."""
    try:
        with open(payload + ".refs", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    out = set()
    for line in lines:
        parts = line.split("/")
        if len(parts) != 3 or parts[1] != "blobs" or "--" not in parts[0] or ".." in parts or not parts[2]:
            continue
        entry = os.path.join(cache, *parts)
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if os.path.normpath(os.path.join(os.path.dirname(entry), target)) == payload:
            out.add(entry)
    return out


# -- what a repo holds ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Blob:
    """What one snapshot entry's bytes are: the repo's ``blobs/<etag>`` entry (or the entry
    itself where there are no symlinks) and where its bytes really lie."""

    #: the first link target of the snapshot entry, normalised (usually ``<repo>/blobs/<etag>``)
    entry: str
    #: the file the chain of links ends at
    real: str
    size: int
    used: float
    #: "local" (this cache's own bytes), "store" (huggingface_hub's Xet store), "linked" (another tier)
    kind: str


def snapshot_entries(snapshot: str) -> Iterator[str]:
    """Every file or link below a snapshot folder (links to folders are not followed)."""
    stack = [snapshot]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    else:
                        yield e.path
        except OSError:
            continue


def first_hop(path: str) -> str:
    """Where a snapshot entry points (normalised, not followed further); the entry itself if it is no link."""
    try:
        target = os.readlink(path)
    except OSError:
        return path
    return os.path.normpath(os.path.join(os.path.dirname(path), target))


def blob_of(entry: str, folder: str, store: str | None, other_tier: Callable[[str], bool] | None) -> Blob | None:
    """Follow ``entry``'s links to the bytes; None when the chain is broken (a missing blob)."""
    hops = [entry]
    p = entry
    for _ in range(16):
        try:
            st = os.lstat(p)
        except OSError:
            return None
        if not stat.S_ISLNK(st.st_mode):
            break
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
        hops.append(p)
    else:
        return None  # a loop of links
    if stat.S_ISDIR(st.st_mode):
        return None
    kind = "local"
    if is_store_payload(p, store):
        kind = "store"
    elif other_tier is not None and not p.startswith(folder + os.sep):
        # The links as written (the shared tier writes the root's own path) and the real path both count.
        outside = [h for h in hops if not h.startswith(folder + os.sep)]
        if any(other_tier(h) for h in outside) or other_tier(os.path.realpath(p)):
            kind = "linked"
    return Blob(entry, p, st.st_size, max(st.st_atime, st.st_mtime), kind)


@dataclasses.dataclass(frozen=True)
class CachedRepo:
    repo: str
    folder: Path
    #: (commit, refs pointing at it) for each snapshot
    revisions: tuple[tuple[str, tuple[str, ...]], ...]
    #: bytes in this cache, each blob once (Xet store blobs too, as scan_cache_dir's size_on_disk)
    size: int
    last_used: float | None
    #: bytes of the files in another tier (the shared one) that the snapshots link to; not in ``size``
    linked_size: int = 0
    #: (payload path, bytes) of the blobs in huggingface_hub's Xet store, which other repos may share
    store_blobs: tuple[tuple[str, int], ...] = ()


def read_refs(folder: Path) -> dict[str, list[str]]:
    """commit -> the refs naming it (``main``, ``refs/pr/1``, tags) in one repo folder."""
    refs: dict[str, list[str]] = {}
    base = os.path.join(folder, "refs")
    for dirpath, _, names in os.walk(base):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    commit = fh.read().strip()
            except OSError:
                continue
            refs.setdefault(commit, []).append(os.path.relpath(path, base).replace(os.sep, "/"))
    return refs


def _ref_of(name: str) -> str:
    """``models--o--n`` -> ``o/n``, ``datasets--o--n`` -> ``datasets/o/n`` (``repo_cache.folder_name``'s inverse)."""
    return name.replace("--", "/", 2) if name.startswith("datasets--") else name[len("models--"):].replace("--", "/", 1)


def scan(cache: Path, *, other_tier: Callable[[str], bool] | None = None) -> list[CachedRepo]:
    """Every model and dataset repo in the hub cache, sized as ``huggingface_hub.scan_cache_dir()`` sizes
    each repo: the blobs the snapshots link to, each counted once (shared between revisions),
    except bytes ``other_tier`` claims (a path in the shared tier), which go to ``linked_size``."""
    out = []
    try:
        names = sorted(n for n in os.listdir(cache) if n.startswith(("models--", "datasets--")))
    except OSError:
        return []
    store = store_dir(cache)
    for name in names:
        folder = os.path.join(cache, name)
        snapshots = os.path.join(folder, "snapshots")
        try:
            commits = sorted(os.listdir(snapshots))
        except OSError:
            continue
        commits = [c for c in commits if os.path.isdir(os.path.join(snapshots, c))]
        if not commits:
            continue
        refs = read_refs(Path(folder))
        blobs: dict[str, Blob | None] = {}
        for commit in commits:
            for f in snapshot_entries(os.path.join(snapshots, commit)):
                hop = first_hop(f)
                if hop not in blobs:
                    blobs[hop] = blob_of(hop, folder, store, other_tier)
        found = [b for b in blobs.values() if b is not None]
        out.append(CachedRepo(
            _ref_of(name), Path(folder),
            tuple((c, tuple(sorted(refs.get(c, ())))) for c in commits),
            sum(b.size for b in found if b.kind != "linked"),
            max((b.used for b in found), default=None),
            sum(b.size for b in found if b.kind == "linked"),
            tuple(sorted({(b.real, b.size) for b in found if b.kind == "store"})),
        ))
    return out
