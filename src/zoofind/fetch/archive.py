"""Archives from a server, checked whole and extracted safely: one copy of the rules for every cache.

``extract(archive, into, what=...)`` takes a ``.tar.gz``, a plain ``.tar`` or a ``.zip``
(told apart by their first bytes, not by a server-given name) and extracts it into
``into``, a fresh folder the caller renames into place only once this returns:

* checked whole first: a gzip stream is read to its end (its CRC and length are checked
  only there, so a flipped trailer or a truncated file is caught before anything is
  written); tar headers carry their own checksums; every zip member's CRC is checked as
  it is read.
* tar members go through ``tarfile``'s ``data`` filter, except that an absolute name is
  refused rather than made relative (an archive that names ``/etc/...`` is not one to
  trust with the rest): no ``..``, no links leading outside, no devices or fifos.
* zip members are checked by the same rule for names (no ``..``, absolute paths, drive
  letters or backslashes), and anything but plain files and folders (a symlink, a device)
  is refused; each is written by zoofind, never by ``extractall`` (which silently rewrites
  hostile names instead of refusing them).

* bounded: an archive may expand to ``bound(size)`` bytes, by default ``RATIO`` times its own
  size (at least ``FLOOR``, at most ``HEADROOM`` beyond its size), or what ``ZOOFIND_MAX_EXTRACT``
  says. A compressed tar's stream is counted while it is checked, a zip's members and a tar's
  regular files by their sizes before each is written: a bomb is refused before anything (a
  plain tar's sparse member: before the member that crosses the bound) is written.
* no archive timestamps: what is extracted carries the time it was placed, not the members'
  build dates (``cache ls``/``prune`` read last use from the files; a module built in 2001 and
  pulled today was used today).

A refusal or damage raises ``IntegrityError`` whose message says which (``refused`` or
``damaged``); the caller deletes the archive and the half-filled folder.
"""

from __future__ import annotations

import bz2
import lzma
import shutil
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..core.errors import ZoofindError
from ..core.paths import ENV_MAX_EXTRACT
from ..core.units import binary_size, human_bytes
from .integrity import IntegrityError

if TYPE_CHECKING:
    import zipfile

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive's end record
COPY_BLOCK = 4 * 1024 * 1024
#: The expansion allowed by default: this many times the archive's own size (a deflate bomb
#: reaches ~1000x; weights compress by a few per cent, text assets by ~4x)...
RATIO = 100
#: ...but at least this much (a small archive of text may expand past 100x)...
FLOOR = 64 * 1024**2
#: ...and never more than this beyond the archive's own size (100x of a 1 GB archive is a full disk).
HEADROOM = 32 * 1024**3
DEFAULT_BOUND = (f"{RATIO} times the archive's size, at least {binary_size(FLOOR)}, "
                 f"at most {binary_size(HEADROOM)} beyond it")


def bound(size: int, limit: int | None = None) -> int:
    """The most bytes an archive of ``size`` bytes may expand to: ``limit`` (ZOOFIND_MAX_EXTRACT) when set."""
    return limit if limit is not None else max(FLOOR, min(RATIO * size, size + HEADROOM))


def too_large(what: str, size: int, limit: int | None, expands: int | None = None, *, most: int | None = None,
              read: str = "", kind: str = "archive", done: str = "nothing was installed") -> tuple[str, str]:
    """The refusal of an archive of ``size`` bytes that expands past its bound: (message, hint).

    ``most``: the bound (default: ``bound(size, limit)``); ``expands``: what it expands to when
    known (None: more than the bound, counting stopped there); ``read``: said of ``size`` when
    it is what was read so far of a stream; ``done``: what became of what it would have written."""
    most = bound(size, limit) if most is None else most
    if limit is not None and most == limit:
        why = ENV_MAX_EXTRACT
    elif most == FLOOR:
        why = f"the {binary_size(FLOOR)} any {kind} may expand to"
    elif most == RATIO * size:
        why = f"{RATIO} times its size"
    else:
        why = f"{binary_size(HEADROOM)} beyond its size"
    grows = f"{human_bytes(expands)}, past" if expands is not None else "more than"
    message = (f"{what}: the {kind} ({human_bytes(size)}{read}) expands to {grows} its bound of "
               f"{human_bytes(most)} ({why}); refused, {done}")
    allow = f"{binary_size(expands)}" if expands is not None else f"SIZE (above {binary_size(most)})"
    article = "an" if kind[0] in "aeiou" else "a"
    hint = (f"{article} {kind} that inflates this far is broken or hostile; if you trust it, set "
            f"{ENV_MAX_EXTRACT}={allow}, the most bytes one {kind} may expand to, and run the command again")
    return message, hint


@dataclass
class _Budget:
    """Bytes an extraction has let through so far against its bound."""

    what: str
    size: int
    limit: int | None
    used: int = 0

    @property
    def most(self) -> int:
        return bound(self.size, self.limit)

    def take(self, n: int, *, whole: int | None = None) -> None:
        """``n`` more bytes are about to be written; ``whole``: the total when it is known in advance."""
        self.used += n
        if self.used > self.most:
            message, hint = too_large(self.what, self.size, self.limit, whole)
            raise IntegrityError(message, hint=hint)


def kind_of(archive: Path) -> str | None:
    """``"tar"`` (gzip-compressed or plain), ``"zip"``, or None when the bytes are neither."""
    with archive.open("rb") as fh:
        head = fh.read(4)
    if head[:2] == GZIP_MAGIC:
        return "tar"
    if head in ZIP_MAGICS:
        return "zip"
    return "tar" if tarfile.is_tarfile(archive) else None


def extract(archive: Path, into: Path, *, what: str, kinds: tuple[str, ...] = ("tar", "zip"),
            limit: int | None = None) -> None:
    """Check ``archive`` whole and extract it into the existing folder ``into``; ``IntegrityError`` if
    damaged, hostile or expanding past its bound.

    ``kinds``: the formats the caller's framework reads (tensorflow_hub: tar only).
    ``limit``: the bytes it may expand to (``ZOOFIND_MAX_EXTRACT``); None: ``bound``'s default."""
    kind = kind_of(archive)
    if kind not in kinds:
        raise IntegrityError(f"{what}: the archive is damaged (not a {' or '.join(kinds)} archive); it was deleted",
                             hint="retry the pull; if it fails again the server is misbehaving")
    budget = _Budget(what, archive.stat().st_size, limit)
    if kind == "zip":
        _extract_zip(archive, into, what, budget)
        return
    if not hasattr(tarfile, "data_filter"):
        raise ZoofindError("extracting archives safely needs Python 3.10.12, 3.11.4 or newer (tarfile's data filter)",
                           hint="upgrade Python; zoofind does not extract archives without the filter")
    _check_stream(archive, what, _Budget(what, budget.size, limit))

    def strict(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        filtered = _strict(member, dest)
        if filtered is not None and filtered.isreg():
            budget.take(filtered.size)  # before the member is written: a sparse one's apparent size counts
        return filtered

    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(into, filter=strict)
    except tarfile.FilterError as exc:
        raise IntegrityError(f"{what}: the archive holds {exc}; refused, nothing was installed",
                             hint="the server is misbehaving or hostile") from None
    except (tarfile.TarError, EOFError) as exc:  # an OSError (a full disk) is not the archive's fault: it propagates
        raise IntegrityError(f"{what}: the archive is damaged ({exc}); it was deleted", hint="retry the pull") from None


def _strict(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """``tarfile.data_filter``, except that an absolute name is refused, not made relative."""
    if member.name.startswith("/") or (member.islnk() and member.linkname.startswith("/")):
        raise tarfile.AbsolutePathError(member)
    filtered = tarfile.data_filter(member, dest)
    # No archive timestamps (None: tarfile leaves the time the file or folder was written; the
    # extraction filters of PEP 706 brought that, typeshed still says float).
    return filtered.replace(mtime=None, deep=False) if filtered is not None else None  # type: ignore[arg-type]


def _check_stream(archive: Path, what: str, budget: _Budget) -> None:
    """Read a compressed stream (gzip, bzip2, xz: those tarfile's "r:*" reads) to its end, counting
    what it expands to and writing nothing: its checksums and length are checked only at the
    end, and a bomb is refused at its bound."""
    # lazy: gzip (~2 ms) only for a compressed stream: not on cache ls/verify or bundle import/export start-up
    import gzip

    with archive.open("rb") as fh:
        head = fh.read(6)
    opener = next((o for magic, o in ((GZIP_MAGIC, gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
                   if head.startswith(magic)), None)
    if opener is None:
        return  # a plain tar: tarfile checks its header checksums, the filter counts its members
    try:
        with opener(archive, "rb") as stream:
            while chunk := stream.read(COPY_BLOCK):
                budget.take(len(chunk))
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise IntegrityError(f"{what}: the archive is damaged ({exc}); it was deleted", hint="retry the pull") from None


def _zip_refusal(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member may not be extracted, or None."""
    name = info.filename
    parts = PurePosixPath(name.rstrip("/")).parts
    if (not parts or name.startswith("/") or "\\" in name or ":" in parts[0]
            or any(p in ("..", ".") for p in parts) or any(ord(c) < 32 for c in name)):
        return f"a member named {name!r} that would land outside its folder"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.create_system == 3 and kind:  # made on Unix: the mode's type bits (when set) say what the member is
        if kind == stat.S_IFLNK:
            return f"a symbolic link {name!r}"
        if kind not in (stat.S_IFREG, stat.S_IFDIR):
            return f"a special file {name!r} (device, fifo or socket)"
    return None


def _extract_zip(archive: Path, into: Path, what: str, budget: _Budget) -> None:
    # lazy: zipfile (~4 ms) only for a zip: not on cache ls/verify or bundle import/export start-up
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            seen: set[str] = set()
            for info in members:  # every name checked before anything is written
                why = _zip_refusal(info)
                key = info.filename.rstrip("/")
                if why is None and key in seen:
                    why = f"the member {info.filename!r} twice"
                if why is not None:
                    raise IntegrityError(f"{what}: the archive holds {why}; refused, nothing was installed",
                                         hint="the server is misbehaving or hostile")
                seen.add(key)
            # zipfile gives no more than a member's stated size (and checks its CRC): the sizes bound what is written.
            total = sum(i.file_size for i in members if not i.is_dir())
            budget.take(total, whole=total)
            for info in members:
                target = into.joinpath(*PurePosixPath(info.filename.rstrip("/")).parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as out:  # zipfile checks the CRC at the member's end
                    shutil.copyfileobj(src, out, COPY_BLOCK)
    except IntegrityError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, FileExistsError) as exc:
        raise IntegrityError(f"{what}: the archive is damaged ({exc}); it was deleted", hint="retry the pull") from None
