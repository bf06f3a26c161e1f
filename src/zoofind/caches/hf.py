"""The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out.

    <hub cache>/models--owner--name/
        blobs/<etag>                       the bytes (etag: LFS sha256, else git blob id)
        snapshots/<commit>/<path>          relative symlinks into ../../blobs
        refs/<branch or tag>               the commit a revision pointed to
    <hub cache>/.locks/models--owner--name/ lock files (scan_cache_dir skips .locks)

The hub cache is ``$HF_HUB_CACHE`` (or the older ``HUGGINGFACE_HUB_CACHE``), else
``$HF_HOME/hub``. Where the file system cannot hold symlinks, the file itself sits at its
snapshot path (what huggingface_hub does there). Partial downloads sit in ``blobs/`` under
a name huggingface_hub never reads; ``refs/`` is written only once every file of the
snapshot is in place, so a framework never resolves a revision to half a model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
from pathlib import Path
from typing import Mapping

from .. import paths
from ..atomic import TMP_PREFIX, replacing

COMMIT_RE = re.compile(r"[0-9a-f]{40}")


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

    def blob(self, etag: str) -> Path:
        return self.root / "blobs" / etag

    def lock(self, etag: str) -> Path:
        return self.cache / ".locks" / folder_name(self.repo) / f"{etag}.zoofind.lock"

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

    def link(self, commit: str, path: str, etag: str) -> Path:
        """Make the verified blob visible at ``snapshots/<commit>/<path>`` (atomically)."""
        dst = self.snapshot(commit) / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        blob = self.blob(etag)
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
        return dst

    def write_ref(self, revision: str, commit: str) -> None:
        if revision == commit:
            return  # a commit is its own ref: huggingface_hub writes none
        with replacing(self.root / "refs" / revision, "w") as fh:
            fh.write(commit)


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


def scan(cache: Path) -> list["CachedRepo"]:
    """Every model repo in the hub cache, sized as ``huggingface_hub.scan_cache_dir()`` sizes it:
    the blobs the snapshots link to, each counted once (shared between revisions)."""
    out = []
    try:
        folders = sorted(p for p in cache.iterdir() if p.name.startswith("models--") and p.is_dir())
    except OSError:
        return []
    for folder in folders:
        repo = folder.name[len("models--"):].replace("--", "/", 1)
        refs: dict[str, list[str]] = {}
        try:
            for ref in (folder / "refs").rglob("*"):
                if ref.is_file():
                    commit = ref.read_text(encoding="utf-8", errors="replace").strip()
                    refs.setdefault(commit, []).append(ref.relative_to(folder / "refs").as_posix())
        except OSError:
            pass
        blobs: dict[str, os.stat_result] = {}
        revisions = []
        for snap in sorted((folder / "snapshots").glob("*")) if (folder / "snapshots").is_dir() else ():
            revisions.append((snap.name, tuple(sorted(refs.get(snap.name, ())))))
            for f in snap.rglob("*"):
                try:
                    real = f.resolve()
                    st = real.stat()
                except OSError:
                    continue
                if not f.is_dir():
                    blobs.setdefault(str(real), st)
        if not revisions:
            continue
        stats = list(blobs.values())
        out.append(CachedRepo(
            repo, folder, tuple(revisions), sum(s.st_size for s in stats),
            max((max(s.st_atime, s.st_mtime) for s in stats), default=None),
        ))
    return out


@dataclasses.dataclass(frozen=True)
class CachedRepo:
    repo: str
    folder: Path
    #: (commit, refs pointing at it) for each snapshot
    revisions: tuple[tuple[str, tuple[str, ...]], ...]
    size: int
    last_used: float | None
