"""Bundles: the files of a lock carried to a machine without network (``zoofind export`` / ``import``).

A bundle is a plain tar, or a folder holding the same names::

    zoofind-bundle.toml    the manifest, always the tar's first member: ``bundle = 1`` (this
                           format's version), then the lock exactly as ``lockfile.dumps``
                           writes it, so the manifest is itself a lock
                           (``zoofind pull --lock zoofind-bundle.toml`` works with network)
    blobs/<sha256>         each distinct locked file once, named by its content

The tar is not compressed: model weights are dense floats that gzip shrinks by a few per
cent at tens of MB/s, so compressing would slow both ends for almost nothing (``import``
still reads a gzip, bzip2 or xz tar, as a stream).

``export_bundle`` finds each locked file in this machine's caches (the Hugging Face hub
cache, torch.hub's checkpoints, TF Hub's module folders, then the shared tier), hashes it
while it streams into the bundle (each file is read once: the check rides on the copy),
and fails naming the model and file when one is missing or differs from the lock. A tar
goes to a temporary file renamed into place when whole, or to a stream (stdout) that is
left without its end-of-archive blocks when the export fails, so no reader takes half a
bundle for a whole one. A folder bundle gets hard links to the cache files where the file
system allows (no second copy of the bytes), else copies, and is renamed into place whole.

``import_bundle`` reads the manifest, checks the member list against it (a file or folder
bundle before anything is written; a stream member by member), then streams each member
into a temporary file beside its target (on the target's file system, named
``.zoofind-tmp-...`` so ``cache prune`` knows a stray), hashes it on the way, and renames
it onto the target only when size and sha256 (and a Hub blob's git id) agree; it takes the
lock ``pull`` takes for that target. A model becomes visible only once all its files are in
place: Hugging Face snapshot links and then ``refs/<revision>`` (written only when the
machine has no such ref yet: a ``main`` that already points elsewhere is someone's newer
pull, never moved back), a torch checkpoint by its own rename, a TF Hub module filled in a
temporary folder renamed to ``<sha1>`` when complete. Nothing here touches the network or
imports code that does. Nothing prints: results are frozen records, progress goes to a
callback.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import io
import os
import re
import shutil
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from .atomic import TMP_PREFIX
from .caches.archive import bound, too_large
from .context import Context
from .errors import EXIT_OK, UsageError, ZoofindError, describe
from .fetch.integrity import Expected, Hasher, IntegrityError, verify
from .lockfile import Lock, LockedFile, LockedModel
from .paths import max_extract

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .caches.hf import RepoCache

    from .fetch.engine import ProgressEvent

#: The bundle layout's version, written as ``bundle = N`` at the top of the manifest.
BUNDLE_VERSION = 1
MANIFEST = "zoofind-bundle.toml"
BLOBS = "blobs"
#: The sources whose caches a bundle fills (Kaggle: not yet, as for ``pull``).
SOURCES = ("hf", "torchvision", "tfhub")
#: Bytes moved per read; two such buffers alternate so one is hashed while the other is written.
BLOCK = 4 * 1024 * 1024
#: A manifest larger than this is not one zoofind wrote (a lock of 100,000 files is ~20 MB).
MANIFEST_MAX = 64 * 1024 * 1024

_MEMBER = re.compile(r"blobs/([0-9a-f]{64})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
Progress = Callable[["ProgressEvent"], None]
Reader = Callable[[memoryview], "int | None"]


class BundleError(ZoofindError):
    """A bundle that is not what its manifest says (a hostile or damaged member, a missing
    one), or a cache file that is not what the lock says: exit 1, nothing of it written."""


# -- results ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BundledFile:
    path: str
    size: int
    sha256: str
    #: the bundle member holding the bytes: ``blobs/<sha256>``
    member: str
    #: export: written (into a tar) | linked | copied (into a folder);
    #: import: placed | present (already there, size checked) | verified (already there,
    #: re-hashed) | replaced (was there, damaged, replaced from the bundle) | failed
    status: str
    #: export: the cache file read; import: where the bytes are now
    location: str | None = None


@dataclass(frozen=True)
class BundledModel:
    id: str
    #: what the framework loads here: the snapshot folder, the checkpoint file, the module folder
    path: str | None = None
    commit: str | None = None
    files: tuple[BundledFile, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None
    hint: str | None = None
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class ExportReport:
    #: the bundle's path, or ``-`` for a stream
    bundle: str
    layout: str  # tar | folder
    models: tuple[BundledModel, ...]
    #: distinct members written (files shared by several models count once) and their bytes
    members: int
    bytes: int
    #: folder bundles: how many members are hard links to the cache files, how many copies
    linked: int = 0
    copied: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_OK


@dataclass(frozen=True)
class ImportReport:
    bundle: str
    layout: str  # tar | folder | stream
    models: tuple[BundledModel, ...]
    #: bytes written into the caches (members placed), and files found already in place
    placed_bytes: int = 0
    present: int = 0

    @property
    def exit_code(self) -> int:
        """0 when every model is in place, else the first failure's code."""
        return next((m.exit_code for m in self.models if not m.ok), EXIT_OK)


# -- moving bytes -------------------------------------------------------------------------
class _Pump:
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
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="zoofind-hash")
        self._buffers = (bytearray(BLOCK), bytearray(BLOCK))
        self._kernel = hasattr(os, "copy_file_range")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

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
        return self.run(_fd_reader(src), size, hasher, _fd_writer(dst), tick)

    def _copy_in_kernel(self, src: int, src_at: int, dst: int, dst_at: int, size: int, hasher: Hasher | None,
                        tick: Callable[[int], None]) -> int:
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
                    pending = self._pool.submit(_hash_pages, hasher, dst, dst_at + done, got)
                done += got
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
            _hash_pages(hasher, fd, done, n)
            done += n
            tick(n)
        return done


class _NoKernelCopy(Exception):
    pass


_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF, errno.EPERM, errno.ETXTBSY}


def _hash_pages(hasher: Hasher, fd: int, at: int, n: int) -> None:
    """Hash ``n`` bytes of file ``fd`` from ``at``, read through ``mmap`` (no copy into a
    buffer), or with ``pread`` where the file cannot be mapped."""
    import mmap

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


def _fd_writer(fd: int) -> Callable[[memoryview], None]:
    def write(chunk: memoryview) -> None:
        while chunk:
            chunk = chunk[os.write(fd, chunk):]
    return write


def _fd_reader(fd: int) -> Reader:
    return io.FileIO(fd, closefd=False).readinto


def _temp_name(target: Path) -> Path:
    return target.with_name(f"{TMP_PREFIX}{os.urandom(8).hex()}-{target.name[:64]}")


_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def _staged(target: Path) -> Iterator[int]:
    """A new file beside ``target`` (same file system, so the rename is atomic), renamed onto
    it on a clean exit and removed on any exception, Ctrl-C included; a kill -9 leaves only
    ``.zoofind-tmp-...``, which ``cache prune`` removes once it is a day old.

    Not ``atomic.replacing``: that makes private (0600) files, and cache files must be as
    readable as the frameworks' own (0644 less the umask), for a lab sharing a cache; and the
    hash reads the file back through ``mmap``, so it is opened for reading too.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(target)
    fd = os.open(tmp, _CREATE, 0o644)
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


def _emit(progress: Progress | None, label: str, kind: str, done: int = 0, total: int | None = None, advanced: int = 0) -> None:
    if progress is not None:
        from .fetch.engine import ProgressEvent

        progress(ProgressEvent(label, kind, done, total, advanced))


def _ticker(progress: Progress | None, label: str, total: int) -> Callable[[int], None]:
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        _emit(progress, label, "advance", done, total, n)

    return tick


def _expected(f: LockedFile) -> Expected:
    """What a locked file's bytes must be: size, sha256 and, for a Hub blob named by its git id, that id too."""
    git = f.blob if f.blob is not None and len(f.blob) == 40 else None
    return Expected(f.size, f.sha256, git)


def _check(h: Hasher, f: LockedFile, label: str, what: str) -> None:
    """``integrity.verify``, worded for bytes that came from a bundle or a cache rather than a download."""
    try:
        verify(h, _expected(f), label)
    except IntegrityError as exc:
        raise IntegrityError(exc.message.replace("downloaded bytes", what, 1), hint=exc.hint) from None


def _label(model_id: str, path: str) -> str:
    return f"{model_id.split(':', 1)[1].rsplit('/', 1)[-1]}/{path}"


def _member(sha256: str) -> str:
    return f"{BLOBS}/{sha256}"


# -- the manifest ---------------------------------------------------------------------------
def manifest_text(lock: Lock) -> str:
    """The manifest: ``bundle = N``, then the lock as ``lockfile.dumps`` writes it (valid TOML:
    a top-level key may come first, and a lock reader ignores it)."""
    from . import lockfile

    return (f"# zoofind bundle manifest: the lock below, plus this bundle format's version.\n"
            f"# Members blobs/<sha256> hold the files. Place them with: zoofind import BUNDLE\n"
            f"bundle = {BUNDLE_VERSION}\n" + lockfile.dumps(lock, name=MANIFEST))


def read_manifest(text: str, origin: str) -> Lock:
    """The lock a manifest carries; ``BundleError`` when it is not a manifest this zoofind reads."""
    import tomllib

    from . import lockfile

    try:
        version = tomllib.loads(text).get("bundle")
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise BundleError(f"{origin}: the manifest is not valid TOML ({exc})", hint=_REMAKE) from None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(f"{origin}: not a zoofind bundle manifest (no `bundle = {BUNDLE_VERSION}` line)", hint=_REMAKE)
    if version > BUNDLE_VERSION:
        raise BundleError(f"{origin}: written by a newer zoofind (bundle format {version}; this zoofind reads {BUNDLE_VERSION})",
                          hint="upgrade zoofind on this machine: pip install -U zoofind (from a wheel you carry over)")
    try:
        return lockfile.loads(text, origin=origin)
    except UsageError as exc:  # a bundle is data that came from elsewhere: a bad one is a failure, not a usage error
        raise BundleError(exc.message, hint=_REMAKE) from None


_REMAKE = "the bundle is damaged or was not made by zoofind; make it again with `zoofind export` where the models are"


def _check_lock(lock: Lock, origin: str, *, error: type[ZoofindError]) -> None:
    """What a bundle needs of a lock beyond ``lockfile``'s own checks: sources it can carry,
    one size per sha256, Hub blob names that agree with the content, safe ref names."""
    from .caches import safe_relpath
    from .errors import BadAnswerError

    sizes: dict[str, int] = {}
    for m in lock.models:
        if m.source not in SOURCES:
            raise error(f"{origin}: {m.id}: {m.source} models cannot be bundled yet",
                        hint="bundles carry hf:, torchvision: and tfhub: models")
        if m.source == "hf" and m.revision:
            try:
                safe_relpath(m.revision, what=m.id)
            except BadAnswerError:
                raise error(f"{origin}: {m.id}: revision {m.revision!r} cannot name a ref file") from None
        paths = {f.path for f in m.files}
        for f in m.files:
            parents = f.path.split("/")[:-1]
            if clash := next((d for d in ("/".join(parents[:k]) for k in range(1, len(parents) + 1)) if d in paths), None):
                raise error(f"{origin}: {m.id}: {clash!r} is both a file and the folder of {f.path!r}")
            if sizes.setdefault(f.sha256, f.size) != f.size:
                raise error(f"{origin}: sha256 {f.sha256[:12]}... is given two sizes ({sizes[f.sha256]} and {f.size} bytes)")
            if m.source == "hf" and f.blob is not None and len(f.blob) == 64 and f.blob != f.sha256:
                raise error(f"{origin}: {m.id}: {f.path}: `blob` names an LFS sha256 other than the file's")
            if m.source == "torchvision" and "/" in f.path:
                raise error(f"{origin}: {m.id}: {f.path!r} is not a checkpoint file name")


# -- where locked files live ------------------------------------------------------------------
def _ref(m: LockedModel) -> str:
    return m.id.split(":", 1)[1]


def _repo(m: LockedModel, root: Path) -> RepoCache:
    from .caches.hf import RepoCache

    return RepoCache(root, _ref(m))


def _model_path(m: LockedModel, root: Path) -> Path:
    """What the framework loads, below one cache root of the model's source."""
    if m.source == "hf":
        assert m.commit is not None
        return _repo(m, root).snapshot(m.commit)
    if m.source == "tfhub":
        from .caches import tfhub

        return root / tfhub.module_name(_ref(m))
    return root / m.files[0].path


def _roots(source: str, env: Mapping[str, str], *, shared_too: bool) -> list[Path]:
    """The cache roots of a source: this user's (first), then the shared tier's when asked."""
    from .caches import shared

    if source == "hf":
        from .caches.hf import hub_cache

        own, others = hub_cache(env), shared.hub_caches(env)
    elif source == "tfhub":
        from .caches import tfhub

        own, others = tfhub.cache_dir(env)[0], shared.tfhub_dirs(env)
    else:
        from .caches.torch import checkpoints

        own, others = checkpoints(env), shared.checkpoint_dirs(env)
    return [own, *others] if shared_too else [own]


def _candidates(m: LockedModel, f: LockedFile, root: Path) -> list[Path]:
    """Where a locked file may sit below one cache root (Hugging Face: its snapshot path, then its blob)."""
    if m.source == "hf":
        repo = _repo(m, root)
        assert m.commit is not None and f.blob is not None
        return [repo.snapshot(m.commit) / f.path, repo.blob(f.blob)]
    if m.source == "tfhub":
        return [_model_path(m, root) / f.path]
    return [root / f.path]


@dataclass(frozen=True)
class _Found:
    model: int
    file: LockedFile
    path: Path
    model_path: Path


def _locate(lock: Lock, env: Mapping[str, str]) -> list[_Found]:
    """Each locked file in this machine's caches; ``BundleError`` listing every one that is
    missing or has another size (sizes from ``stat``: the hashes are checked while copying)."""
    found: list[_Found] = []
    problems: list[str] = []
    for i, m in enumerate(lock.models):
        roots = _roots(m.source, env, shared_too=True)
        for f in m.files:
            wrong: str | None = None
            hit: _Found | None = None
            for root in roots:
                for candidate in _candidates(m, f, root):
                    try:
                        real = candidate.resolve(strict=True)
                        st = real.stat()
                    except (OSError, RuntimeError):
                        continue
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    if st.st_size != f.size:
                        wrong = wrong or f"{m.id}: {f.path} in {candidate} has {st.st_size} bytes, the lock says {f.size}"
                        continue
                    hit = _Found(i, f, real, _model_path(m, root))
                    break
                if hit:
                    break
            if hit:
                found.append(hit)
            else:
                problems.append(wrong or f"{m.id}: {f.path} is not in {'the caches' if len(roots) > 1 else 'the cache'} "
                                f"({', '.join(str(r) for r in roots)})")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        origin = lock.origin or "FILE"
        raise BundleError(
            f"{len(problems)} locked file(s) are not here as the lock says: " + "; ".join(problems[:5]) + more,
            hint=f"fetch them first with `zoofind pull --lock {origin}`",
        )
    return found


# -- export ---------------------------------------------------------------------------------
class _TarOut:
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

    def body(self, pump: _Pump, src: int, size: int, hasher: Hasher, tick: Callable[[int], None]) -> int:
        """A member's bytes from file ``src``; returns how many it had."""
        if self.fd is not None:
            n = pump.copy(src, 0, self.fd, self.offset, size, hasher, tick)
        else:
            n = pump.run(_fd_reader(src), size, hasher, self._write, tick)
        self.offset += n
        return n

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


def export_bundle(
    lock: Lock | str | os.PathLike[str], out: str | os.PathLike[str] | IO[bytes], *, ctx: Context | None = None,
    folder: bool | None = None, copy: bool = False, progress: Progress | None = None,
) -> ExportReport:
    """Write the locked files and the manifest as a bundle.

    ``out``: a path for a tar file, a path for a folder bundle (``folder=True``, or a path
    that is an existing folder or ends with ``/``), or a binary stream (stdout) for a tar.
    ``copy``: copy into a folder bundle even where hard links are possible.
    """
    from . import lockfile

    ctx = ctx or Context.from_env(offline=True)
    if not isinstance(lock, Lock):
        lock = lockfile.read(Path(lock))
    origin = lock.origin or "the lock"
    _check_lock(lock, origin, error=UsageError)
    if not lock.models:
        raise UsageError(f"{origin} locks no model", hint="write one with `zoofind lock ID... -o FILE`")
    if isinstance(out, (str, os.PathLike)):
        target = Path(out)
        as_folder = folder if folder is not None else (str(out).endswith(("/", os.sep)) or target.is_dir())
        if not as_folder and str(out).endswith((".gz", ".tgz", ".bz2", ".xz", ".zst")):
            raise UsageError(f"{target}: bundles are plain tar files (model weights do not compress)",
                             hint="name it .tar; to compress anyway: zoofind export ... - | gzip > bundle.tar.gz")
    else:
        target, as_folder = None, False
    found = _locate(lock, ctx.environ)
    members: dict[str, _Found] = {}
    for hit in found:
        members.setdefault(hit.file.sha256, hit)
    text = manifest_text(lock).encode("utf-8")
    created = lock.created or datetime.datetime.now(datetime.timezone.utc)
    mtime = int(created.timestamp())
    pump = _Pump()
    try:
        if target is None:
            assert not isinstance(out, (str, os.PathLike))
            try:
                statuses = _export_tar(_stream_writer(out), members, text, mtime, pump, progress, lock)
                _flush(out)
            except BaseException:
                _spoil(out)
                raise
            where = "-"
        elif as_folder:
            statuses = _export_folder(target, members, text, pump, progress, lock, copy=copy)
            where = str(target)
        else:
            with _staged(target) as fd:
                statuses = _export_tar(fd, members, text, mtime, pump, progress, lock)
            where = str(target)
    finally:
        pump.close()
    models = []
    for i, m in enumerate(lock.models):
        mine = [h for h in found if h.model == i]
        files = tuple(BundledFile(h.file.path, h.file.size, h.file.sha256, _member(h.file.sha256), statuses[h.file.sha256], str(h.path))
                      for h in mine)
        models.append(BundledModel(m.id, str(mine[0].model_path) if mine else None, m.commit, files))
    return ExportReport(
        where, "folder" if as_folder else "tar", tuple(models), len(members), sum(h.file.size for h in members.values()),
        linked=sum(1 for s in statuses.values() if s == "linked"), copied=sum(1 for s in statuses.values() if s == "copied"),
    )


def _export_tar(sink: int | Callable[[memoryview], Any], members: Mapping[str, _Found], manifest: bytes, mtime: int,
                pump: _Pump, progress: Progress | None, lock: Lock) -> dict[str, str]:
    tar = _TarOut(sink, mtime)
    tar.header(MANIFEST, len(manifest))
    tar.put(manifest)
    tar.pad()
    for sha, hit in members.items():
        tar.header(_member(sha), hit.file.size)
        label = _label(lock.models[hit.model].id, hit.file.path)
        _emit(progress, label, "start", 0, hit.file.size)
        h = Hasher(_expected(hit.file), hit.file.size)
        with _read_fd(hit.path) as fd:
            n = tar.body(pump, fd, hit.file.size, h, _ticker(progress, label, hit.file.size))
        _check_read(h, n, hit, lock)
        tar.pad()
        _emit(progress, label, "done", n, n)
    tar.close()
    return dict.fromkeys(members, "written")


def _check_read(h: Hasher, n: int, hit: _Found, lock: Lock) -> None:
    """A cache file, as read into the bundle, against the lock."""
    what = f"{lock.models[hit.model].id}: {hit.file.path} ({hit.path})"
    if n != hit.file.size:
        raise BundleError(f"{what} shrank while it was read", hint="something is writing to the cache; export again")
    _check(h, hit.file, what, "the cached bytes")


def _spoil(out: IO[bytes]) -> None:
    """End a failed stream with a block that is no tar header: tar(1) takes a tar that simply
    stops after a member for whole, but fails on this ("Skipping to next header")."""
    with contextlib.suppress(OSError, ValueError):
        out.write(b"\xff" * tarfile.BLOCKSIZE)
        out.flush()


def _stream_writer(out: IO[bytes]) -> Callable[[memoryview], None]:
    def write(chunk: memoryview) -> None:
        try:
            out.write(chunk)
        except BrokenPipeError:
            raise _gone() from None
    return write


def _flush(out: IO[bytes]) -> None:
    try:
        out.flush()
    except BrokenPipeError:
        raise _gone() from None


def _gone() -> BundleError:
    # Not the quiet end of `search | head`: the bundle did not arrive whole.
    return BundleError("the reader of the bundle went away before it was whole (broken pipe)",
                       hint="see what the receiving end reported (zoofind import's message), then export again")


@contextlib.contextmanager
def _read_fd(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def _export_folder(target: Path, members: Mapping[str, _Found], manifest: bytes, pump: _Pump,
                   progress: Progress | None, lock: Lock, *, copy: bool) -> dict[str, str]:
    """Fill a temporary folder beside ``target``, then rename it into place whole."""
    if target.exists():
        if not target.is_dir():
            raise UsageError(f"{target} exists and is not a folder", hint="give a new folder name (ending in /) or a .tar name")
        if any(target.iterdir()):
            raise UsageError(f"{target} is not empty", hint="give a new or empty folder; a bundle folder holds only the bundle")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(target)
    (tmp / BLOBS).mkdir(parents=True)
    statuses: dict[str, str] = {}
    try:
        for sha, hit in members.items():
            dst = tmp / BLOBS / sha
            label = _label(lock.models[hit.model].id, hit.file.path)
            _emit(progress, label, "start", 0, hit.file.size)
            h = Hasher(_expected(hit.file), hit.file.size)
            tick = _ticker(progress, label, hit.file.size)
            linked = False
            if not copy:
                try:
                    os.link(hit.path, dst)  # first, so the one read below is the hash's alone
                    linked = True
                except OSError:
                    pass
            with _read_fd(hit.path) as src:
                if linked:
                    n = pump.hash(src, hit.file.size, h, tick)
                else:
                    fd = os.open(dst, _CREATE, 0o644)
                    try:
                        n = pump.copy(src, 0, fd, 0, hit.file.size, h, tick)
                    finally:
                        os.close(fd)
            _check_read(h, n, hit, lock)
            statuses[sha] = "linked" if linked else "copied"
            _emit(progress, label, "done", n, n)
        fd = os.open(tmp / MANIFEST, _CREATE, 0o644)
        try:
            _fd_writer(fd)(memoryview(manifest))
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            target.rmdir()  # empty (checked above): rename(2) would replace it too, but not on every OS
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return statuses


# -- reading bundles -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Member:
    name: str
    size: int

    @property
    def sha256(self) -> str:
        return self.name.split("/", 1)[1]


@dataclass(frozen=True)
class _Data:
    """Where a member's bytes come from: a reader giving them in order, and, when they sit in
    a file (a tar on disk, a folder's file), that file and their offset, to copy in the kernel."""

    read: Reader
    fd: int | None = None
    at: int = 0


def _refused(origin: str, name: str, why: str) -> BundleError:
    return BundleError(f"{origin}: member {name!r} {why}; refused, nothing of it was written",
                       hint="the bundle is damaged or hostile; make it again with `zoofind export`")


def _check_name(origin: str, name: str, kind: str | None) -> None:
    """A member must be a regular file (``kind`` None) named exactly as the manifest or ``blobs/<sha256>``."""
    parts = name.split("/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\\" in name:
        raise _refused(origin, name, "has an absolute path")
    if ".." in parts:
        raise _refused(origin, name, "would land outside its folder (`..`)")
    if kind is not None:
        raise _refused(origin, name, f"is {kind}")
    if name != MANIFEST and not _MEMBER.fullmatch(name):
        raise _refused(origin, name, f"is not part of a bundle ({MANIFEST} and {BLOBS}/<sha256> only)")


def _tar_kind(info: tarfile.TarInfo) -> str | None:
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


class _Source:
    """A bundle being read: its manifest, its members in order, each with a reader of its bytes."""

    #: what messages call it (a path, "stdin"), and what the report calls it (a path, "-")
    origin: str
    name: str
    layout: str
    #: The member list, when it can be read before any data (a tar file, a folder); a stream: None.
    listing: list[_Member] | None = None
    #: The bundle's own bytes when known before reading (a file, a folder); None for stdin.
    size: int | None = None
    #: Whether the bytes are compressed (gzip, bzip2, xz): an import may write far more than the bundle holds.
    compressed: bool = False

    def consumed(self) -> int:
        """The bundle's bytes read so far (its own size where it is known)."""
        return self.size or 0

    def manifest(self) -> str:
        raise NotImplementedError

    def members(self) -> Iterator[tuple[_Member, _Data]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _manifest_of(origin: str, size: int, read: Callable[[int], bytes]) -> str:
    if size > MANIFEST_MAX:
        raise BundleError(f"{origin}: the manifest is {size} bytes; zoofind writes far smaller ones", hint=_REMAKE)
    data = read(size)
    if len(data) != size:
        raise BundleError(f"{origin}: the bundle ends inside its manifest (truncated)", hint="copy the bundle again")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{origin}: the manifest is not UTF-8 text (byte {exc.start})", hint=_REMAKE) from None


def _bad_tar(origin: str, exc: BaseException) -> BundleError:
    if "unexpected end of data" in str(exc):
        return BundleError(f"{origin}: the bundle is truncated (it ends in the middle of a member)",
                           hint="it was cut short: copy it again (or see why the sending end stopped)")
    return BundleError(f"{origin}: not a readable bundle ({exc or type(exc).__name__})",
                       hint="the file is damaged or truncated, or not a bundle; copy it again or make it again with `zoofind export`")


class _TarFile(_Source):
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
        if not infos or infos[0].name != MANIFEST or _tar_kind(infos[0]) is not None:
            self.raw.close()
            first = infos[0].name if infos else "nothing"
            raise BundleError(f"{self.origin}: not a zoofind bundle (its first member is {first!r}, not {MANIFEST})",
                              hint="make bundles with `zoofind export --lock FILE OUT.tar`")
        self._manifest = infos[0]
        self._infos = infos[1:]
        try:
            for info in self._infos:
                _check_name(self.origin, info.name, _tar_kind(info))
        except BundleError:
            self.raw.close()
            raise
        self.listing = [_Member(i.name, i.size) for i in self._infos]
        self.size = os.fstat(self.raw.fileno()).st_size

    def manifest(self) -> str:
        self.raw.seek(self._manifest.offset_data)
        return _manifest_of(self.origin, self._manifest.size, self.raw.read)

    def members(self) -> Iterator[tuple[_Member, _Data]]:
        for info in self._infos:
            self.raw.seek(info.offset_data)
            yield _Member(info.name, info.size), _Data(self.raw.readinto, self.raw.fileno(), info.offset_data)

    def close(self) -> None:
        self.raw.close()


class _TarStream(_Source):
    """A tar read once from start to end (stdin, a compressed file): members are checked as they come."""

    layout = "stream"

    def __init__(self, stream: IO[bytes], origin: str, closing: bool = False, size: int | None = None) -> None:
        self.origin = origin
        self.name = "-" if origin == "stdin" else origin
        self._stream = stream if closing else None
        self.size = size
        self._read = _Counted(stream)
        try:
            self.tar = tarfile.open(fileobj=self._read, mode="r|*", bufsize=BLOCK)
            self.compressed = getattr(self.tar.fileobj, "comptype", "tar") != "tar"
            first = self.tar.next()
        except (tarfile.TarError, EOFError, OSError) as exc:
            self.close()
            raise _bad_tar(origin, exc) from None
        if first is None or first.name != MANIFEST or _tar_kind(first) is not None:
            self.close()
            raise BundleError(f"{origin}: not a zoofind bundle (its first member is {first.name if first else 'nothing'!r}, not {MANIFEST})",
                              hint="make bundles with `zoofind export --lock FILE -`")
        self._first = first

    def manifest(self) -> str:
        fh = self.tar.extractfile(self._first)
        assert fh is not None
        try:
            return _manifest_of(self.origin, self._first.size, fh.read)
        except (tarfile.TarError, EOFError) as exc:
            raise _bad_tar(self.origin, exc) from None

    def members(self) -> Iterator[tuple[_Member, _Data]]:
        while True:
            try:
                info = self.tar.next()
            except (tarfile.TarError, EOFError) as exc:
                raise _bad_tar(self.origin, exc) from None
            if info is None:
                return
            _check_name(self.origin, info.name, _tar_kind(info))
            fh = self.tar.extractfile(info)
            assert fh is not None
            yield _Member(info.name, info.size), _Data(self._reader(fh))

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


class _Folder(_Source):
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
                raise _refused(self.origin, name, f"is not part of a bundle ({MANIFEST} and {BLOBS}/<sha256> only)")
        self._regular(MANIFEST)
        listing: list[_Member] = []
        if BLOBS in names:
            st = os.lstat(path / BLOBS)
            if not stat.S_ISDIR(st.st_mode):
                raise _refused(self.origin, BLOBS, f"is {_stat_kind(st.st_mode)}, not a folder")
            for name in sorted(os.listdir(path / BLOBS)):
                rel = f"{BLOBS}/{name}"
                mode = os.lstat(path / rel).st_mode
                _check_name(self.origin, rel, None if stat.S_ISREG(mode) else _stat_kind(mode))
                listing.append(_Member(rel, self._regular(rel).st_size))
        self.listing = listing
        self.size = self._regular(MANIFEST).st_size + sum(m.size for m in listing)

    def _regular(self, rel: str) -> os.stat_result:
        st = os.lstat(self.path / rel)
        if not stat.S_ISREG(st.st_mode):
            raise _refused(self.origin, rel, f"is {_stat_kind(st.st_mode)}")
        return st

    @contextlib.contextmanager
    def _open(self, rel: str) -> Iterator[int]:
        try:
            fd = os.open(self.path / rel, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refused(self.origin, rel, "is a symbolic link") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _refused(self.origin, rel, "is not a regular file")
            yield fd
        finally:
            os.close(fd)

    def manifest(self) -> str:
        with self._open(MANIFEST) as fd:
            size = os.fstat(fd).st_size
            return _manifest_of(self.origin, size, io.FileIO(fd, closefd=False).read)

    def members(self) -> Iterator[tuple[_Member, _Data]]:
        assert self.listing is not None
        for member in self.listing:
            with self._open(member.name) as fd:
                if os.fstat(fd).st_size != member.size:
                    raise BundleError(f"{self.origin}: {member.name} changed while the bundle was read", hint="import again")
                yield member, _Data(_fd_reader(fd), fd, 0)


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


def open_bundle(bundle: str | os.PathLike[str] | IO[bytes]) -> _Source:
    """The bundle at a path (a tar, a compressed tar, a folder), or a tar on a binary stream."""
    if not isinstance(bundle, (str, os.PathLike)):
        return _TarStream(bundle, "stdin")
    path = Path(bundle)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no bundle {str(path)!r}", hint="make one with `zoofind export --lock FILE OUT.tar`") from None
    if stat.S_ISDIR(st.st_mode):
        return _Folder(path)
    with path.open("rb") as fh:
        magic = fh.read(6)
    if magic.startswith(_COMPRESSED):
        return _TarStream(path.open("rb"), str(path), closing=True, size=st.st_size)
    return _TarFile(path)


# -- import -----------------------------------------------------------------------------------
@dataclass
class _Slot:
    """One locked file of one model: where its bytes go and whether they are there."""

    file: LockedFile
    final: Path | None  # None for TF Hub until the model's temporary folder exists
    lock: Path | None
    status: str = "needed"  # needed | present | verified | placed | replaced | failed


@dataclass
class _Model:
    locked: LockedModel
    path: Path
    root: Path
    slots: list[_Slot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: BaseException | None = None
    tmp: Path | None = None  # TF Hub: the folder the module is filled in
    done: bool = False
    repaired: set[str] = field(default_factory=set)


def import_bundle(
    bundle: str | os.PathLike[str] | IO[bytes], *, ctx: Context | None = None, verify_existing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Place a bundle's files into this machine's caches; see the module's docstring.

    ``verify_existing``: re-hash the files already in place (default: their size is checked)
    and replace any that differ. A model that fails (a damaged member) is reported in its
    result and the others go on; a hostile bundle (a member that is a link, a device, a path
    outside, one not in the manifest) fails the whole import with ``BundleError``.
    """
    ctx = ctx or Context.from_env(offline=True)
    source = open_bundle(bundle)
    pump = _Pump()
    try:
        lock = read_manifest(source.manifest(), f"{source.origin}: {MANIFEST}")
        _check_lock(lock, f"{source.origin}: {MANIFEST}", error=BundleError)
        wanted = {f.sha256: f.size for m in lock.models for f in m.files}
        if source.listing is not None:
            _check_listing(source.origin, source.listing, wanted)
        growth = _Growth(source, max_extract(ctx.environ))
        growth.check(sum(f.size for m in lock.models for f in m.files))
        models = [_plan_model(m, ctx.environ) for m in lock.models]
        for state in models:
            _check_present(state, pump, verify_existing, progress)
        run = _Import(source, models, pump, progress, wanted, growth)
        try:
            run.stream()
        finally:
            for state in models:
                if state.tmp is not None and not state.done:
                    shutil.rmtree(state.tmp, ignore_errors=True)
    finally:
        pump.close()
        source.close()
    results = tuple(_result(state) for state in models)
    return ImportReport(source.name, source.layout, results,
                        placed_bytes=run.placed_bytes, present=sum(1 for s in models for sl in s.slots if sl.status in ("present", "verified")))


class _Growth:
    """What an import writes against the bundle's own bytes (``caches.archive.bound``).

    A compressed bundle may inflate like any archive: it is bound as one (``ZOOFIND_MAX_EXTRACT``
    sets the bound). A plain tar or folder writes what it holds, more only where its manifest
    lists one member for several files: it gets the default bound against that, which
    ``ZOOFIND_MAX_EXTRACT`` may raise but not lower (the bytes are in the bundle already).
    A bundle of known size is checked whole before anything is written; one on stdin as it is
    read, against what has been read so far.
    """

    def __init__(self, source: _Source, limit: int | None) -> None:
        self.source, self.limit, self.written = source, limit, 0

    def _most(self, size: int) -> int:
        if self.source.compressed:
            return bound(size, self.limit)
        return max(bound(size), self.limit or 0)

    def _refuse(self, size: int, expands: int | None, read: str, done: str) -> BundleError:
        message, hint = too_large(self.source.origin, size, self.limit, expands, most=self._most(size), read=read,
                                  kind="bundle", done=done)
        return BundleError(message, hint=hint)

    def check(self, total: int) -> None:
        """Before anything is written: ``total`` bytes, the manifest's files, against a bundle of known size."""
        size = self.source.size
        if size is not None and total > self._most(size):
            raise self._refuse(size, total, "", "nothing was written")

    def spend(self, n: int) -> None:
        """``n`` more bytes are about to be written."""
        self.written += n
        if self.source.size is None and self.written > self._most(read := self.source.consumed()):
            raise self._refuse(read, None, " read so far",
                               "nothing more is written; the model being placed was removed")

    def writer(self, write: Callable[[memoryview], None]) -> Callable[[memoryview], None]:
        def checked(chunk: memoryview) -> None:
            self.spend(len(chunk))
            write(chunk)
        return checked


def _check_listing(origin: str, listing: Sequence[_Member], wanted: Mapping[str, int]) -> None:
    """The members of a tar file or folder against the manifest, before anything is written."""
    seen: set[str] = set()
    for member in listing:
        _check_member(origin, member, wanted, seen)
    missing = [sha for sha in wanted if sha not in seen]
    if missing:
        raise BundleError(f"{origin}: the manifest lists {len(missing)} file(s) the bundle does not hold "
                          f"({', '.join(_member(s) for s in missing[:3])}{', ...' if len(missing) > 3 else ''})",
                          hint="the bundle is incomplete; make it again with `zoofind export`")


def _check_member(origin: str, member: _Member, wanted: Mapping[str, int], seen: set[str]) -> None:
    if member.name == MANIFEST:
        raise _refused(origin, member.name, "comes twice")
    sha = member.sha256
    if sha not in wanted:
        raise _refused(origin, member.name, "is not in the manifest")
    if sha in seen:
        raise _refused(origin, member.name, "comes twice")
    if member.size != wanted[sha]:
        raise _refused(origin, member.name, f"holds {member.size} bytes, the manifest says {wanted[sha]}")
    seen.add(sha)


def _plan_model(m: LockedModel, env: Mapping[str, str]) -> _Model:
    from .paths import inside_home

    root = inside_home(_roots(m.source, env, shared_too=False)[0], env)
    state = _Model(m, _model_path(m, root), root)
    if m.source == "hf":
        repo = _repo(m, root)
        for f in m.files:
            assert f.blob is not None
            # Two paths with the same bytes share one blob: the second slot finds it written.
            state.slots.append(_Slot(f, repo.blob(f.blob), repo.lock(f.blob)))
    elif m.source == "torchvision":
        from .caches.torch import lock_path

        for f in m.files:
            state.slots.append(_Slot(f, root / f.path, lock_path(root / f.path)))
    else:
        from .caches import tfhub

        if not tfhub.cache_dir(env)[1]:
            state.notes.append(f"TF Hub modules are in {root}; for tensorflow_hub to find them there: export {tfhub.ENV}={root}")
        state.slots.extend(_Slot(f, None, None) for f in m.files)
    return state


def _existing(state: _Model, slot: _Slot) -> Path | None:
    """The file already in place for a slot (what the framework reads), if any, with the right size."""
    m, f = state.locked, slot.file
    if m.source == "hf":
        candidates = [state.path / f.path, slot.final]
    elif m.source == "tfhub":
        candidates = [state.path / f.path]
    else:
        candidates = [slot.final]
    for c in candidates:
        try:
            if c is not None and c.stat().st_size == f.size:
                return c
        except OSError:
            continue
    return None


def _check_present(state: _Model, pump: _Pump, verify_existing: bool, progress: Progress | None) -> None:
    """Mark the files already in place (size; with ``verify_existing`` re-hashed)."""
    m = state.locked
    if m.source == "tfhub":
        from .caches import tfhub

        if not tfhub.present(state.path):
            return  # filled in a temporary folder, renamed whole: nothing is half there
    bad: list[str] = []
    for slot in state.slots:
        there = _existing(state, slot)
        if there is None:
            bad.append(f"{slot.file.path}: missing or another size")
            continue
        if not verify_existing:
            slot.status = "present"
            continue
        label = _label(m.id, slot.file.path)
        h = Hasher(_expected(slot.file), slot.file.size)
        _emit(progress, label, "start", 0, slot.file.size)
        with _read_fd(there) as fd:
            pump.hash(fd, slot.file.size, h, _ticker(progress, label, slot.file.size))
        _emit(progress, label, "done", slot.file.size, slot.file.size)
        try:
            _check(h, slot.file, f"{m.id}: {slot.file.path} ({there})", "the bytes in place")
            slot.status = "verified"
        except IntegrityError:
            bad.append(f"{slot.file.path}: its bytes differ from the bundle's")
            state.repaired.add(slot.file.path)
    if m.source == "tfhub" and bad:
        state.error = BundleError(
            f"{m.id}: the module folder {state.path} is here already but differs from the bundle ({'; '.join(bad[:3])})",
            hint=f"remove it with `zoofind cache rm {m.id}`, then import again",
        )
        for slot in state.slots:
            slot.status = "failed"


class _Import:
    """The member loop: each member's bytes into its first target, copies or links for the
    others, and each model made visible once its last file is in place."""

    def __init__(self, source: _Source, models: list[_Model], pump: _Pump, progress: Progress | None,
                 wanted: Mapping[str, int], growth: _Growth) -> None:
        self.source, self.models, self.pump, self.progress, self.wanted = source, models, pump, progress, wanted
        self.growth = growth
        self.placed_bytes = 0
        self.by_sha: dict[str, list[tuple[_Model, _Slot]]] = {}
        for state in models:
            for slot in state.slots:
                self.by_sha.setdefault(slot.file.sha256, []).append((state, slot))

    def stream(self) -> None:
        for state in self.models:
            self._finish_if_complete(state)
        seen: set[str] = set()
        for member, data in self.source.members():
            if self.source.listing is None:
                _check_member(self.source.origin, member, self.wanted, seen)
            self._member(member, data)
        for state in self.models:
            if not state.done and state.error is None:
                missing = [s.file for s in state.slots if s.status == "needed"]
                state.error = BundleError(
                    f"{state.locked.id}: the bundle does not hold {', '.join(_member(f.sha256) for f in missing[:3])} "
                    f"({missing[0].path}): it ended first",
                    hint="the bundle is incomplete or was cut short; copy it again, or make it again with `zoofind export`")
                for slot in state.slots:
                    if slot.status == "needed":
                        slot.status = "failed"

    def _member(self, member: _Member, data: _Data) -> None:
        sha = member.sha256
        needers = [(st, sl) for st, sl in self.by_sha.get(sha, ()) if sl.status == "needed" and st.error is None]
        if not needers:
            if self.source.listing is None:
                self.pump.run(data.read, member.size, None, None, lambda n: None)  # a stream must be read past it
            return
        first_state, first = needers[0]
        label = _label(first_state.locked.id, first.file.path)
        placed: Path | None = None
        try:
            placed = self._write(first_state, first, member, data, label)
        except IntegrityError as exc:
            for st, sl in needers:
                sl.status = "failed"
                st.error = st.error or exc
            return
        for st, sl in needers:
            if sl is not first:
                self._copy(st, sl, placed)
            self._placed(st, sl)
        for st in {id(st): st for st, _ in needers}.values():
            self._finish_if_complete(st)

    def _placed(self, state: _Model, slot: _Slot) -> None:
        slot.status = "replaced" if slot.file.path in state.repaired else "placed"

    def _final(self, state: _Model, slot: _Slot) -> Path:
        if slot.final is None:  # TF Hub: a file of the module's temporary folder
            if state.tmp is None:
                # The name cache prune recognises, as tfhub.install's: <sha1>.<32 hex>.tmp
                state.tmp = state.path.with_name(f"{state.path.name}.{os.urandom(16).hex()}.tmp")
                state.tmp.mkdir(parents=True)
            slot.final = state.tmp / slot.file.path
        return slot.final

    @contextlib.contextmanager
    def _locked(self, slot: _Slot, label: str) -> Iterator[None]:
        if slot.lock is None:
            yield
            return
        from .fetch.locks import lock_for, try_acquire

        lock = lock_for(slot.lock)
        if not try_acquire(lock):
            _emit(self.progress, label, "wait", 0, slot.file.size)
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def _write(self, state: _Model, slot: _Slot, member: _Member, data: _Data, label: str) -> Path:
        final = self._final(state, slot)
        f = slot.file
        if state.locked.source == "hf" and f.path not in state.repaired:
            # huggingface_hub's scan warns about a repo folder without snapshots/ (a kill
            # before the first link); the commit's own folder waits for the links.
            (_repo(state.locked, state.root).root / "snapshots").mkdir(parents=True, exist_ok=True)
        with self._locked(slot, label):
            if f.path not in state.repaired and _same_size(final, f.size):
                # Another process (a pull, an import) placed it while this one waited.
                if self.source.listing is None:
                    self.pump.run(data.read, member.size, None, None, lambda n: None)
                return final
            _emit(self.progress, label, "start", 0, f.size)
            h = Hasher(_expected(f), f.size)
            try:
                with _staged(final) as fd:
                    tick = _ticker(self.progress, label, f.size)
                    if data.fd is not None:
                        self.growth.spend(member.size)
                        n = self.pump.copy(data.fd, data.at, fd, 0, member.size, h, tick)
                    else:
                        n = self.pump.run(data.read, member.size, h, self.growth.writer(_fd_writer(fd)), tick)
                    if n != member.size:
                        raise BundleError(f"{self.source.origin}: the bundle ends inside {member.name} (truncated)",
                                          hint="copy the bundle again")
                    _check(h, f, f"{state.locked.id}: {f.path} (bundle member {member.name})", "the bundle's bytes")
            except BaseException:
                _emit(self.progress, label, "failed", 0, f.size)
                raise
            _emit(self.progress, label, "done", n, f.size)
            self.placed_bytes += n
        return final

    def _copy(self, state: _Model, slot: _Slot, src: Path) -> None:
        """Another target of the same bytes: a copy of the verified file (in the kernel where it can)."""
        final = self._final(state, slot)
        if final == src:
            return
        self.growth.spend(slot.file.size)
        with self._locked(slot, _label(state.locked.id, slot.file.path)), _staged(final) as fd, _read_fd(src) as s:
            self.pump.copy(s, 0, fd, 0, slot.file.size, None, lambda n: None)

    def _finish_if_complete(self, state: _Model) -> None:
        if state.done or state.error is not None or any(s.status == "needed" for s in state.slots):
            return
        try:
            _make_visible(state)
        except (OSError, ZoofindError) as exc:
            state.error = exc
            return
        state.done = True


def _same_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _make_visible(state: _Model) -> None:
    """The last step of a model: Hub snapshot links then its ref, a TF Hub folder renamed into place."""
    m = state.locked
    if m.source == "hf":
        repo = _repo(m, state.root)
        assert m.commit is not None
        for slot in state.slots:
            f = slot.file
            assert f.blob is not None
            if slot.status in ("placed", "replaced") or not repo.present(m.commit, f.path, f.size):
                repo.link(m.commit, f.path, f.blob)
        if m.revision and m.revision != m.commit:
            ref = repo.root / "refs" / m.revision
            try:
                current: str | None = ref.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                current = None
            if current is None:
                repo.write_ref(m.revision, m.commit)
            elif current != m.commit:
                # Someone here pulled a newer revision: moving it back would change what every
                # other script on this machine loads. The locked commit stays loadable by its sha.
                state.notes.append(f"{m.id}: refs/{m.revision} here points at {current[:12]}, not the bundle's {m.commit[:12]}; "
                                   f"left as it is (load the bundle's with revision=\"{m.commit}\")")
    elif m.source == "tfhub" and state.tmp is not None:
        from .caches import tfhub
        from .fetch.locks import lock_for

        lock = lock_for(tfhub.lock_path(state.path))
        lock.acquire()
        try:
            # The descriptor as pull writes it: the locked archive's sha256 and size, for a lock written here later.
            if not tfhub.place(state.tmp, state.path, _ref(m), m.archive):
                shutil.rmtree(state.tmp, ignore_errors=True)  # another process installed it meanwhile
                state.notes.append(f"{m.id}: installed meanwhile by another process; kept that copy")
            state.tmp = None
        finally:
            lock.release()


def _result(state: _Model) -> BundledModel:
    m = state.locked
    files = []
    for slot in state.slots:
        # Where the framework reads it: the snapshot path, the module's file, the checkpoint.
        where = slot.final if m.source == "torchvision" else state.path / slot.file.path
        status = slot.status if slot.status != "needed" else "failed"
        files.append(BundledFile(slot.file.path, slot.file.size, slot.file.sha256, _member(slot.file.sha256), status,
                                 str(where) if status != "failed" else None))
    base = BundledModel(m.id, str(state.path), m.commit, tuple(files), tuple(state.notes))
    if state.error is None:
        return base
    d = describe(state.error)
    from dataclasses import replace

    return replace(base, error=d.message, hint=d.hint, exit_code=d.exit_code)
