"""What a downloaded file must be, and the check that runs before it becomes visible."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..core.errors import ZoofindError
from ..models.transfer import Expected

#: Files are read back for hashing in blocks this big (hashlib releases the GIL on them).
READ_BLOCK = 4 * 1024 * 1024
#: A ``Follower`` is woken when this much more is ready for it (it then hashes all there is).
WAKE_BYTES = 4 * READ_BLOCK
#: A ``Follower`` hashes its partial file through windows of it mapped this big (a mapped page
#: counts in the process's resident memory while mapped: 16 MiB windows raised a 1 GiB pull's
#: peak from 41 to 54 MB for no measurable CPU gain).
MAP_BLOCK = 4 * 1024 * 1024


class IntegrityError(ZoofindError):
    """A download's bytes are not what the server's metadata promised; they were deleted."""


class Hasher:
    """SHA-256 (always), and the git blob SHA-1 and the MD5 when they are to be checked, of bytes seen in order."""

    def __init__(self, expected: Expected, size: int | None) -> None:
        self.sha256 = hashlib.sha256()
        self.git = None
        self.md5 = hashlib.md5(usedforsecurity=False) if expected.md5 else None
        self.size = 0
        if expected.git_sha1 and size is not None:
            self.git = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)

    def update(self, data: bytes | memoryview) -> None:
        self.sha256.update(data)
        if self.git is not None:
            self.git.update(data)
        if self.md5 is not None:
            self.md5.update(data)
        self.size += len(data)


def hash_file(path: Path, expected: Expected) -> Hasher:
    """Hash a file on disk (a resumed or ranged download, whose bytes did not arrive in order)."""
    size = path.stat().st_size
    h = Hasher(expected, size)
    with path.open("rb") as fh:
        while block := fh.read(READ_BLOCK):
            h.update(block)
    return h


class Follower:
    """Hashes a partial file from byte 0 while it is being written, on a thread of its own.

    The writers (any number, writing anywhere in the file) tell ``written`` how far the bytes
    on disk are contiguous from byte 0; the thread reads what lies between its frontier and
    there back from the page cache in ``READ_BLOCK`` pieces and hashes them. On two cores this
    overlaps the SHA-256 (hashlib releases the GIL) with receiving, so a ranged file is not read
    back whole after its last byte. A resumed partial's bytes from an earlier run are hashed from
    disk the same way, at the start.

    The bytes are hashed where they lie in the page cache, through a window of the file mapped
    read-only (``MAP_BLOCK``), not copied out first: on this project's 2-core machine copying
    1 GiB out with ``preadv`` cost 0.7 s CPU, as much as its SHA-256 (0.8 s), and hashing the
    mapped pages costs the SHA-256 alone (see ``_hash_mapped``). Where a file system cannot map
    files, blocks are read with ``preadv`` as before.

    Bytes are hashed from the file, not from the buffers they were written from: the digest is
    that of what becomes the target. (Handing the received 64 KiB buffers to this thread instead
    was measured slower, 2.9 s against 2.4 s per GiB on loopback: a GIL hand-over per buffer
    costs more than reading 4 MiB blocks back.) ``rewriting`` brackets a rewrite of the file from scratch
    (a server that ignores Range, a changed remote file): the hash starts over at byte 0.
    """

    def __init__(self, path: Path, expected: Expected, size: int, contiguous: Callable[[], int]) -> None:
        self.size = size
        self._expected = expected
        self._contiguous = contiguous
        self._fd = os.open(path, os.O_RDONLY)
        self._hasher = Hasher(expected, size)
        self.frontier = 0  # bytes [0, frontier) are hashed
        self._work = threading.Lock()  # held while a block is read and hashed, and during a rewrite
        self._wake = threading.Event()
        self._ending = False  # no more bytes will come: hash to the end of what is there, then stop
        self._stopped = False
        self._mappable = True  # until a mapping fails: then blocks are read with preadv
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="zoofind-hash")
        self._thread.start()

    def written(self, contiguous: int) -> None:
        """Bytes [0, contiguous) are on disk; wakes the thread once ``WAKE_BYTES`` are waiting.

        Waking it per block cost the writer ~4% of a loopback pull (py-spy: ``Event.set``)."""
        if (contiguous - self.frontier >= WAKE_BYTES or contiguous >= self.size) and not self._wake.is_set():
            self._wake.set()

    @contextlib.contextmanager
    def rewriting(self) -> Iterator[None]:
        """Hold the hashing while the file is reset; afterwards it starts again from byte 0."""
        with self._work:
            yield
            self._hasher = Hasher(self._expected, self.size)
            self.frontier = 0

    def result(self) -> Hasher:
        """The hash of the whole file, once every byte is written: waits for the thread's last blocks."""
        self._ending = True
        self._wake.set()
        self._thread.join()
        self._close()
        if self.error is not None:
            raise self.error
        if self.frontier != self.size:
            raise OSError(f"only {self.frontier} of {self.size} bytes of the partial file were contiguous when it was "
                          "checked")
        return self._hasher

    def stop(self) -> None:
        """The transfer stopped or failed: the thread ends after its current block."""
        self._stopped = True
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)
        self._close()

    def _close(self) -> None:
        with self._work:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _run(self) -> None:
        buf = bytearray(READ_BLOCK)  # one buffer for every block: no allocation (and page faults) per read
        view = memoryview(buf)
        try:
            while not self._stopped:
                self._wake.clear()  # before reading _ending: a wake-up after this point is never lost
                ending = self._ending
                while not self._stopped and self._step(buf, view):
                    pass
                if ending:
                    return
                self._wake.wait()
        except OSError as exc:
            self.error = exc

    def _step(self, buf: bytearray, view: memoryview) -> bool:
        """Hash the next block the writers have finished; False when there is none yet."""
        with self._work:
            # Under the lock: a rewrite cannot reset the ranges between reading them and the bytes.
            want = min(self._contiguous(), self.size) - self.frontier
            if want <= 0:
                return False
            if self._mappable and self._hash_mapped(min(want, MAP_BLOCK)):
                return True
            n = os.preadv(self._fd, [view[: min(want, READ_BLOCK)]], self.frontier)
            if n <= 0:
                raise self._short(want)
            self._hasher.update(view[:n])
            self.frontier += n
            return True

    def _hash_mapped(self, n: int) -> bool:
        """Hash bytes [frontier, frontier + n) through a read-only mapping of them; False (and no
        more mapping) where the file system cannot map the file.

        A mapping read past the file's end would kill the process (SIGBUS), so the file's size is
        checked first; nothing else shrinks it meanwhile: the partial is this run's, under its
        download lock, and a rewrite waits for ``_work``, which the caller holds."""
        if os.fstat(self._fd).st_size < self.frontier + n:
            raise self._short(n)
        start = self.frontier - self.frontier % mmap.ALLOCATIONGRANULARITY  # a mapping starts on a page
        try:
            window = mmap.mmap(self._fd, self.frontier + n - start, prot=mmap.PROT_READ, offset=start)
        except (OSError, ValueError):
            self._mappable = False
            return False
        try:
            with memoryview(window) as view:
                self._hasher.update(view[self.frontier - start:])
        finally:
            window.close()
        self.frontier += n
        return True

    def _short(self, want: int) -> OSError:
        return OSError(f"the partial file ended before {self.frontier + want} bytes, which were recorded")


def verify(h: Hasher, expected: Expected, label: str) -> str:
    """The file's SHA-256 when every known fact agrees; else ``IntegrityError`` naming what differs."""
    digest = h.sha256.hexdigest()
    problems = []
    if expected.size is not None and h.size != expected.size:
        problems.append(f"{h.size} bytes instead of {expected.size}")
    if expected.sha256 and digest != expected.sha256.lower():
        problems.append(f"sha256 {digest[:12]}... instead of {expected.sha256[:12]}...")
    if h.git is not None and expected.git_sha1 and h.git.hexdigest() != expected.git_sha1.lower():
        problems.append(f"git blob id {h.git.hexdigest()[:12]}... instead of {expected.git_sha1[:12]}...")
    if h.md5 is not None and expected.md5 and h.md5.hexdigest() != expected.md5.lower():
        problems.append(f"md5 {h.md5.hexdigest()[:12]}... instead of {expected.md5[:12]}...")
    if expected.sha256_prefix and not digest.startswith(expected.sha256_prefix.lower()):
        problems.append(f"sha256 starts {digest[:len(expected.sha256_prefix)]}, the file name says "
                        f"{expected.sha256_prefix}")
    if problems:
        raise IntegrityError(
            f"{label}: downloaded bytes do not match ({'; '.join(problems)}); they were deleted",
            hint="retry the pull; if it fails again the server or a proxy is serving damaged data",
        )
    return digest
