"""Files that appear whole or not at all.

Every file zoofind writes where another process (a second zoofind, a framework) may
read it goes through here: the bytes go to a unique temporary file in the same folder,
are flushed, and the file is renamed over the target, so a crash, Ctrl-C, kill -9 or a
full disk never leaves a half-written file at the final path.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: Temporary files start with this, so clean-up can recognise strays of killed processes.
TMP_PREFIX = ".zoofind-tmp-"


@contextlib.contextmanager
def replacing(path: Path, mode: str = "wb", *, fsync: bool = False, beside: Path | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed and the
    previous ``path``, if any, stays as it was. ``beside``: another folder on the same file
    system for the temporary file (one whose every file a reader would take for data, such
    as a Hub repo's ``refs/``, must never hold a temporary one). The file gets the mode a
    plain ``open`` would give it (0666 less the umask), not ``mkstemp``'s 0600: in a lab's
    shared cache the others must be able to read it.
    """
    # lazy: tempfile (~2 ms) is on no offline pull, cite, cache or import start-up until a file is written
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=beside or path.parent, prefix=TMP_PREFIX, suffix=path.suffix)
    try:
        with contextlib.suppress(OSError):  # a file system without modes (some FUSE mounts)
            os.fchmod(fd, 0o666 & ~_umask())
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_UMASK: list[int] = []


def _umask() -> int:
    """The process's umask, read once (Linux: /proc, without changing it; else set and restored)."""
    if not _UMASK:
        value = None
        with contextlib.suppress(OSError, ValueError):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("Umask:"):
                    value = int(line.split()[1], 8)
        if value is None:
            value = os.umask(0o022)
            os.umask(value)
        _UMASK.append(value)
    return _UMASK[0]


def write_json(path: Path, value: Any) -> None:
    """``value`` as JSON at ``path``, atomically. Raises OSError (full disk, read-only)."""
    with replacing(path, "w") as fh:
        json.dump(value, fh)


def try_write_json(path: Path, value: Any) -> bool:
    """Like ``write_json``, for caches: a folder that cannot be written costs a cache miss, not an error."""
    try:
        write_json(path, value)
    except OSError:
        return False
    return True
