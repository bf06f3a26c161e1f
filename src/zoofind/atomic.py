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
from pathlib import Path
from typing import IO, Any, Iterator

#: Temporary files start with this, so clean-up can recognise strays of killed processes.
TMP_PREFIX = ".zoofind-tmp-"


@contextlib.contextmanager
def replacing(path: Path, mode: str = "wb", *, fsync: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed and the
    previous ``path``, if any, stays as it was.
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=path.suffix)
    try:
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
