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

* no archive timestamps: what is extracted carries the time it was placed, not the members'
  build dates (``cache ls``/``prune`` read last use from the files; a module built in 2001 and
  pulled today was used today).

A refusal or damage raises ``IntegrityError`` whose message says which (``refused`` or
``damaged``); the caller deletes the archive and the half-filled folder.
"""

from __future__ import annotations

import shutil
import stat
import tarfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import ZoofindError
from ..fetch.integrity import IntegrityError

if TYPE_CHECKING:
    import zipfile

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive's end record
COPY_BLOCK = 4 * 1024 * 1024


def kind_of(archive: Path) -> str | None:
    """``"tar"`` (gzip-compressed or plain), ``"zip"``, or None when the bytes are neither."""
    with archive.open("rb") as fh:
        head = fh.read(4)
    if head[:2] == GZIP_MAGIC:
        return "tar"
    if head in ZIP_MAGICS:
        return "zip"
    return "tar" if tarfile.is_tarfile(archive) else None


def extract(archive: Path, into: Path, *, what: str, kinds: tuple[str, ...] = ("tar", "zip")) -> None:
    """Check ``archive`` whole and extract it into the existing folder ``into``; ``IntegrityError`` if damaged or hostile.

    ``kinds``: the formats the caller's framework reads (tensorflow_hub: tar only)."""
    kind = kind_of(archive)
    if kind not in kinds:
        raise IntegrityError(f"{what}: the archive is damaged (not a {' or '.join(kinds)} archive); it was deleted",
                             hint="retry the pull; if it fails again the server is misbehaving")
    if kind == "zip":
        _extract_zip(archive, into, what)
        return
    if not hasattr(tarfile, "data_filter"):
        raise ZoofindError("extracting archives safely needs Python 3.10.12, 3.11.4 or newer (tarfile's data filter)",
                           hint="upgrade Python; zoofind does not extract archives without the filter")
    _check_gzip(archive, what)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(into, filter=_strict)
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
    # No archive timestamps (None: tarfile leaves the time the file or folder was written).
    return filtered.replace(mtime=None, deep=False) if filtered is not None else None


def _check_gzip(archive: Path, what: str) -> None:
    """Read a gzip stream to its end: its CRC and length are checked only there."""
    import gzip
    import zlib

    with archive.open("rb") as fh:
        if fh.read(2) != GZIP_MAGIC:
            return  # a plain tar: tarfile checks its header checksums
    try:
        with gzip.open(archive, "rb") as g:
            while g.read(COPY_BLOCK):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise IntegrityError(f"{what}: the archive is damaged ({exc}); it was deleted", hint="retry the pull") from None


def _zip_refusal(info: "zipfile.ZipInfo") -> str | None:
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


def _extract_zip(archive: Path, into: Path, what: str) -> None:
    import zipfile
    import zlib

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
