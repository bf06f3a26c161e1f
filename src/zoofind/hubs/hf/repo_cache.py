"""The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out.

    <hub cache>/models--owner--name/       (a dataset: datasets--owner--name/, the same inside)
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

In a cache home (and so in each ``ZOOFIND_SHARED_CACHE`` root) the hub cache is
``huggingface/hub/`` (``PLACE``); ``from_shared`` places a revision from there.

What a repo holds and how big it is (reading the cache, huggingface_hub 2.x's cache-wide Xet
store too) is ``repo_scan``'s.

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
import functools
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...caches import shared
from ...core import paths
from ...core.atomic import TMP_PREFIX, replacing
from ...core.errors import ZoofindError

if TYPE_CHECKING:
    from ...models.files import FileEntry

COMMIT_RE = re.compile(r"[0-9a-f]{40}")
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


#: Where the hub cache sits in a cache home, and so in every shared root.
PLACE = shared.declare(("huggingface", "hub"), hub_cache)


def lock_name(etag: str) -> str:
    """The name of a blob's download lock in the repo's ``.locks`` folder."""
    return f"{etag}.zoofind.lock"


def folder_name(repo: str) -> str:
    """huggingface_hub's ``repo_folder_name``: ``models--owner--name``; ``datasets--owner--name`` for
    a dataset (the ref ``datasets/owner/name``)."""
    kind, sep, rest = repo.partition("/")
    if sep and kind == "datasets":
        return "datasets--" + rest.replace("/", "--")
    return "models--" + repo.replace("/", "--")



class RepoCache:
    """One repo's folder in the hub cache (a model's, or a dataset's for a ``datasets/...`` ref)."""

    def __init__(self, cache: Path, repo: str) -> None:
        self.cache = cache
        self.repo = repo
        self.root = cache / folder_name(repo)
        # (path, made by this instance) of every link() of each commit, for write_ref's check.
        self._linked: dict[str, list[tuple[str, bool]]] = {}

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def locks(self) -> Path:
        return self.cache / ".locks" / folder_name(self.repo)

    def blob(self, etag: str) -> Path:
        return self.blobs / etag

    def lock(self, etag: str) -> Path:
        return self.locks / lock_name(etag)

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
        # lazy: filelock (~40 ms) only when a file is placed: off pull --offline (cached) and cache start-up
        from filelock import Timeout

        from ...fetch.locks import lock_for  # lazy: as filelock above

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
        self.link_all(commit, [(path, etag)])
        return self.snapshot(commit) / path

    def link_all(self, commit: str, files: Iterable[tuple[str, str]]) -> None:
        """``link`` for each (path, etag), under one lease for them all: a dataset of 2,000 small
        files took the repo's lease 2,000 times (a third of its pull), for links a removal can
        only race as a whole."""
        todo = []
        for path, etag in files:
            if _links_to(self.snapshot(commit) / path, self.blob(etag)):
                # Already in place (a cached model pulled again): nothing to write, so no lease (a
                # tenth of a second for a 20-file repo). write_ref still checks it under the lease
                # before it points a revision at this commit.
                self._linked.setdefault(commit, []).append((path, False))
            else:
                todo.append((path, etag))
        if not todo:
            return
        with self._placing():
            for path, etag in todo:
                self._link_held(commit, path, etag)

    def _link_held(self, commit: str, path: str, etag: str) -> None:
        """One link, the repo's lease held."""
        dst = self.snapshot(commit) / path
        blob = self.blob(etag)
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
            with replacing(dst) as out, blob.open("rb") as src:
                shutil.copyfileobj(src, out, 4 * 1024 * 1024)
        self._linked.setdefault(commit, []).append((path, made))

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
