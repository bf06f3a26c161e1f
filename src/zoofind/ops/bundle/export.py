"""``export_bundle``: each locked file found in this machine's caches, hashed while it streams into
a tar (a file or a stream) or a folder bundle (hard links where it can)."""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from ...core.context import Context
from ...core.errors import UsageError
from ...fetch.integrity import Hasher
from ...models.bundle import ExportReport
from ...models.lock import Lock
from ...store.url import is_store, parse, require_client
from .. import lockfile
from .locate import Found, check_read, locate, report
from .manifest import (
    BLOBS,
    MANIFEST,
    check_lock,
    expected,
    file_label,
    manifest_text,
    member_name,
)
from .pump import CREATE, Behind, Progress, Pump, emit, fd_writer, read_fd, staged, temp_name, ticker
from .tar import TarOut, flush, spoil, stream_writer


def export_bundle(
    lock: Lock | str | os.PathLike[str], out: str | os.PathLike[str] | IO[bytes], *, ctx: Context | None = None,
    folder: bool | None = None, copy: bool = False, progress: Progress | None = None,
) -> ExportReport:
    """Write the locked files and the manifest as a bundle.

    ``out``: a path for a tar file, a path for a folder bundle (``folder=True``, or a path
    that is an existing folder or ends with ``/``), or a binary stream (stdout) for a tar.
    ``copy``: copy into a folder bundle even where hard links are possible.
    """


    ctx = ctx or Context.from_env(offline=True)
    if not isinstance(lock, Lock):
        lock = lockfile.read(Path(lock))
    origin = lock.origin or "the lock"
    check_lock(lock, origin, error=UsageError)
    if not lock.models:
        raise UsageError(f"{origin} locks no model", hint="write one with `zoofind lock ID... -o FILE`")
    if is_store(out):
        assert isinstance(out, str)
        require_client()
        # lazy: the S3 client (obstore, the zoofind[s3] extra) only for an s3:// address
        from .publish import publish
        return publish(lock, parse(str(out), what="bundle address"), ctx, progress)
    if isinstance(out, (str, os.PathLike)):
        target = Path(out)
        as_folder = folder if folder is not None else (str(out).endswith(("/", os.sep)) or target.is_dir())
        if not as_folder and str(out).endswith((".gz", ".tgz", ".bz2", ".xz", ".zst")):
            raise UsageError(f"{target}: bundles are plain tar files (model weights do not compress)",
                             hint="name it .tar; to compress anyway: zoofind export ... - | gzip > bundle.tar.gz")
    else:
        target, as_folder = None, False
    found = locate(lock, ctx.environ)
    members: dict[str, Found] = {}
    for hit in found:
        members.setdefault(hit.file.sha256, hit)
    text = manifest_text(lock).encode("utf-8")
    created = lock.created or datetime.datetime.now(datetime.timezone.utc)
    mtime = int(created.timestamp())
    pump = Pump()
    try:
        if target is None:
            assert not isinstance(out, (str, os.PathLike))
            try:
                statuses = export_tar(stream_writer(out), members, text, mtime, pump, progress, lock)
                flush(out)
            except BaseException:
                spoil(out)
                raise
            where = "-"
        elif as_folder:
            statuses = export_folder(target, members, text, pump, progress, lock, copy=copy)
            where = str(target)
        else:
            with staged(target) as fd:
                statuses = export_tar(fd, members, text, mtime, pump, progress, lock)
            where = str(target)
    finally:
        pump.close()
    return report(lock, found, members, statuses, where, "folder" if as_folder else "tar")


def export_tar(sink: int | Callable[[memoryview], Any], members: Mapping[str, Found], manifest: bytes, mtime: int,
                pump: Pump, progress: Progress | None, lock: Lock) -> dict[str, str]:
    tar = TarOut(sink, mtime)
    tar.header(MANIFEST, len(manifest))
    tar.put(manifest)
    tar.pad()
    # Each member's hash follows its copy on another thread (two members hashed at once), and
    # is checked against the lock in order once it is done; every one before the tar is whole.
    hashing: list[tuple[Behind | None, Hasher, int, Found, str]] = []

    def check_done(*, wait: bool) -> None:
        while hashing and (wait or hashing[0][0] is None or hashing[0][0].done()):
            behind, h, n, hit, label = hashing.pop(0)
            if behind is not None:
                behind.wait()
            check_read(h, n, hit, lock)
            emit(progress, label, "done", n, n)

    try:
        for sha, hit in members.items():
            tar.header(member_name(sha), hit.file.size)
            label = file_label(lock.models[hit.model].id, hit.file.path)
            emit(progress, label, "start", 0, hit.file.size)
            h = Hasher(expected(hit.file), hit.file.size)
            with read_fd(hit.path) as fd:
                n, behind = tar.body_behind(pump, fd, hit.file.size, h, ticker(progress, label, hit.file.size))
            hashing.append((behind, h, n, hit, label))
            tar.pad()
            check_done(wait=False)
        check_done(wait=True)
    finally:
        for behind, *_ in hashing:  # a failure: nothing may read the tar once it is closed
            if behind is not None:
                behind.cancel()
    tar.close()
    return dict.fromkeys(members, "written")


def export_folder(target: Path, members: Mapping[str, Found], manifest: bytes, pump: Pump,
                   progress: Progress | None, lock: Lock, *, copy: bool) -> dict[str, str]:
    """Fill a temporary folder beside ``target``, then rename it into place whole."""
    if target.exists():
        if not target.is_dir():
            raise UsageError(f"{target} exists and is not a folder",
                             hint="give a new folder name (ending in /) or a .tar name")
        if any(target.iterdir()):
            raise UsageError(f"{target} is not empty",
                             hint="give a new or empty folder; a bundle folder holds only the bundle")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    (tmp / BLOBS).mkdir(parents=True)
    statuses: dict[str, str] = {}
    try:
        for sha, hit in members.items():
            dst = tmp / BLOBS / sha
            label = file_label(lock.models[hit.model].id, hit.file.path)
            emit(progress, label, "start", 0, hit.file.size)
            h = Hasher(expected(hit.file), hit.file.size)
            tick = ticker(progress, label, hit.file.size)
            linked = False
            if not copy:
                try:
                    os.link(hit.path, dst)  # first, so the one read below is the hash's alone
                    linked = True
                except OSError:
                    pass
            with read_fd(hit.path) as src:
                if linked:
                    n = pump.hash(src, hit.file.size, h, tick)
                else:
                    fd = os.open(dst, CREATE, 0o644)
                    try:
                        n = pump.copy(src, 0, fd, 0, hit.file.size, h, tick)
                    finally:
                        os.close(fd)
            check_read(h, n, hit, lock)
            statuses[sha] = "linked" if linked else "copied"
            emit(progress, label, "done", n, n)
        fd = os.open(tmp / MANIFEST, CREATE, 0o644)
        try:
            fd_writer(fd)(memoryview(manifest))
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            target.rmdir()  # empty (checked above): rename(2) would replace it too, but not on every OS
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return statuses


