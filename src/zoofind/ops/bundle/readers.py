"""Reading bundles: a tar file (headers first, bodies at their offsets), a tar stream (stdin, a
compressed file; members checked as they come), a folder (``lstat`` and ``O_NOFOLLOW``)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import tarfile
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from ...core.errors import UsageError
from .manifest import BLOBS, MANIFEST, MANIFEST_MAX, REMAKE, BundleError, Member, refused
from .pump import BLOCK, Reader, fd_reader

_MEMBER = re.compile(r"blobs/([0-9a-f]{64})")


@dataclass(frozen=True)
class Data:
    """Where a member's bytes come from: a reader giving them in order, and, when they sit in
    a file (a tar on disk, a folder's file), that file and their offset, to copy in the kernel."""

    read: Reader
    fd: int | None = None
    at: int = 0


def check_name(origin: str, name: str, kind: str | None) -> None:
    """A member must be a regular file (``kind`` None) named exactly as the manifest or ``blobs/<sha256>``."""
    parts = name.split("/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\\" in name:
        raise refused(origin, name, "has an absolute path")
    if ".." in parts:
        raise refused(origin, name, "would land outside its folder (`..`)")
    if kind is not None:
        raise refused(origin, name, f"is {kind}")
    if name != MANIFEST and not _MEMBER.fullmatch(name):
        raise refused(origin, name, f"is not part of a bundle ({MANIFEST} and {BLOBS}/<sha256> only)")


def tar_kind(info: tarfile.TarInfo) -> str | None:
    """What a tar member is, when it is anything but a plain regular file."""
    if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE) and not info.issparse():
        return None
    if info.issym():
        return f"a symbolic link (to {info.linkname!r})"
    if info.islnk():
        return f"a hard link (to {info.linkname!r})"
    if info.isdir():
        return "a folder"
    if info.ischr() or info.isblk():
        return "a device"
    if info.isfifo():
        return "a FIFO"
    if info.issparse():
        return "a sparse file"
    return f"a special member (tar type {info.type!r})"


class BundleReader:
    """A bundle being read: its manifest, its members in order, each with a reader of its bytes."""

    #: what messages call it (a path, "stdin"), and what the report calls it (a path, "-")
    origin: str
    name: str
    layout: str
    #: The member list, when it can be read before any data (a tar file, a folder); a stream: None.
    listing: list[Member] | None = None
    #: The bundle's own bytes when known before reading (a file, a folder); None for stdin.
    size: int | None = None
    #: Whether the bytes are compressed (gzip, bzip2, xz): an import may write far more than the bundle holds.
    compressed: bool = False

    def consumed(self) -> int:
        """The bundle's bytes read so far (its own size where it is known)."""
        return self.size or 0

    def manifest(self) -> str:
        raise NotImplementedError

    def members(self) -> Iterator[tuple[Member, Data]]:
        raise NotImplementedError

    def select(self, wanted: Mapping[str, int]) -> None:
        """Told the manifest's files (sha256: size) before ``listing`` is read: a reader whose
        store holds other bundles' blobs too lists only these."""

    def need(self, shas: AbstractSet[str]) -> None:
        """Told which members this machine still needs before ``members`` is called: a reader
        that fetches ahead fetches only these (the others may be left out)."""

    def close(self) -> None:
        pass


def _manifest_of(origin: str, size: int, read: Callable[[int], bytes]) -> str:
    if size > MANIFEST_MAX:
        raise BundleError(f"{origin}: the manifest is {size} bytes; zoofind writes far smaller ones", hint=REMAKE)
    data = read(size)
    if len(data) != size:
        raise BundleError(f"{origin}: the bundle ends inside its manifest (truncated)", hint="copy the bundle again")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{origin}: the manifest is not UTF-8 text (byte {exc.start})", hint=REMAKE) from None


def _bad_tar(origin: str, exc: BaseException) -> BundleError:
    if "unexpected end of data" in str(exc):
        return BundleError(f"{origin}: the bundle is truncated (it ends in the middle of a member)",
                           hint="it was cut short: copy it again (or see why the sending end stopped)")
    return BundleError(f"{origin}: not a readable bundle ({exc or type(exc).__name__})",
                       hint="the file is damaged or truncated, or not a bundle; "
                            "copy it again or make it again with `zoofind export`")


class _TarFile(BundleReader):
    """A plain tar on disk: every header is read first (seeking over the bodies), so a bad member
    refuses the whole bundle before a byte is written; bodies are then read at their offsets."""

    layout = "tar"

    def __init__(self, path: Path) -> None:
        self.origin = self.name = str(path)
        self.raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        try:
            with tarfile.open(fileobj=self.raw, mode="r:") as tar:
                infos = tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            self.raw.close()
            raise _bad_tar(self.origin, exc) from None
        if not infos or infos[0].name != MANIFEST or tar_kind(infos[0]) is not None:
            self.raw.close()
            first = infos[0].name if infos else "nothing"
            raise BundleError(f"{self.origin}: not a zoofind bundle (its first member is {first!r}, not {MANIFEST})",
                              hint="make bundles with `zoofind export --lock FILE OUT.tar`")
        self._manifest = infos[0]
        self._infos = infos[1:]
        try:
            for info in self._infos:
                check_name(self.origin, info.name, tar_kind(info))
        except BundleError:
            self.raw.close()
            raise
        self.listing = [Member(i.name, i.size) for i in self._infos]
        self.size = os.fstat(self.raw.fileno()).st_size

    def manifest(self) -> str:
        self.raw.seek(self._manifest.offset_data)
        return _manifest_of(self.origin, self._manifest.size, self.raw.read)

    def members(self) -> Iterator[tuple[Member, Data]]:
        for info in self._infos:
            self.raw.seek(info.offset_data)
            yield Member(info.name, info.size), Data(self.raw.readinto, self.raw.fileno(), info.offset_data)

    def close(self) -> None:
        self.raw.close()


class _TarStream(BundleReader):
    """A tar read once from start to end (stdin, a compressed file): members are checked as they come."""

    layout = "stream"

    def __init__(self, stream: IO[bytes], origin: str, closing: bool = False, size: int | None = None) -> None:
        self.origin = origin
        self.name = "-" if origin == "stdin" else origin
        self._stream = stream if closing else None
        self.size = size
        self._read = _Counted(stream)
        try:
            # The stream mode calls only read() and close(); typeshed asks for a whole file object.
            self.tar = tarfile.open(fileobj=cast("IO[bytes]", self._read), mode="r|*", bufsize=BLOCK)
            self.compressed = getattr(self.tar.fileobj, "comptype", "tar") != "tar"
            first = self.tar.next()
        except (tarfile.TarError, EOFError, OSError) as exc:
            self.close()
            raise _bad_tar(origin, exc) from None
        if first is None or first.name != MANIFEST or tar_kind(first) is not None:
            self.close()
            what = first.name if first else "nothing"
            raise BundleError(f"{origin}: not a zoofind bundle (its first member is {what!r}, not {MANIFEST})",
                              hint="make bundles with `zoofind export --lock FILE -`")
        self._first = first

    def manifest(self) -> str:
        fh = self.tar.extractfile(self._first)
        assert fh is not None
        try:
            return _manifest_of(self.origin, self._first.size, fh.read)
        except (tarfile.TarError, EOFError) as exc:
            raise _bad_tar(self.origin, exc) from None

    def members(self) -> Iterator[tuple[Member, Data]]:
        while True:
            try:
                info = self.tar.next()
            except (tarfile.TarError, EOFError) as exc:
                raise _bad_tar(self.origin, exc) from None
            if info is None:
                return
            check_name(self.origin, info.name, tar_kind(info))
            fh = self.tar.extractfile(info)
            assert fh is not None
            yield Member(info.name, info.size), Data(self._reader(fh))

    def _reader(self, fh: IO[bytes]) -> Reader:
        """The member's ``readinto``; a stream cut short is a damaged bundle, not an unexpected error."""
        def read(view: memoryview) -> int | None:
            try:
                return fh.readinto(view)  # type: ignore[attr-defined]
            except (tarfile.TarError, EOFError) as exc:
                raise _bad_tar(self.origin, exc) from None
        return read

    def consumed(self) -> int:
        return self._read.count

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


class _Counted:
    """A stream's ``read``, counting the bytes it gave (what tarfile's stream reader calls)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self.count += len(data)
        return data

    def close(self) -> None:
        pass  # the stream's owner closes it


class _Folder(BundleReader):
    """A folder bundle, read with ``lstat`` and ``O_NOFOLLOW``: a link is refused, never followed."""

    layout = "folder"

    def __init__(self, path: Path) -> None:
        self.origin = self.name = str(path)
        self.path = path
        names = sorted(os.listdir(path))
        if MANIFEST not in names:
            raise BundleError(f"{path}: not a bundle folder (no {MANIFEST}; an export that was stopped leaves none)",
                              hint="make it with `zoofind export --lock FILE OUT/`")
        for name in names:
            if name not in (MANIFEST, BLOBS):
                raise refused(self.origin, name, f"is not part of a bundle ({MANIFEST} and {BLOBS}/<sha256> only)")
        self._regular(MANIFEST)
        listing: list[Member] = []
        if BLOBS in names:
            st = os.lstat(path / BLOBS)
            if not stat.S_ISDIR(st.st_mode):
                raise refused(self.origin, BLOBS, f"is {_stat_kind(st.st_mode)}, not a folder")
            for name in sorted(os.listdir(path / BLOBS)):
                rel = f"{BLOBS}/{name}"
                mode = os.lstat(path / rel).st_mode
                check_name(self.origin, rel, None if stat.S_ISREG(mode) else _stat_kind(mode))
                listing.append(Member(rel, self._regular(rel).st_size))
        self.listing = listing
        self.size = self._regular(MANIFEST).st_size + sum(m.size for m in listing)

    def _regular(self, rel: str) -> os.stat_result:
        st = os.lstat(self.path / rel)
        if not stat.S_ISREG(st.st_mode):
            raise refused(self.origin, rel, f"is {_stat_kind(st.st_mode)}")
        return st

    @contextlib.contextmanager
    def _open(self, rel: str) -> Iterator[int]:
        try:
            fd = os.open(self.path / rel, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise refused(self.origin, rel, "is a symbolic link") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise refused(self.origin, rel, "is not a regular file")
            yield fd
        finally:
            os.close(fd)

    def manifest(self) -> str:
        with self._open(MANIFEST) as fd:
            size = os.fstat(fd).st_size
            return _manifest_of(self.origin, size, io.FileIO(fd, closefd=False).read)

    def members(self) -> Iterator[tuple[Member, Data]]:
        assert self.listing is not None
        for member in self.listing:
            with self._open(member.name) as fd:
                if os.fstat(fd).st_size != member.size:
                    raise BundleError(f"{self.origin}: {member.name} changed while the bundle was read",
                                      hint="import again")
                yield member, Data(fd_reader(fd), fd, 0)


def _stat_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def open_bundle(bundle: str | os.PathLike[str] | IO[bytes]) -> BundleReader:
    """The bundle at a path (a tar, a compressed tar, a folder), or a tar on a binary stream."""
    if not isinstance(bundle, (str, os.PathLike)):
        return _TarStream(bundle, "stdin")
    path = Path(bundle)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no bundle {str(path)!r}",
                         hint="make one with `zoofind export --lock FILE OUT.tar`") from None
    if stat.S_ISDIR(st.st_mode):
        return _Folder(path)
    with path.open("rb") as fh:
        magic = fh.read(6)
    if magic.startswith(_COMPRESSED):
        return _TarStream(path.open("rb"), str(path), closing=True, size=st.st_size)
    return _TarFile(path)


