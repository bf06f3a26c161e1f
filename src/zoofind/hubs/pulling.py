"""What every hub's ``pull`` and ``lock`` abilities share (a plugin hub's too): the file choice
(``--include``/``--exclude``, the safetensors rule), the progress label of a file, the note on
skipped copies, and the checks of cached files against a lock.
"""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog.frameworks import weights_format_of
from ..core.errors import OfflineError
from ..core.units import human_bytes

# The lock's records and the hashing code are imported where a lock is checked or written:
# a pull of a cached model needs neither (pull --offline start-up).
if TYPE_CHECKING:
    from ..core.context import Context
    from ..fetch.integrity import IntegrityError
    from ..models.files import FileEntry
    from ..models.lock import LockedArchive, LockedFile, LockedModel
    from ..models.pull import PlannedFile, PullOptions, PullResult
    from ..models.transfer import Fetched

PICKLE_FLAG = "pickle: loading can run code; prefer safetensors"


def choose(files: Sequence[FileEntry], opts: PullOptions) -> list[tuple[FileEntry, str | None]]:
    """Each file with the reason it is skipped (None: fetched).

    By default a repo that holds its weights as safetensors gets only those, plus every
    file that is not weights (configs, tokenizer, README); the same weights as pickle,
    TF, Flax, ONNX or GGUF are skipped. ``--include`` globs pick files (and override the
    weights rule for what they match), ``--exclude`` globs drop them, ``--all-files`` all.
    """
    formats = [weights_format_of(f.path) for f in files]  # once a file: a repo may list 200,000
    has_safetensors = "safetensors" in formats
    out: list[tuple[FileEntry, str | None]] = []
    for f, fmt in zip(files, formats, strict=True):
        included = bool(opts.include) and any(fnmatch.fnmatch(f.path, g) for g in opts.include)
        if opts.include and not included:
            out.append((f, "not matched by --include"))
        elif opts.exclude and any(fnmatch.fnmatch(f.path, g) for g in opts.exclude):
            out.append((f, "matched by --exclude"))
        elif (not (opts.all_files or included) and has_safetensors
              and fmt not in (None, "safetensors")):
            out.append((f, f"{fmt} copy of weights also shipped as safetensors"))
        else:
            out.append((f, None))
    return out


#: The extensions of pickle weights: a look at the extension first (a repo may list 200,000 files).
_PICKLE_EXTENSIONS = frozenset(("bin", "pt", "pth", "ckpt"))


def is_pickle(path: str) -> bool:
    return path.rpartition(".")[2].lower() in _PICKLE_EXTENSIONS and weights_format_of(path) == "pickle"


def file_label(ref: str, path: str, *, named: bool = False) -> str:
    """How progress and the fetch engine name one file of a model (unique within the model):
    its path, prefixed with the ref's last part when the path has folders or the hub asks (``named``)."""
    return f"{ref.rsplit('/', 1)[-1]}/{path}" if named or "/" in path else path


def skipped_note(model_id: str, chosen: Sequence[tuple[FileEntry, str | None]]) -> tuple[str, ...]:
    """The note on weights skipped because the same weights come as safetensors (none: ())."""
    skipped = [f for f, skip in chosen if skip and "safetensors" in skip]
    if not skipped:
        return ()
    size = sum(f.size or 0 for f in skipped)
    return (f"{model_id}: skipped {len(skipped)} file(s), {human_bytes(size)}, holding the same weights in other "
            "formats; --all-files fetches them (or --include GLOB)",)


def offline_hint(asked: str) -> str:
    return f"on a machine with network run `zoofind pull {asked}` (with the same cache folders), or drop --offline"


def differs(m: LockedModel, f: LockedFile, path: Path) -> None:
    """Hash a cached file against the lock; a difference fails the model, naming the file."""
    # lazy: the hashing code only against a lock: off pull --offline (torchvision) and cite start-up
    from ..fetch.integrity import IntegrityError, hash_file, verify
    from ..models.transfer import Expected

    expected = Expected(f.size, f.sha256)
    try:
        verify(hash_file(path, expected), expected, f"{m.id}: {f.path}")
    except IntegrityError as exc:
        raise IntegrityError(
            f"{m.id}: the cached {f.path} ({path}) is not the file the lock records: {exc.message}",
            hint=f"remove it (`zoofind cache rm {m.id}`) and run the pull again to fetch the locked bytes",
        ) from None


def locked_missing(m: LockedModel, ctx: Context, where: str) -> None:
    """A locked file not in the caches: offline that fails the model; online it is fetched."""
    if ctx.offline:
        raise OfflineError(f"{m.id} is not in {where}",
                           hint="on a machine with network run `zoofind pull --lock FILE` with the same cache folders, "
                                "or carry the files over with `zoofind export`/`zoofind import`")


def not_locked(m: LockedModel, what: str) -> IntegrityError:
    from ..fetch.integrity import IntegrityError  # lazy: only against a lock: off pull --offline start-up

    return IntegrityError(f"{m.id}: {what}", hint=f"remove it (`zoofind cache rm {m.id}`) and run the pull again")


def sha256_of(path: Path, known: str | None, status: str) -> str:
    """A file's sha256 for a lock: the one this run computed from the bytes it received, else
    hashed now (a cached blob's name is only what the hub called it)."""
    # lazy: the hashing code only for a lock: off pull --offline (torchvision) and cite start-up
    from ..fetch.integrity import hash_file
    from ..models.transfer import Expected

    return known if status == "downloaded" and known else hash_file(path, Expected()).sha256.hexdigest()


def placed_sha256(f: PlannedFile, outcome: Fetched | None, known: str | None) -> str:
    """A placed file's sha256 for a manifest: what this run computed, what the plan knew (a lock's,
    a description's), what the manifest already said, else hashed now."""
    sha = outcome.sha256 if outcome and outcome.sha256 else f.entry.sha256 or known
    assert f.target is not None
    return sha or sha256_of(f.target, None, "cached")


def pin_folder(result: PullResult, archive: LockedArchive | None = None) -> LockedModel:
    """A model that is a folder (an extracted module, a Kaggle version): every file in it, hashed
    from disk, and the archive it came from where the hub knows it."""
    from ..models.lock import LockedFile, LockedModel  # lazy: only for a lock: off pull --offline start-up

    assert result.path is not None
    root = Path(result.path)
    files = tuple(LockedFile(p.relative_to(root).as_posix(), p.stat().st_size, sha256_of(p, None, "cached"))
                  for p in sorted(root.rglob("*")) if p.is_file())
    return LockedModel(result.id, None, None, files, archive, result.framework)


def check_folder(locked: LockedModel, folder: Path, marker: Path) -> None:
    """Every locked file of an extracted folder is the locked one; else ``marker`` (what makes the
    folder count for its framework) goes first, then the folder (a link into the shared tier:
    only the link), and ``IntegrityError`` says which file differed."""
    try:
        for f in locked.files:
            if not (folder / f.path).is_file():
                raise not_locked(locked, f"the archive holds no {f.path}")
            differs(locked, f, folder / f.path)
    except Exception:
        marker.unlink(missing_ok=True)
        if folder.is_symlink():
            folder.unlink()
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise
