"""What a downloaded file must be, and the check that runs before it becomes visible."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ZoofindError

#: Files are read back for hashing in blocks this big (hashlib releases the GIL on them).
READ_BLOCK = 4 * 1024 * 1024


class IntegrityError(ZoofindError):
    """A download's bytes are not what the server's metadata promised; they were deleted."""


@dataclass(frozen=True)
class Expected:
    """What is known of a file before its bytes arrive; every field that is set is checked."""

    size: int | None = None
    sha256: str | None = None
    #: git's blob id: sha1(b"blob <size>\\0" + bytes); the Hub's id for files outside LFS.
    git_sha1: str | None = None
    #: the first hex digits of the SHA-256 a torchvision checkpoint's name carries.
    sha256_prefix: str | None = None

    @property
    def identity(self) -> str | None:
        """What names this exact content, for telling a stale partial from a resumable one."""
        return self.sha256 or self.git_sha1 or (f"size:{self.size}" if self.size is not None else None)


class Hasher:
    """SHA-256 (always) and the git blob SHA-1 (when it is to be checked) of bytes seen in order."""

    def __init__(self, expected: Expected, size: int | None) -> None:
        self.sha256 = hashlib.sha256()
        self.git = None
        self.size = 0
        if expected.git_sha1 and size is not None:
            self.git = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)

    def update(self, data: bytes | memoryview) -> None:
        self.sha256.update(data)
        if self.git is not None:
            self.git.update(data)
        self.size += len(data)


def hash_file(path: Path, expected: Expected) -> Hasher:
    """Hash a file on disk (a resumed or ranged download, whose bytes did not arrive in order)."""
    size = path.stat().st_size
    h = Hasher(expected, size)
    with path.open("rb") as fh:
        while block := fh.read(READ_BLOCK):
            h.update(block)
    return h


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
    if expected.sha256_prefix and not digest.startswith(expected.sha256_prefix.lower()):
        problems.append(f"sha256 starts {digest[:len(expected.sha256_prefix)]}, the file name says {expected.sha256_prefix}")
    if problems:
        raise IntegrityError(
            f"{label}: downloaded bytes do not match ({'; '.join(problems)}); they were deleted",
            hint="retry the pull; if it fails again the server or a proxy is serving damaged data",
        )
    return digest
