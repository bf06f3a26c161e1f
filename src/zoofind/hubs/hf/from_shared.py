"""A Hub revision from the shared tier (``ZOOFIND_SHARED_CACHE``), for a pull with no network.

Each shared root holds a hub cache at ``huggingface/hub`` (``repo_cache.PLACE``). A blob there
is named by its hash, so every file of a revision can be checked before anything of it becomes
visible here; the revision is then placed as a download places it (blobs, snapshot links, the
ref last). Online, the fetch engine links single blobs from the same place
(``caches.shared.link_file``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...caches import shared
from ...core.errors import OfflineError
from ...models.transfer import Expected
from .repo_cache import PLACE, RepoCache

#: A Hub blob's name: its sha256 (LFS files) or its git blob id (the others).
BLOB_NAME = re.compile(r"[0-9a-f]{64}|[0-9a-f]{40}")


@dataclass(frozen=True)
class SnapshotLink:
    """A Hub revision linked from a shared hub cache into the user's own (``link_snapshot``)."""

    commit: str
    files: tuple[str, ...]
    notes: tuple[str, ...] = ()


def link_snapshot(local: RepoCache, revision: str, env: Mapping[str, str]) -> SnapshotLink | None:
    """With no network: ``revision`` of ``local``'s repo from the first shared hub cache that
    has it, each file checked against the hash its blob is named by and linked into the
    user's cache (``blobs/<etag>`` -> the shared blob, the snapshot's usual relative links,
    the ref last). None when no root has the revision; ``OfflineError`` when a root has it
    but a file fails its check (nothing of that revision becomes visible then).
    """
    for cache in PLACE.shared(env):
        there = RepoCache(cache, local.repo)
        commit = there.commit_of(revision)
        if commit is None:
            continue
        snap = there.snapshot(commit)
        files: list[tuple[str, str]] = []
        for p in sorted(snap.rglob("*")):
            if p.is_dir():
                continue
            etag = Path(os.readlink(p)).name if p.is_symlink() else ""
            # A blob's name is its sha256 (LFS) or git blob id; anything else cannot be checked.
            if not BLOB_NAME.fullmatch(etag):
                raise OfflineError(f"hf:{local.repo} ({revision}): the shared copy {p} is not a link to a named "
                                   "blob; it cannot be checked",
                                   hint="the shared tier should be filled with zoofind pull or huggingface_hub")
            files.append((p.relative_to(snap).as_posix(), etag))
        local.snapshot(commit).mkdir(parents=True, exist_ok=True)  # first, as a download makes it: no scan warnings
        notes: list[str] = []
        for rel, etag in files:
            if local.blob(etag).exists():
                continue  # this user's own copy, checked when it arrived
            expected = Expected(sha256=etag) if len(etag) == 64 else Expected(git_sha1=etag)
            linked = shared.link_file(local.blob(etag), expected, env, f"{local.repo.rsplit('/', 1)[-1]}/{rel}")
            notes.extend(linked.notes)
            if linked.source is None:
                raise OfflineError(f"hf:{local.repo} ({revision}): no shared copy of {rel} passes its check",
                                   hint="; ".join(notes) or "ask the shared tier's admin to pull it again")
        local.link_all(commit, files)
        local.write_ref(revision, commit)
        return SnapshotLink(commit, tuple(rel for rel, _ in files), tuple(notes))
    return None
