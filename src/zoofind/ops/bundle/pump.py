"""Bytes moved and hashed: the kernel copy, the hash on a second thread, files staged beside their target."""

from __future__ import annotations

import contextlib
import errno
import io
import mmap
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ...core.atomic import TMP_PREFIX
from ...fetch.integrity import Hasher
from ...models.transfer import ProgressEvent

#: Bytes moved per read; two such buffers alternate so one is hashed while the other is written.
BLOCK = 4 * 1024 * 1024
Progress = Callable[[ProgressEvent], None]
Reader = Callable[[memoryview], "int | None"]


class Pump:
    """Moves and hashes bytes, the hash on a second thread while the next block moves.

    hashlib, reads, writes and ``copy_file_range`` all release the GIL, so the SHA-256 (about
    0.6 s a GiB here) overlaps the I/O instead of adding to it. Between two files (``copy``)
    the bytes do not pass through this process at all where the kernel can copy them
    (``copy_file_range``; a reflink on file systems that share extents), and the hash reads
    the destination's own pages through ``mmap``: the very bytes that will be renamed into
    place, read from memory, with no copy into a buffer. So a checked copy costs less CPU
    than ``tar``'s unchecked one; a stream (a pipe) goes through two alternating buffers.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="zoofind-hash")
        self._buffers = (bytearray(BLOCK), bytearray(BLOCK))
        self._kernel = hasattr(os, "copy_file_range")
        #: the workers of ``copy_behind`` (two files' hashes at once), made on its first use
        self._followers: ThreadPoolExecutor | None = None

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._followers is not None:
            self._followers.shutdown(wait=True)

    def run(self, read: Reader, size: int, hasher: Hasher | None,
            write: Callable[[memoryview], Any] | None, tick: Callable[[int], None]) -> int:
        """Move up to ``size`` bytes through memory; returns how many the reader gave (fewer: it ended early)."""
        pending: list[Future[None] | None] = [None, None]
        done = turn = 0
        try:
            while done < size:
                k = turn & 1
                if (job := pending[k]) is not None:
                    job.result()  # this buffer's bytes are hashed: it may be filled again
                view = memoryview(self._buffers[k])[:min(BLOCK, size - done)]
                n = read(view)
                if not n:
                    break
                chunk = view[:n]
                if hasher is not None:
                    pending[k] = self._pool.submit(hasher.update, chunk)
                if write is not None:
                    write(chunk)
                done += n
                turn += 1
                tick(n)
        finally:
            for job in pending:
                if job is not None:
                    job.result()
        return done

    def copy(self, src: int, src_at: int, dst: int, dst_at: int, size: int, hasher: Hasher | None,
             tick: Callable[[int], None]) -> int:
        """``size`` bytes of file ``src`` from ``src_at`` into file ``dst`` (opened for reading
        too) at ``dst_at``; returns how many there were (fewer: ``src`` ended early)."""
        if self._kernel:
            try:
                return self._copy_in_kernel(src, src_at, dst, dst_at, size, hasher, tick)
            except _NoKernelCopy:
                self._kernel = False  # this pair of file systems (or this OS) cannot: memory from now on
        os.lseek(src, src_at, os.SEEK_SET)
        os.lseek(dst, dst_at, os.SEEK_SET)
        return self.run(fd_reader(src), size, hasher, fd_writer(dst), tick)

    def copy_behind(self, src: int, src_at: int, dst: int, dst_at: int, size: int, hasher: Hasher,
                    tick: Callable[[int], None]) -> tuple[int, Behind]:
        """``copy``, with the hash left behind: it follows the bytes as they land on a worker of
        its own and is handed back unfinished, so the next file's copy starts while this one's
        hash catches up, and two files are hashed at once where there are cores for it (the
        SHA-256 is the slowest step of a checked copy). The caller waits for it (``Behind.wait``)
        before it reads ``hasher`` or closes ``dst``; the same bytes are hashed, the destination's."""
        behind = Behind()
        if self._kernel:
            if self._followers is None:
                self._followers = ThreadPoolExecutor(2, thread_name_prefix="zoofind-hash-behind")
            behind.job = self._followers.submit(behind.follow, hasher, dst, dst_at)
            try:
                n = self._copy_in_kernel(src, src_at, dst, dst_at, size, None, tick, landed=behind.landed)
                behind.end(n)
                return n, behind
            except _NoKernelCopy:
                self._kernel = False  # this pair of file systems (or this OS) cannot: memory from now on
                behind.end(0)
                behind.wait()
            except BaseException:
                behind.cancel()
                raise
        return self.copy(src, src_at, dst, dst_at, size, hasher, tick), behind

    def _copy_in_kernel(self, src: int, src_at: int, dst: int, dst_at: int, size: int, hasher: Hasher | None,
                        tick: Callable[[int], None], landed: Callable[[int], None] | None = None) -> int:
        pending: Future[None] | None = None
        done = 0
        try:
            while done < size:
                want = min(BLOCK, size - done)
                got = 0
                while got < want:
                    try:
                        n = os.copy_file_range(src, dst, want - got, src_at + done + got, dst_at + done + got)
                    except OSError as exc:
                        if done + got == 0 and exc.errno in _NO_KERNEL_COPY:
                            raise _NoKernelCopy from None
                        raise
                    if not n:
                        break
                    got += n
                if not got:
                    break
                if pending is not None:
                    pending.result()
                if hasher is not None:
                    pending = self._pool.submit(hash_pages, hasher, dst, dst_at + done, got)
                done += got
                if landed is not None:
                    landed(done)
                tick(got)
                if got < want:
                    break
        finally:
            if pending is not None:
                pending.result()
        return done

    def hash(self, fd: int, size: int, hasher: Hasher, tick: Callable[[int], None]) -> int:
        """Hash up to ``size`` bytes of a file in place (a hard-linked member, a file already in
        the cache) through its pages; returns how many it had."""
        # Never map past the end: touching such a page is SIGBUS, not an exception.
        size = min(size, os.fstat(fd).st_size)
        done = 0
        while done < size:
            n = min(BLOCK, size - done)
            hash_pages(hasher, fd, done, n)
            done += n
            tick(n)
        return done


class _NoKernelCopy(Exception):
    pass


class Behind:
    """A file's hash following its copy (``Pump.copy_behind``): the copy says how far the bytes
    have landed, the hash reads up to there and waits for more, until the copy ends or fails."""

    def __init__(self) -> None:
        self._moved = threading.Condition()
        self._landed = 0
        self._end: int | None = None
        self._cancelled = False
        self.job: Future[None] | None = None

    def landed(self, upto: int) -> None:
        with self._moved:
            self._landed = upto
            self._moved.notify()

    def end(self, total: int) -> None:
        with self._moved:
            self._landed, self._end = total, total
            self._moved.notify()

    def cancel(self) -> None:
        """The copy failed: the hash stops at its next block, and is waited for (``dst`` may close next)."""
        with self._moved:
            self._cancelled, self._end = True, self._landed
            self._moved.notify()
        with contextlib.suppress(BaseException):
            self.wait()

    def done(self) -> bool:
        return self.job is None or self.job.done()

    def wait(self) -> None:
        """Until every landed byte is hashed (a failure of the hash raises here)."""
        if self.job is not None:
            self.job.result()

    def follow(self, hasher: Hasher, fd: int, at: int) -> None:
        done = 0
        while True:
            with self._moved:
                while self._landed <= done and self._end is None:
                    self._moved.wait()
                if self._cancelled or (self._end is not None and done >= self._end):
                    return
                upto = self._landed
            while done < upto:
                n = min(BLOCK, upto - done)
                hash_pages(hasher, fd, at + done, n)
                done += n


_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF, errno.EPERM, errno.ETXTBSY}


def hash_pages(hasher: Hasher, fd: int, at: int, n: int) -> None:
    """Hash ``n`` bytes of file ``fd`` from ``at``, read through ``mmap`` (no copy into a
    buffer), or with ``pread`` where the file cannot be mapped."""
    start = at - at % mmap.ALLOCATIONGRANULARITY
    try:
        pages = mmap.mmap(fd, n + at - start, access=mmap.ACCESS_READ, offset=start)
    except (OSError, ValueError):
        hasher.update(os.pread(fd, n, at))
        return
    try:
        with memoryview(pages) as view, view[at - start:] as part:
            hasher.update(part)
    finally:
        pages.close()


def fd_writer(fd: int) -> Callable[[memoryview], None]:
    def write(chunk: memoryview) -> None:
        while chunk:
            chunk = chunk[os.write(fd, chunk):]
    return write


def fd_reader(fd: int) -> Reader:
    return io.FileIO(fd, closefd=False).readinto


def temp_name(target: Path) -> Path:
    return target.with_name(f"{TMP_PREFIX}{os.urandom(8).hex()}-{target.name[:64]}")


CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def staged(target: Path) -> Iterator[int]:
    """A new file beside ``target`` (same file system, so the rename is atomic), renamed onto
    it on a clean exit and removed on any exception, Ctrl-C included; a kill -9 leaves only
    ``.zoofind-tmp-...``, which ``cache prune`` removes once it is a day old.

    Not ``atomic.replacing``: that makes private (0600) files, and cache files must be as
    readable as the frameworks' own (0644 less the umask), for a lab sharing a cache; and the
    hash reads the file back through ``mmap``, so it is opened for reading too.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    fd = os.open(tmp, CREATE, 0o644)
    try:
        try:
            yield fd
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def emit(progress: Progress | None, label: str, kind: str, done: int = 0, total: int | None = None,
         advanced: int = 0) -> None:
    if progress is not None:
        progress(ProgressEvent(label, kind, done, total, advanced))


def ticker(progress: Progress | None, label: str, total: int) -> Callable[[int], None]:
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        emit(progress, label, "advance", done, total, n)

    return tick



@contextlib.contextmanager
def read_fd(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        yield fd
    finally:
        os.close(fd)
