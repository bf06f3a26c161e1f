"""The read-only shared tier: model folders an admin filled once for a whole lab.

``ZOOFIND_SHARED_CACHE`` names one or more folders (separated by ``:``, as ``PATH`` is),
each laid out as a cache home (``$XDG_CACHE_HOME``) is, so an admin fills one with zoofind
itself (``XDG_CACHE_HOME=/shared/models zoofind pull ...``). Where each hub's cache sits in
a cache home is the hub's to say (``hubs.protocol``, "shared tier"): it declares a ``Place``
(``declare``) in the module that lays its cache out, and everything here loops over the
places declared. Nothing here knows a hub.

zoofind never writes below these folders (they may be read-only mounts): ``pull`` checks a
file there (size and hash) and links it into the user's own cache instead of downloading,
and ``cache ls`` shows which tier holds what. Roots that do not exist are left out, so
one setting works on every node whether or not the mount is there.

Why the user's own cache gets links, rather than the frameworks being pointed at the
shared folders: a framework reads one cache folder (``HF_HUB_CACHE``, ``TORCH_HOME``,
``TFHUB_CACHE_DIR``), and huggingface_hub cannot use a read-only one as that folder (it
writes lock files even to read: huggingface_hub issue #2797). With links, a model a lab
shares and a model a user fetched alone sit side by side in one cache the frameworks
already read, and ``HF_HUB_OFFLINE=1`` finds both.

A shared file is only ever linked after the same check a download gets (its size, then its
SHA-256, git blob id or the hash prefix its name carries, ``fetch.integrity``); one that
fails is passed over with a note, never deleted or repaired (it is not the user's), and the
file is downloaded instead. A layout whose models are folders rather than files checks and
links them itself with ``link`` (one atomic symlink, the rule below).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.atomic import TMP_PREFIX

if TYPE_CHECKING:
    from ..models.transfer import Expected

ENV = "ZOOFIND_SHARED_CACHE"


@dataclass(frozen=True)
class Place:
    """Where one hub's cache sits: ``inside`` a cache home (``("torch", "hub", "checkpoints")``), and
    so below every shared root; ``own(environ)``: this user's own folder of it, as the framework
    finds it (its variables honoured)."""

    inside: tuple[str, ...]
    own: Callable[[Mapping[str, str]], Path]

    def shared(self, env: Mapping[str, str]) -> tuple[Path, ...]:
        """This cache's folder in each shared root, in the roots' order (existing or not)."""
        return tuple(r.joinpath(*self.inside) for r in roots(env))

    def tiered(self, env: Mapping[str, str], tier: str) -> list[Path]:
        """This cache's folders in ``tier`` (``local``: the user's own; ``shared``: each root's, less
        a root's that is the user's own folder, which is not listed twice)."""
        own = self.own(env)
        if tier == "local":
            return [own]
        return [p for p in self.shared(env) if p.absolute() != own.absolute()]


#: Every place declared, in the order the hubs' layout modules were imported.
_PLACES: list[Place] = []


def declare(inside: tuple[str, ...], own: Callable[[Mapping[str, str]], Path]) -> Place:
    """A hub's cache ``inside`` a cache home, whose own folder ``own`` gives: from now on ``candidates``
    (and so ``link_file``) finds this cache's files in the shared tier. A hub declares it once, at
    the top of the module that computes its cache's folder: whatever names a path in that cache
    has imported it, so the place is known before any of its files is looked for."""
    place = Place(tuple(inside), own)
    if place not in _PLACES:
        _PLACES.append(place)
    return place


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
    """The same place as ``target`` (a path in one of the user's own caches a hub declared) under
    each shared root, in the roots' order.

    A declared cache names its files by what they hold (a hash, a hash prefix, the digest of a
    name), so the same relative path in a root means the same file (still checked before use).
    When one declared cache lies inside another's folder, the innermost claims the path. The
    target itself is never its own candidate (an admin filling a root that is also in
    ZOOFIND_SHARED_CACHE).
    """
    found = roots(env)
    if not found:
        return ()
    here = target.absolute()
    best: tuple[int, Place, Path] | None = None
    for place in tuple(_PLACES):
        own = place.own(env).absolute()
        try:
            rel = here.relative_to(own)
        except ValueError:
            continue
        if best is None or len(own.parts) > best[0]:
            best = (len(own.parts), place, rel)
    if best is None:
        return ()
    _, place, rel = best
    return tuple(c for r in found if (c := r.joinpath(*place.inside, rel)).absolute() != here)


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
    via: str = "local"


def link_file(
    target: Path, expected: Expected, env: Mapping[str, str], label: str,
    on_check: Callable[[Path, int], None] | None = None,
) -> Linked:
    """Put the first shared copy of ``target`` that passes ``expected`` in place at ``target``.

    ``on_check(copy, size)`` is told before a copy is hashed (a multi-GB file over NFS takes
    a while: progress can say so). Nothing is written below a shared root.
    """
    # lazy: fetch.integrity (hashing) only when a shared copy is checked: off pull --offline and cite start-up
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
        mode = link(copy, target)
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


def link(source: Path, local: Path) -> str:
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
