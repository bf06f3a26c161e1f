"""The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out.

    <hub cache>/models--owner--name/
        blobs/<etag>                       the bytes (etag: LFS sha256, else git blob id)
        snapshots/<commit>/<path>          relative symlinks into ../../blobs
        refs/<branch or tag>               the commit a revision pointed to
        trees/<commit>.json                the commit's file listing (huggingface_hub >= 1.33)
    <hub cache>/.locks/models--owner--name/ lock files (scan_cache_dir skips .locks)
    <hub cache>/CACHEDIR.TAG               "back-up tools, skip this folder" (bford.info/cachedir)

The hub cache is ``$HF_HUB_CACHE`` (or the older ``HUGGINGFACE_HUB_CACHE``), else
``$HF_HOME/hub``. Where the file system cannot hold symlinks, the file itself sits at its
snapshot path (what huggingface_hub does there). Partial downloads sit in ``blobs/`` under
a name huggingface_hub never reads; ``refs/`` is written only once every file of the
snapshot is in place, so a framework never resolves a revision to half a model.

``trees/<commit>.json`` is huggingface_hub's ``_tree_cache`` format 1 (``{"format_version": 1,
"files": {path: {"size", "blob_id"[, "lfs_sha256", "lfs_size"][, "xet_hash"]}}}``, paths
sorted, ``indent=1``), which ``get_cached_repo_tree`` reads and by which an offline
``snapshot_download`` tells a whole snapshot from a partial one. huggingface_hub lists the
whole repo there; zoofind lists the files it placed (added to any listing already there),
because the weight formats it skips by default would otherwise make every snapshot it pulled
"incomplete" offline. The flip side: an online ``snapshot_download`` of that commit trusts the
listing and fetches none of the skipped files (``zoofind pull --all-files`` adds them).

huggingface_hub 2.x adds a cache-wide store for files it fetched over Xet
(``utils/_shared_blobs.py``; off with ``HF_HUB_DISABLE_XET=1`` or
``HF_HUB_DISABLE_SHARED_BLOBS=1``)::

    <hub cache>/blobs/.huggingface-shared-blobs   marker, "1\\n" (an unmarked blobs/ is not the store)
    <hub cache>/blobs/<2 hex>/<xet hash>          the bytes, once for every repo holding them
    <hub cache>/blobs/<2 hex>/<xet hash>.refs     manifest: one "models--o--n/blobs/<etag>" line a referencing repo
    <hub cache>/blobs/<2 hex>/<xet hash>.lock     huggingface_hub's lock for linking and collecting it

and a repo's ``blobs/<etag>`` is then a relative symlink into it. A repo's size still
counts such a blob (as ``scan_cache_dir()``'s per-repo ``size_on_disk`` does); totals
count it once (``CachedRepo.store_blobs`` says which). The shared tier (``shared.py``)
adds a third kind of ``blobs/<etag>``: an absolute symlink to a blob in a shared root.

Removal and placing exclude each other through one lease per repo (``RepoCache.repo_lock``):
``link`` and ``write_ref`` hold it while they check that the blobs they make visible are
still there, and ``zoofind cache rm``/``prune`` hold it while they delete (with every
download lock of the repo), so a revision never becomes visible with a blob a removal took.
A link or ref already as it would be written is left alone, without the lease: pulling a
cached model again writes nothing (a removal racing it finds the repo as if the pull had
ended first).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...core import paths
from ...core.atomic import TMP_PREFIX, replacing
from ...core.errors import ZoofindError

if TYPE_CHECKING:
    from ..base import FileEntry

COMMIT_RE = re.compile(r"[0-9a-f]{40}")
#: huggingface_hub's Xet store: folder, marker file and its content, payload names.
STORE_DIR = "blobs"
STORE_MARKER = ".huggingface-shared-blobs"
STORE_LAYOUT = "1\n"
XET_HASH_RE = re.compile(r"[0-9a-f]{64}")
#: The lease placing (link, write_ref) and removal (cache rm/prune) take, beside the download locks.
REPO_LOCK = "repo.zoofind.lock"
#: Seconds ``link``/``write_ref`` wait for a removal of the same repo to finish.
PLACE_WAIT = 600.0
#: huggingface_hub's cache directory tag (``_local_folder.CACHEDIR_TAG_CONTENT``), byte for byte.
CACHEDIR_TAG = "CACHEDIR.TAG"
CACHEDIR_TAG_CONTENT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)
#: ``_tree_cache.TREE_CACHE_FORMAT_VERSION``: huggingface_hub ignores (and rewrites) a listing of another.
TREE_FORMAT = 1


class RemovedWhilePlacing(ZoofindError):
    """A ``cache rm``/``prune`` took a blob this placing was about to make visible."""


def hub_cache(env: Mapping[str, str]) -> Path:
    override = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    return Path(os.path.expandvars(override)).expanduser() if override else paths.hf_home(env) / "hub"


def folder_name(repo: str) -> str:
    return "models--" + repo.replace("/", "--")


class RepoCache:
    """One model repo's folder in the hub cache."""

    def __init__(self, cache: Path, repo: str) -> None:
        self.cache = cache
        self.repo = repo
        self.root = cache / folder_name(repo)
        # (path, made by this instance) of every link() of each commit, for write_ref's check.
        self._linked: dict[str, list[tuple[str, bool]]] = {}

    def blob(self, etag: str) -> Path:
        return self.root / "blobs" / etag

    def lock(self, etag: str) -> Path:
        return self.cache / ".locks" / folder_name(self.repo) / f"{etag}.zoofind.lock"

    def repo_lock(self) -> Path:
        return self.cache / ".locks" / folder_name(self.repo) / REPO_LOCK

    def snapshot(self, commit: str) -> Path:
        return self.root / "snapshots" / commit

    def commit_of(self, revision: str) -> str | None:
        """The commit ``revision`` names here: a ref's content, or the revision if it is a cached commit."""
        if COMMIT_RE.fullmatch(revision) and self.snapshot(revision).is_dir():
            return revision
        try:
            commit = (self.root / "refs" / revision).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return commit if COMMIT_RE.fullmatch(commit) else None

    def present(self, commit: str, path: str, size: int | None) -> bool:
        """Whether ``path`` of ``commit`` is in place (and, if its size is known, whole)."""
        try:
            st = (self.snapshot(commit) / path).stat()  # follows the link to the blob
        except OSError:
            return False
        return size is None or st.st_size == size

    @contextlib.contextmanager
    def _placing(self) -> Iterator[None]:
        """The repo's lease, waited for: a removal of this repo finishes first (it takes seconds)."""
        from filelock import Timeout

        from ...fetch.locks import lock_for

        lease = lock_for(self.repo_lock())
        try:
            lease.acquire(timeout=PLACE_WAIT)
        except Timeout:
            raise ZoofindError(f"hf:{self.repo}: another zoofind process has held {self.repo_lock()} "
                               f"for {PLACE_WAIT:.0f} s",
                               hint="run `zoofind cache rm` or `pull` again once it is done") from None
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                lease.release(force=True)

    def link(self, commit: str, path: str, etag: str) -> Path:
        """Make the verified blob visible at ``snapshots/<commit>/<path>`` (atomically).

        ``RemovedWhilePlacing`` when the blob is gone (a ``cache rm`` ran since it was
        placed): the links this instance made for ``commit`` are taken back first.
        """
        dst = self.snapshot(commit) / path
        blob = self.blob(etag)
        if _links_to(dst, blob):
            # Already in place (a cached model pulled again): nothing to write, so no lease (a
            # tenth of a second for a 20-file repo). write_ref still checks it under the lease
            # before it points a revision at this commit.
            self._linked.setdefault(commit, []).append((path, False))
            return dst
        with self._placing():
            if not os.path.lexists(blob):
                self._undo(commit)
                raise self._removed()
            made = not os.path.lexists(dst)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if symlinks_supported(self.cache):
                rel = os.path.relpath(blob, dst.parent)
                tmp = dst.with_name(f"{TMP_PREFIX}{os.getpid()}-{dst.name}")
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                os.symlink(rel, tmp)
                os.replace(tmp, dst)
            elif blob.exists() and not dst.exists():
                # No symlinks here: the snapshot holds a copy (huggingface_hub moves a new blob
                # there instead, then downloads it again for the next path that needs the same
                # bytes; a copy keeps every path and --dest working, at the cost of the space).
                import shutil

                with replacing(dst) as out, blob.open("rb") as src:
                    shutil.copyfileobj(src, out, 4 * 1024 * 1024)
            self._linked.setdefault(commit, []).append((path, made))
        return dst

    def write_ref(self, revision: str, commit: str) -> None:
        """Point ``revision`` at ``commit``, once every file this instance linked for it is still there."""
        if not any(made for _, made in self._linked.get(commit, ())) and self.commit_of(revision) == commit:
            # Nothing changes: the revision already resolves to this commit and this instance
            # made no link visible (a cached model pulled again). A removal racing this call
            # finds the repo as if the pull had ended before it began.
            return
        with self._placing():
            if any(not (self.snapshot(commit) / p).exists() for p, _ in self._linked.get(commit, ())):
                self._undo(commit)
                raise self._removed()
            if revision == commit:
                return  # a commit is its own ref: huggingface_hub writes none
            # Written beside the lock and renamed into refs/: scan_cache_dir reads every file
            # below refs/ as a ref, a temporary one too (a warning, forever if the write is killed).
            with replacing(self.root / "refs" / revision, "w", beside=self.repo_lock().parent) as fh:
                fh.write(commit)

    def tree(self, commit: str) -> Path:
        return self.root / "trees" / f"{commit}.json"

    def record(self, commit: str, files: Iterable[FileEntry]) -> None:
        """What huggingface_hub writes beside a snapshot: the cache's ``CACHEDIR.TAG`` and the
        commit's tree listing, ``files`` added to it (see the module's docstring). The listing
        is written only when every file carries the Hub's metadata (an offline pull knows no
        LFS pointer ids: it leaves the listing as it is). Like huggingface_hub, a folder that
        cannot be written costs these files, never the pull."""
        with contextlib.suppress(OSError):
            tag = self.cache / CACHEDIR_TAG
            if not tag.exists():
                # The temporary file beside the locks: scan_cache_dir warns about any other file in the cache's root.
                with replacing(tag, "w", beside=self._lock_dir()) as fh:
                    fh.write(CACHEDIR_TAG_CONTENT)
        entries = {}
        for f in files:
            if not isinstance(f.size, int) or f.blob_id is None or (f.sha256 is None and f.git_sha1 is None):
                return
            entry: dict[str, object] = {"size": f.size, "blob_id": f.blob_id}
            if f.sha256 is not None:  # stored in LFS: its size is the file's, as the Hub's listing gives it
                entry.update(lfs_sha256=f.sha256, lfs_size=f.size)
            entries[f.path] = entry
        if self.tree(commit).exists() and entries.keys() <= self._read_tree(commit).keys():
            return  # listed already (a cached model pulled again): no lease, nothing written
        with self._placing():
            if not self.snapshot(commit).is_dir():
                return  # a removal took the snapshot meanwhile: a listing alone would be a broken repo folder
            listing = self._read_tree(commit)
            added = {p: e for p, e in entries.items() if p not in listing}
            if not added and self.tree(commit).exists():
                return
            with contextlib.suppress(OSError), replacing(self.tree(commit), "w", beside=self._lock_dir()) as fh:
                merged = {**listing, **added}
                json.dump({"format_version": TREE_FORMAT, "files": {p: merged[p] for p in sorted(merged)}}, fh,
                          indent=1)

    def _read_tree(self, commit: str) -> dict[str, object]:
        """The files of the commit's listing; empty when there is none or huggingface_hub would not read it."""
        try:
            with open(self.tree(commit), encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}
        files = data.get("files") if isinstance(data, dict) and data.get("format_version") == TREE_FORMAT else None
        return dict(files) if isinstance(files, dict) else {}

    def _lock_dir(self) -> Path:
        folder = self.repo_lock().parent
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _removed(self) -> RemovedWhilePlacing:
        return RemovedWhilePlacing(f"hf:{self.repo}: removed from the cache (zoofind cache rm or prune) "
                                   "while this pull was placing it",
                                   hint=f"pull hf:{self.repo} again")

    def _undo(self, commit: str) -> None:
        """Take back the links this instance made for ``commit``, and the folders left empty (never ``snapshots/``)."""
        snap = self.snapshot(commit)
        for path, made in self._linked.pop(commit, ()):
            if not made:
                continue
            f = snap / path
            with contextlib.suppress(OSError):
                f.unlink()
            for parent in f.parents:
                if parent == snap.parent:
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break


def _links_to(dst: Path, blob: Path) -> bool:
    """Whether ``dst`` is already the link ``RepoCache.link`` makes to ``blob``, and ``blob`` is there."""
    try:
        return os.readlink(dst) == os.path.relpath(blob, dst.parent) and os.path.exists(dst)
    except OSError:  # no link there, or not a link
        return False


@functools.lru_cache(maxsize=8)
def symlinks_supported(cache: Path) -> bool:
    cache.mkdir(parents=True, exist_ok=True)
    probe = cache / f"{TMP_PREFIX}symlink-{os.getpid()}"
    try:
        os.symlink("target", probe)
    except OSError:
        return False
    probe.unlink()
    return True


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


def scan(cache: Path, *, other_tier: Callable[[str], bool] | None = None) -> list[CachedRepo]:
    """Every model repo in the hub cache, sized as ``huggingface_hub.scan_cache_dir()`` sizes
    each repo: the blobs the snapshots link to, each counted once (shared between revisions),
    except bytes ``other_tier`` claims (a path in the shared tier), which go to ``linked_size``."""
    out = []
    try:
        names = sorted(n for n in os.listdir(cache) if n.startswith("models--"))
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
            name[len("models--"):].replace("--", "/", 1), Path(folder),
            tuple((c, tuple(sorted(refs.get(c, ())))) for c in commits),
            sum(b.size for b in found if b.kind != "linked"),
            max((b.used for b in found), default=None),
            sum(b.size for b in found if b.kind == "linked"),
            tuple(sorted({(b.real, b.size) for b in found if b.kind == "store"})),
        ))
    return out
