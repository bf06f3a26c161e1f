"""The read-only shared tier: model folders an admin filled once for a whole lab.

``ZOOFIND_SHARED_CACHE`` names one or more folders (separated by ``:``, as ``PATH`` is),
each laid out as a cache home (``$XDG_CACHE_HOME``) is, so an admin fills one with zoofind
itself (``XDG_CACHE_HOME=/shared/models zoofind pull ...``)::

    <root>/huggingface/hub/              a Hugging Face hub cache
    <root>/torch/hub/checkpoints/        torch.hub's checkpoint folder
    <root>/tfhub_modules/                TF Hub module folders named by sha1

zoofind never writes below these folders (they may be read-only mounts): ``pull`` checks a
file there (size and hash) and links it into the user's own cache instead of downloading,
and ``cache ls`` shows which tier holds what. Roots that do not exist are left out, so
one setting works on every node whether or not the mount is there.

Why the user's own cache gets links, rather than the frameworks being pointed at the
shared folders: huggingface_hub, torch.hub and tensorflow_hub each read one cache folder
(``HF_HUB_CACHE``, ``TORCH_HOME``, ``TFHUB_CACHE_DIR``), and huggingface_hub cannot use a
read-only one as that folder (it writes lock files even to read: huggingface_hub issue
#2797). With links, a model a lab shares and a model a user fetched alone sit side by side
in one cache the frameworks already read, and ``HF_HUB_OFFLINE=1`` finds both.

A shared file is only ever linked after the same check a download gets (its size, then its
SHA-256, git blob id or the hash prefix its name carries, ``fetch.integrity``); one that
fails is passed over with a note, never deleted or repaired (it is not the user's), and the
file is downloaded instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..fetch.integrity import Expected
    from ..hubs.hf.repo_cache import RepoCache

ENV = "ZOOFIND_SHARED_CACHE"
#: Where each cache sits in a root: the layout one ``XDG_CACHE_HOME`` gives the three hubs.
HUB = ("huggingface", "hub")
CHECKPOINTS = ("torch", "hub", "checkpoints")
TFHUB = ("tfhub_modules",)
#: A Hub blob's name: its sha256 (LFS files) or its git blob id (the others).
BLOB_NAME = re.compile(r"[0-9a-f]{64}|[0-9a-f]{40}")


def roots(env: Mapping[str, str]) -> tuple[Path, ...]:
    """The shared tier's folders that exist, in the order given, duplicates dropped."""
    out: list[Path] = []
    for part in (env.get(ENV) or "").split(":"):
        part = part.strip()
        if not part:
            continue
        root = Path(part).expanduser()
        if root.is_dir() and root not in out:
            out.append(root)
    return tuple(out)


def hub_caches(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Each shared root's Hugging Face hub cache."""
    return tuple(r.joinpath(*HUB) for r in roots(env))


def checkpoint_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Each shared root's torch.hub checkpoint folder."""
    return tuple(r.joinpath(*CHECKPOINTS) for r in roots(env))


def tfhub_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Each shared root's TF Hub module cache."""
    return tuple(r.joinpath(*TFHUB) for r in roots(env))


def tier_of(path: Path, env: Mapping[str, str]) -> str:
    """``shared`` when ``path`` lies below a shared root, else ``local``."""
    absolute = path.absolute()
    for root in roots(env):
        try:
            absolute.relative_to(root.absolute())
        except ValueError:
            continue
        return "shared"
    return "local"


def candidates(target: Path, env: Mapping[str, str]) -> tuple[Path, ...]:
    """The same place as ``target`` (a path in the user's own hub cache, checkpoint folder
    or TF Hub module cache) under each shared root, in the roots' order.

    ``blobs/<etag>`` of a Hub repo is named by its content, a checkpoint's name carries its
    hash prefix and a TF Hub folder's name is the sha1 of its handle, so the same relative
    path in a root means the same file (still checked before use). The target itself is
    never its own candidate (an admin filling a root that is also in ZOOFIND_SHARED_CACHE).
    """
    found = roots(env)
    if not found:
        return ()
    from ..hubs.hf.repo_cache import hub_cache
    from ..hubs.tfhub.module_cache import cache_dir
    from ..hubs.torchvision.checkpoints import checkpoints

    here = target.absolute()
    for local, inside in ((hub_cache(env), HUB), (checkpoints(env), CHECKPOINTS), (cache_dir(env)[0], TFHUB)):
        try:
            rel = here.relative_to(local.absolute())
        except ValueError:
            continue
        return tuple(c for r in found if (c := r.joinpath(*inside, rel)).absolute() != here)
    return ()


@dataclass(frozen=True)
class Linked:
    """What the shared tier gave for one local path."""

    #: the shared file or folder now behind the local path; None when no root had a usable copy
    source: Path | None = None
    size: int = 0
    sha256: str | None = None
    #: symlink (the rule), or copy where the user's cache cannot hold symlinks
    mode: str | None = None
    #: copies passed over and why (damaged, unreadable), for the pull's notes
    notes: tuple[str, ...] = ()


def link_file(
    target: Path, expected: Expected, env: Mapping[str, str], label: str,
    on_check: Callable[[Path, int], None] | None = None,
) -> Linked:
    """Put the first shared copy of ``target`` that passes ``expected`` in place at ``target``.

    ``on_check(copy, size)`` is told before a copy is hashed (a multi-GB file over NFS takes
    a while: progress can say so). Nothing is written below a shared root.
    """
    from ..fetch.integrity import IntegrityError, hash_file, verify

    notes: list[str] = []
    for copy in candidates(target, env):
        problem = _unusable(copy, expected)
        if problem == "absent":
            continue
        if problem:
            notes.append(f"{label}: the shared copy {copy} {problem}; not used")
            continue
        size = copy.stat().st_size
        if on_check is not None:
            on_check(copy, size)
        try:
            digest = verify(hash_file(copy, expected), expected, label)
        except IntegrityError:
            notes.append(f"{label}: the shared copy {copy} does not match its hash; not used (it is left as it is)")
            continue
        except OSError as exc:
            notes.append(f"{label}: the shared copy {copy} could not be read ({exc.strerror or exc}); not used")
            continue
        mode = _link(copy, target)
        return Linked(copy, size, digest, mode, tuple(notes))
    return Linked(notes=tuple(notes))


def _unusable(copy: Path, expected: Expected) -> str | None:
    """Why a shared file cannot stand in for a download (``absent`` when this root lacks it), else None."""
    try:
        st = copy.stat()
    except OSError:
        return "absent"
    if not stat.S_ISREG(st.st_mode):
        return "is not a file"
    if expected.size is not None and st.st_size != expected.size:
        return f"has {st.st_size} bytes instead of {expected.size}"
    if expected.size is None and st.st_size == 0:
        return "is empty"
    # A file this user may not read would be linked and then fail to load (a shared
    # cache's group set wrongly); huggingface_hub's shared blob store checks the same.
    if not os.access(copy, os.R_OK):
        return "is not readable by this user"
    return None


def _link(source: Path, local: Path) -> str:
    """Make ``local`` point at the verified ``source``, atomically (a temporary link renamed into place).

    A symlink, never a hard link, even where both sit on one file system:
    * an admin who replaces or removes a shared file frees its space and every user sees
      the change: the link dangles, the next ``pull`` links the new copy or downloads, and
      loaders fail loudly in between. A hard link would keep the old bytes alive in each
      user's cache, unknown to the admin, and the admin's space could never be reclaimed;
    * quotas charge a file's blocks to its owner, so a hard link costs the user nothing
      either way, but it keeps blocks charged to the admin that the admin cannot free;
    * hard links are often impossible anyway: another user's file cannot be hard-linked
      where ``fs.protected_hardlinks=1`` (most distributions' default) unless the user may
      write it, and never across mounts (a read-only bind mount is another mount: EXDEV).
    The link holds the absolute path the root was given (not resolved), so a mount that
    moves behind a stable name keeps working. Where the user's cache cannot hold symlinks,
    the file is copied (still no network).
    """
    from ..core.atomic import TMP_PREFIX

    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{local.name}")
    try:
        os.symlink(str(source.absolute()), tmp, target_is_directory=source.is_dir())
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if source.is_dir():
            shutil.copytree(source, tmp, symlinks=True)
        else:
            shutil.copyfile(source, tmp)
        mode = "copy"
    else:
        mode = "symlink"
    try:
        os.replace(tmp, local)
    except OSError:
        if mode == "copy" and tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    return mode


def link_module(module_dir: Path, handle: str, expected: Expected, env: Mapping[str, str]) -> Linked:
    """A TF Hub module folder from the shared tier at ``module_dir`` (with its descriptor).

    A shared folder is used when tensorflow_hub would use it (it exists and is not empty),
    its descriptor names this handle, every file in it is readable, and, when the archive's
    sha256 is known (a lock file pins it), the descriptor records that same sha256.
    """
    from ..hubs.tfhub import module_cache as tfhub

    notes: list[str] = []
    for copy in candidates(module_dir, env):
        if not tfhub.present(copy):
            continue
        problem = _module_problem(copy, handle, expected)
        if problem:
            notes.append(f"tfhub:{handle}: the shared module {copy} {problem}; not used")
            continue
        size = sum(p.stat().st_size for p in copy.rglob("*") if p.is_file())
        # Descriptor first, folder last: the folder's appearance is what every reader waits for.
        _link(tfhub.descriptor_path(copy), tfhub.descriptor_path(module_dir))
        with contextlib.suppress(FileNotFoundError, OSError):
            module_dir.rmdir()  # an empty folder is absent for tensorflow_hub too; a full one stays
        mode = _link(copy, module_dir)
        return Linked(copy, size, tfhub.archive_sha256(copy), mode, tuple(notes))
    return Linked(notes=tuple(notes))


def _module_problem(copy: Path, handle: str, expected: Expected) -> str | None:
    from ..hubs.tfhub import module_cache as tfhub

    try:
        first = tfhub.descriptor_path(copy).read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    except OSError:
        return "has no readable descriptor"
    if first != [f"Module: {tfhub.CANONICAL}/{handle}"]:
        return "has a descriptor naming another module"
    if expected.sha256 and tfhub.archive_sha256(copy) != expected.sha256.lower():
        return "does not record the expected archive sha256"
    for p in (copy, *copy.rglob("*")):
        if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
            return f"holds {p.relative_to(copy)}, which this user cannot read"
    return None


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
    from ..core.errors import OfflineError
    from ..fetch.integrity import Expected
    from ..hubs.hf.repo_cache import RepoCache

    for cache in hub_caches(env):
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
            linked = link_file(local.blob(etag), expected, env, f"{local.repo.rsplit('/', 1)[-1]}/{rel}")
            notes.extend(linked.notes)
            if linked.source is None:
                raise OfflineError(f"hf:{local.repo} ({revision}): no shared copy of {rel} passes its check",
                                   hint="; ".join(notes) or "ask the shared tier's admin to pull it again")
        for rel, etag in files:
            local.link(commit, rel, etag)
        local.write_ref(revision, commit)
        return SnapshotLink(commit, tuple(rel for rel, _ in files), tuple(notes))
    return None
