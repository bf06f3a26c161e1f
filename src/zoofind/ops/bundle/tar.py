"""The tar writer: a plain tar written as a stream, bodies straight from the cache files; a failed
stream is spoiled so no reader takes it for whole."""

from __future__ import annotations

import contextlib
import os
import tarfile
from collections.abc import Callable
from typing import IO, Any

from ...fetch.integrity import Hasher
from .manifest import BundleError
from .pump import Behind, Pump, fd_reader


class TarOut:
    """A plain tar written as a stream: tarfile makes each header (ustar; pax only for a size
    of 8 GiB or more), the bodies go straight from the cache files."""

    def __init__(self, sink: int | Callable[[memoryview], Any], mtime: int) -> None:
        #: a file (its descriptor: bodies are copied in the kernel) or a stream's write
        self.fd = sink if isinstance(sink, int) else None
        self._write = sink if not isinstance(sink, int) else self._pwrite
        self.mtime = mtime
        self.offset = 0

    def _pwrite(self, data: memoryview) -> None:
        assert self.fd is not None
        at = self.offset
        while data:
            n = os.pwrite(self.fd, data, at)
            data, at = data[n:], at + n

    def put(self, data: bytes | memoryview) -> None:
        self._write(memoryview(data))
        self.offset += len(data)

    def body(self, pump: Pump, src: int, size: int, hasher: Hasher, tick: Callable[[int], None]) -> int:
        """A member's bytes from file ``src``; returns how many it had."""
        if self.fd is not None:
            n = pump.copy(src, 0, self.fd, self.offset, size, hasher, tick)
        else:
            n = pump.run(fd_reader(src), size, hasher, self._write, tick)
        self.offset += n
        return n

    def body_behind(self, pump: Pump, src: int, size: int, hasher: Hasher,
                    tick: Callable[[int], None]) -> tuple[int, Behind | None]:
        """``body``, its hash left to follow on another thread where the tar is a file
        (``Pump.copy_behind``): wait for it before reading ``hasher``. A stream hashes as it writes."""
        if self.fd is None:
            return self.body(pump, src, size, hasher, tick), None
        n, behind = pump.copy_behind(src, 0, self.fd, self.offset, size, hasher, tick)
        self.offset += n
        return n, behind

    def header(self, name: str, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.type = size, self.mtime, 0o644, tarfile.REGTYPE
        self.put(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def pad(self) -> None:
        """Zeros up to the next 512-byte block, after a member's body."""
        if rest := self.offset % tarfile.BLOCKSIZE:
            self.put(tarfile.NUL * (tarfile.BLOCKSIZE - rest))

    def close(self) -> None:
        """The end-of-archive blocks, padded to a whole record as tar(1) does."""
        self.put(tarfile.NUL * (2 * tarfile.BLOCKSIZE))
        if rest := self.offset % tarfile.RECORDSIZE:
            self.put(tarfile.NUL * (tarfile.RECORDSIZE - rest))




def spoil(out: IO[bytes]) -> None:
    """End a failed stream with a block that is no tar header: tar(1) takes a tar that simply
    stops after a member for whole, but fails on this ("Skipping to next header")."""
    with contextlib.suppress(OSError, ValueError):
        out.write(b"\xff" * tarfile.BLOCKSIZE)
        out.flush()


def stream_writer(out: IO[bytes]) -> Callable[[memoryview], None]:
    def write(chunk: memoryview) -> None:
        try:
            out.write(chunk)
        except BrokenPipeError:
            raise gone() from None
    return write


def flush(out: IO[bytes]) -> None:
    try:
        out.flush()
    except BrokenPipeError:
        raise gone() from None


def gone() -> BundleError:
    # Not the quiet end of `search | head`: the bundle did not arrive whole.
    return BundleError("the reader of the bundle went away before it was whole (broken pipe)",
                       hint="see what the receiving end reported (zoofind import's message), then export again")


