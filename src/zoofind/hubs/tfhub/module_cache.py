"""TF Hub's module cache, laid out as tensorflow_hub's resolver lays it out.

    $TFHUB_CACHE_DIR/<sha1 of "https://tfhub.dev/<handle>">/          the extracted archive
    $TFHUB_CACHE_DIR/<sha1>.descriptor.txt                           who fetched it, when

``hub.load("https://tfhub.dev/<handle>")`` hashes the URL it is given and uses a
non-empty folder of that name without any request, so the name is always the sha1 of the
canonical tfhub.dev URL, even when a mirror (``ZOOFIND_TFHUB_ENDPOINT``) served the bytes.
With ``TFHUB_CACHE_DIR`` unset tensorflow_hub falls back to a folder under the system's
temp dir, which compute nodes wipe; zoofind uses a persistent folder beside the other
caches instead (``$XDG_CACHE_HOME/tfhub_modules``) and says which ``export TFHUB_CACHE_DIR=...``
makes tensorflow_hub look there.

Archives are checked whole and extracted safely (``fetch.archive``: the gzip stream read to
its end, ``tarfile``'s ``data`` filter, absolute names refused, the expansion bounded, no
archive timestamps) into ``<sha1>.<uuid>.tmp`` beside the target, and renamed into place only
when complete. ``place`` is the one way a filled folder becomes a module, for ``pull`` and
``import`` alike: the rename, then the descriptor (with the archive's sha256 and size when
known, so a lock written later pins the archive). The descriptor's time is when the module
was placed (tensorflow_hub writes it after extracting too): ``cache ls`` counts it as a use.

In a cache home (and so in each ``ZOOFIND_SHARED_CACHE`` root) the module cache is
``tfhub_modules/`` (``PLACE``). The shared tier holds module folders, not archives:
``link_module`` links a checked folder and its descriptor into the user's cache.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path

from ...caches import shared
from ...core.atomic import replacing
from ...fetch.archive import extract
from ...fetch.integrity import IntegrityError
from ...fetch.locks import LOCK_PREFIX, lock_for
from ...models.lock import LockedArchive
from ...models.transfer import Expected

CANONICAL = "https://tfhub.dev"
ENV = "TFHUB_CACHE_DIR"


def cache_dir(env: Mapping[str, str]) -> tuple[Path, bool]:
    """The module cache, and whether it is tensorflow_hub's own (TFHUB_CACHE_DIR set).

    Unset, ``$XDG_CACHE_HOME/tfhub_modules`` (else ``~/.cache/tfhub_modules``): beside the
    Hugging Face and torch caches, so one ``XDG_CACHE_HOME`` lays out a whole cache home
    (the shape the shared tier, ``ZOOFIND_SHARED_CACHE``, expects).
    """
    value = env.get(ENV)
    if value:
        return Path(value).expanduser(), True
    return Path(os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "tfhub_modules")).expanduser(), False


def own_dir(env: Mapping[str, str]) -> Path:
    """This user's module cache (``cache_dir`` without the flag)."""
    return cache_dir(env)[0]


#: Where the module cache sits in a cache home, and so in every shared root.
PLACE = shared.declare(("tfhub_modules",), own_dir)


def module_name(handle: str) -> str:
    return hashlib.sha1(f"{CANONICAL}/{handle}".encode()).hexdigest()


def present(module_dir: Path) -> bool:
    """tensorflow_hub's own test: the folder exists and is not empty."""
    try:
        return any(module_dir.iterdir())
    except OSError:
        return False


def archive_path(module_dir: Path) -> Path:
    return module_dir.with_name(module_dir.name + ".archive")


def lock_path(module_dir: Path) -> Path:
    # Not tensorflow_hub's "<sha1>.lock": its format and stale rule are its own.
    return module_dir.with_name(f"{LOCK_PREFIX}{module_dir.name}")


def install(archive: Path, module_dir: Path, handle: str, *, is_archive: bool, name: str, sha256: str | None = None,
            max_extract: int | None = None) -> None:
    """Make the verified download the module folder (extracted, or the single file inside it).

    ``max_extract``: the bytes the archive may expand to (``ZOOFIND_MAX_EXTRACT``; None: the default bound).

    Under the module's download lock: pulls in other processes wait for the download, then
    find the archive complete and install it too; the first installs, the others find the
    module in place (and the archive already gone) and change nothing.
    """
    lock = lock_for(lock_path(module_dir))
    lock.acquire()
    try:
        if present(module_dir):
            archive.unlink(missing_ok=True)  # installed by another process meanwhile
            return
        pin = LockedArchive(archive.stat().st_size, sha256) if sha256 else None  # what was downloaded, as pinned
        tmp = module_dir.with_name(f"{module_dir.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir(parents=True)
        try:
            if is_archive:
                extract(archive, tmp, what=f"tfhub:{handle}", kinds=("tar",), limit=max_extract)
            else:
                shutil.copyfile(archive, tmp / name)
            place(tmp, module_dir, handle, pin)
        except IntegrityError:
            archive.unlink(missing_ok=True)  # bad bytes are never kept
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # Installed: the archive is no longer needed (its sha256 is in the pull's result).
        archive.unlink(missing_ok=True)
    finally:
        lock.release()


def place(filled: Path, module_dir: Path, handle: str, archive: LockedArchive | None) -> bool:
    """Rename the complete folder ``filled`` onto ``module_dir``, then write its descriptor, naming
    ``archive`` (the one the files came from) when known; False, and nothing changed, when a
    module is there already. The caller holds ``lock_path`` or accepts a lost race."""
    if present(module_dir):
        return False
    with contextlib.suppress(FileNotFoundError):
        module_dir.rmdir()  # an empty folder counts as absent for tensorflow_hub too
    os.rename(filled, module_dir)
    write_descriptor(module_dir, handle, archive)
    return True


ARCHIVE_LINE = "Archive sha256: "
ARCHIVE_SIZE_LINE = "Archive size: "


def descriptor_path(module_dir: Path) -> Path:
    return module_dir.with_name(module_dir.name + ".descriptor.txt")


def write_descriptor(module_dir: Path, handle: str, archive: LockedArchive | None = None) -> None:
    """tensorflow_hub's descriptor (its first three lines), plus the archive's sha256 and size
    when known, so a lock written later can pin the archive the folder came from."""
    text = (f"Module: {CANONICAL}/{handle}\nDownload Time: {datetime.datetime.today()}\n"
            f"Downloader Hostname: {socket.gethostname()} (PID:{os.getpid()})")
    if archive is not None:
        text += f"\n{ARCHIVE_LINE}{archive.sha256}\n{ARCHIVE_SIZE_LINE}{archive.size}"
    with replacing(descriptor_path(module_dir), "w") as fh:
        fh.write(text)


def _descriptor_value(module_dir: Path, prefix: str) -> str | None:
    try:
        lines = descriptor_path(module_dir).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return next((line[len(prefix):].strip() for line in lines if line.startswith(prefix)), None)


def archive_sha256(module_dir: Path) -> str | None:
    """The archive sha256 zoofind recorded in the descriptor when it installed the folder."""
    value = _descriptor_value(module_dir, ARCHIVE_LINE)
    return value if value and len(value) == 64 else None


def archive_size(module_dir: Path) -> int | None:
    value = _descriptor_value(module_dir, ARCHIVE_SIZE_LINE)
    return int(value) if value and value.isdigit() else None


def scan(root: Path) -> list[tuple[str | None, Path]]:
    """(handle, folder) of each installed module: the handle from its descriptor, None if it has none."""
    out: list[tuple[str | None, Path]] = []
    try:
        folders = sorted(p for p in root.iterdir() if re.fullmatch(r"[0-9a-f]{40}", p.name) and present(p))
    except OSError:
        return []
    for folder in folders:
        handle = None
        try:
            first = descriptor_path(folder).read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            first = ""
        if first.startswith("Module: "):
            url = first[len("Module: "):].strip()
            # Folders named by another URL (a mirror's) are listed under their own handle only if it hashes back.
            for prefix in (CANONICAL + "/", "https://tfhub.dev/", "http://tfhub.dev/"):
                if url.startswith(prefix) and module_name(url[len(prefix):]) == folder.name:
                    handle = url[len(prefix):]
        out.append((handle, folder))
    return out


# -- from the shared tier -----------------------------------------------------------------------
def link_module(module_dir: Path, handle: str, expected: Expected, env: Mapping[str, str]) -> shared.Linked:
    """A TF Hub module folder from the shared tier at ``module_dir`` (with its descriptor).

    A shared folder is used when tensorflow_hub would use it (it exists and is not empty),
    its descriptor names this handle, every file in it is readable, and, when the archive's
    sha256 is known (a lock file pins it), the descriptor records that same sha256.
    """
    notes: list[str] = []
    for copy in shared.candidates(module_dir, env):
        if not present(copy):
            continue
        problem = _module_problem(copy, handle, expected)
        if problem:
            notes.append(f"tfhub:{handle}: the shared module {copy} {problem}; not used")
            continue
        size = sum(p.stat().st_size for p in copy.rglob("*") if p.is_file())
        # Descriptor first, folder last: the folder's appearance is what every reader waits for.
        shared.link(descriptor_path(copy), descriptor_path(module_dir))
        with contextlib.suppress(FileNotFoundError, OSError):
            module_dir.rmdir()  # an empty folder is absent for tensorflow_hub too; a full one stays
        mode = shared.link(copy, module_dir)
        return shared.Linked(copy, size, archive_sha256(copy), mode, tuple(notes))
    return shared.Linked(notes=tuple(notes))


def _module_problem(copy: Path, handle: str, expected: Expected) -> str | None:
    try:
        first = descriptor_path(copy).read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    except OSError:
        return "has no readable descriptor"
    if first != [f"Module: {CANONICAL}/{handle}"]:
        return "has a descriptor naming another module"
    if expected.sha256 and archive_sha256(copy) != expected.sha256.lower():
        return "does not record the expected archive sha256"
    for p in (copy, *copy.rglob("*")):
        if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
            return f"holds {p.relative_to(copy)}, which this user cannot read"
    return None
