"""What the framework caches hold: `zoofind cache ls` and `zoofind cache path`.

One view over the Hugging Face hub cache, torch.hub's checkpoints, the TF Hub module
folder and kagglehub's cache, whoever filled them (`hf download`, torch.hub, kagglehub or
zoofind). Each model is one ``CachedModel``; sizes count each file once (blobs shared by
several revisions of a Hub repo too), as ``huggingface_hub.scan_cache_dir()`` counts them.

Last use is the newest access or modification time the file system records for a model's
files: a pull or download sets the modification time, a framework loading the model the
access time (most Linux mounts use ``relatime``, which updates it at most once a day, or
``noatime``, which never does: then it is the download time).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .context import Context
from .errors import NotFoundError, UsageError
from .fetch.integrity import Expected, hash_file


@dataclass(frozen=True)
class CachedModel:
    id: str
    source: str
    #: Hub commits with their refs ("c5a9c64a... (main)"), else empty
    revisions: tuple[str, ...]
    size: int
    last_used: float | None
    #: what the framework loads: a snapshot folder (the newest, or the one `main` points to), a file, a module folder
    path: str
    #: the cache the model sits in (its root folder)
    cache: str


def cached_models(ctx: Context, *, source: str | None = None) -> list[CachedModel]:
    out: list[CachedModel] = []
    if source in (None, "hf"):
        out += _hf(ctx)
    if source in (None, "torchvision"):
        out += _torch(ctx)
    if source in (None, "tfhub"):
        out += _tfhub(ctx)
    if source in (None, "kaggle"):
        out += _kaggle(ctx)
    if source not in (None, "hf", "torchvision", "tfhub", "kaggle"):
        raise UsageError(f"no cache for source {source!r}", hint="one of: hf, torchvision, tfhub, kaggle")
    return out


def _hf(ctx: Context) -> list[CachedModel]:
    from .caches.hf import hub_cache, scan

    cache = hub_cache(ctx.environ)
    out = []
    for repo in scan(cache):
        main = next((c for c, refs in repo.revisions if "main" in refs), None)
        shown = main or max(repo.revisions, key=lambda r: _mtime(repo.folder / "snapshots" / r[0]))[0]
        revisions = tuple(f"{c}" + (f" ({', '.join(refs)})" if refs else "") for c, refs in repo.revisions)
        out.append(CachedModel(f"hf:{repo.repo}", "hf", revisions, repo.size, repo.last_used,
                               str(repo.folder / "snapshots" / shown), str(cache)))
    return out


def _torch(ctx: Context) -> list[CachedModel]:
    from .caches.torch import checkpoints, scan

    names = _torchvision_names()
    out = []
    for f in scan(ctx.environ):
        st = f.stat()
        rid = names.get(f.name) or f"file:{f}"
        out.append(CachedModel(rid, "torchvision", (), st.st_size, max(st.st_atime, st.st_mtime), str(f), str(checkpoints(ctx.environ))))
    return out


def _torchvision_names() -> dict[str, str]:
    """Checkpoint file name -> the torchvision id whose weights it holds (from the catalog)."""
    from . import catalog as catalog_mod

    out: dict[str, str] = {}
    for rec in catalog_mod.load().all_records():
        url = rec.extra.get("url") if rec.source == "torchvision" else None
        if isinstance(url, str):
            out.setdefault(url.rsplit("/", 1)[-1], rec.id)
    return out


def _tfhub(ctx: Context) -> list[CachedModel]:
    from .caches import tfhub

    root, _ = tfhub.cache_dir(ctx.environ)
    out = []
    for handle, folder in tfhub.scan(root):
        size, used = _tree(folder)
        out.append(CachedModel(f"tfhub:{handle}" if handle else f"file:{folder}", "tfhub", (), size, used, str(folder), str(root)))
    return out


def _kaggle(ctx: Context) -> list[CachedModel]:
    from .caches import kagglehub

    out = []
    for handle, folder in kagglehub.scan(ctx.environ):
        size, used = _tree(folder)
        out.append(CachedModel(f"kaggle:{handle}", "kaggle", (), size, used, str(folder), str(kagglehub.cache_root(ctx.environ))))
    return out


def _tree(folder: Path) -> tuple[int, float | None]:
    """Bytes of the files under ``folder``, and the newest time any of it was used.

    Folders count for the time: files extracted from an archive keep the archive's old
    modification times, while the folder's own is when it was extracted.
    """
    size, used = 0, None
    for p in (folder, *folder.rglob("*")):
        try:
            st = p.stat()
        except OSError:
            continue
        if p.is_file():
            size += st.st_size
            used = max(used or 0.0, st.st_atime, st.st_mtime)
        else:
            used = max(used or 0.0, st.st_mtime)
    return size, used


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def path_of(raw_id: str, ctx: Context) -> str:
    """The path a framework loads for a cached model; NotFoundError when it is not cached."""
    from .pull_runner import split_revision

    text, rev = split_revision(raw_id)
    from .ids import parse_id

    pid = parse_id(text)
    if pid.source == "hf" and rev:
        from .caches.hf import RepoCache, hub_cache

        repo = RepoCache(hub_cache(ctx.environ), pid.ref)
        commit = repo.commit_of(rev)
        if commit is None:
            raise NotFoundError(f"{pid}@{rev} is not in the Hugging Face cache", hint=f"zoofind pull {raw_id}")
        return str(repo.snapshot(commit))
    wanted = str(pid)
    for m in cached_models(ctx, source=pid.source if pid.source in ("hf", "torchvision", "tfhub", "kaggle") else None):
        if m.id == wanted or (pid.source == "torchvision" and m.id.split(".", 1)[0] == wanted):
            return m.path
    raise NotFoundError(f"{wanted} is not in any cache zoofind knows", hint=f"zoofind pull {raw_id}")


# -- filters ------------------------------------------------------------------------------
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?\s*", re.I)
_AGE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.I)


def parse_size(text: str) -> int:
    """``50M``, ``1G`` (decimal), ``50MiB``, ``1GiB`` (binary), ``1500`` (bytes) -> bytes."""
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise UsageError(f"{text!r} is not a size", hint="e.g. 500M, 1G (decimal) or 512MiB, 1GiB (binary)")
    number, unit, binary = float(m[1]), m[2].lower(), bool(m[3])
    power = " kmgtp".index(unit) if unit else 0
    return int(number * (1024 if binary else 1000) ** power)


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` -> seconds."""
    m = _AGE_RE.fullmatch(text)
    if not m:
        raise UsageError(f"{text!r} is not a duration", hint="e.g. 30d, 12h, 2w")
    return float(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m[2].lower()]


SORTS = ("size", "used", "id")


def select(models: Iterable[CachedModel], *, sort: str = "size", larger_than: int | None = None,
           unused_for: float | None = None, now: float | None = None) -> list[CachedModel]:
    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r} is not one of {', '.join(SORTS)}")
    now = time.time() if now is None else now
    out = [m for m in models if (larger_than is None or m.size > larger_than)
           and (unused_for is None or (m.last_used or 0) <= now - unused_for)]
    key = {"size": lambda m: (-m.size, m.id), "used": lambda m: (m.last_used or 0, m.id), "id": lambda m: m.id}[sort]
    return sorted(out, key=key)


def total(models: Iterable[CachedModel]) -> int:
    return sum(m.size for m in models)




# -- verify -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    path: str
    problem: str  # "missing" | "sha256 mismatch" | "git blob id mismatch" | "hash prefix mismatch" | "empty"


@dataclass(frozen=True)
class Verified:
    id: str
    path: str
    files: int
    bytes: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(ctx: Context, ids: Iterable[str] = ()) -> list[Verified]:
    """Re-hash cached files against what names them: a Hub blob's name is its sha256 (LFS)
    or git blob id, a torchvision checkpoint's name carries its sha256 prefix; TF Hub and
    kagglehub folders are checked to hold files (they record no hashes)."""
    models = cached_models(ctx)
    wanted = list(ids)
    if wanted:
        chosen = []
        for raw in wanted:
            from .ids import parse_id

            rid = str(parse_id(raw))
            hits = [m for m in models if m.id == rid or m.id.split(".", 1)[0] == rid]
            if not hits:
                raise NotFoundError(f"{rid} is not in any cache zoofind knows", hint=f"zoofind pull {raw}")
            chosen += hits
        models = chosen
    return [_verify_one(m) for m in models]


def _verify_one(m: CachedModel) -> Verified:
    problems: list[Problem] = []
    files = size = 0
    if m.source == "hf":
        root = Path(m.path).parent  # snapshots/
        for snap in sorted(root.iterdir()):
            for f in sorted(snap.rglob("*")):
                if f.is_dir():
                    continue
                if not f.exists():
                    problems.append(Problem(str(f), "missing"))
                    continue
                files += 1
                real = f.resolve()
                size += real.stat().st_size
                problem = _check_named(real)
                if problem:
                    problems.append(Problem(str(f), problem))
    elif m.source == "torchvision":
        from .sources.torchvision.source import hash_prefix

        f = Path(m.path)
        files, size = 1, f.stat().st_size
        prefix = hash_prefix(f.name)
        if prefix and not hash_file(f, Expected()).sha256.hexdigest().startswith(prefix):
            problems.append(Problem(str(f), "hash prefix mismatch"))
    else:
        size, _ = _tree(Path(m.path))
        files = sum(1 for p in Path(m.path).rglob("*") if p.is_file())
        if not files:
            problems.append(Problem(m.path, "empty"))
    return Verified(m.id, m.path, files, size, tuple(problems))


def _check_named(blob: Path) -> str | None:
    """A Hub blob named by a sha256 or a git blob id holds exactly those bytes; other names are not checked."""
    name = blob.name
    if re.fullmatch(r"[0-9a-f]{64}", name):
        return None if hash_file(blob, Expected()).sha256.hexdigest() == name else "sha256 mismatch"
    if re.fullmatch(r"[0-9a-f]{40}", name):
        h = hash_file(blob, Expected(git_sha1=name))
        return None if h.git is not None and h.git.hexdigest() == name else "git blob id mismatch"
    return None


# -- rm -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Removal:
    """What removing one model (or one Hub revision) deletes, and the bytes it frees."""

    id: str
    revision: str | None
    paths: tuple[str, ...]
    bytes: int


def plan_removal(ctx: Context, ids: Iterable[str]) -> list[Removal]:
    """Each id (``ID`` or ``hf:...@REV``) as a ``Removal``; NotFoundError for one not cached.

    A Hub revision takes its snapshot, the refs naming it, and only the blobs no other
    cached revision of the repo links to.
    """
    from .ids import parse_id
    from .pull_runner import split_revision

    models = cached_models(ctx)
    out = []
    for raw in ids:
        text, rev = split_revision(raw)
        rid = str(parse_id(text))
        hits = [m for m in models if m.id == rid or (m.source == "torchvision" and m.id.split(".", 1)[0] == rid)]
        if not hits:
            raise NotFoundError(f"{rid} is not in any cache zoofind knows", hint="`zoofind cache ls` lists what is")
        for m in hits:
            out.append(_hf_removal(m, rev) if m.source == "hf" else _whole(m, rev))
    return out


def _whole(m: CachedModel, rev: str | None) -> Removal:
    if rev:
        raise UsageError(f"{m.id} has no revisions to remove one of", hint=f"zoofind cache rm {m.id}")
    p = Path(m.path)
    extra: list[str] = []
    if m.source == "tfhub":
        extra.append(str(p.with_name(p.name + ".descriptor.txt")))
    elif m.source == "kaggle":
        extra.append(str(p.with_name(p.name + ".complete")))
    size = p.stat().st_size if p.is_file() else _tree(p)[0]
    return Removal(m.id, None, (str(p), *extra), size)


def _hf_removal(m: CachedModel, rev: str | None) -> Removal:
    repo_dir = Path(m.path).parent.parent
    if rev is None:
        from .caches.hf import folder_name

        locks = Path(m.cache) / ".locks" / folder_name(m.id.split(":", 1)[1])
        return Removal(m.id, None, (str(repo_dir), str(locks)), m.size)
    from .caches.hf import RepoCache

    repo = RepoCache(Path(m.cache), m.id.split(":", 1)[1])
    commit = repo.commit_of(rev)
    if commit is None:
        raise NotFoundError(f"{m.id}@{rev} is not in the Hugging Face cache", hint="`zoofind cache ls` lists the cached revisions")

    def blobs_of(snapshot: Path) -> set[Path]:
        return {f.resolve() for f in snapshot.rglob("*") if f.is_symlink() or f.is_file()}

    mine = blobs_of(repo.snapshot(commit))
    others = set().union(*(blobs_of(s) for s in (repo_dir / "snapshots").iterdir() if s.name != commit))
    freed = [b for b in mine - others if b.exists() and b.parent == repo_dir / "blobs"]
    refs = [str(r) for r in (repo_dir / "refs").rglob("*") if r.is_file() and r.read_text(errors="replace").strip() == commit]
    size = sum(b.stat().st_size for b in freed)
    if not symlinks_used(repo.snapshot(commit)):
        size = _tree(repo.snapshot(commit))[0]
    return Removal(m.id, commit, (str(repo.snapshot(commit)), *refs, *map(str, freed)), size)


def symlinks_used(snapshot: Path) -> bool:
    return any(f.is_symlink() for f in snapshot.rglob("*"))


def remove(removals: Iterable[Removal]) -> int:
    """Delete what each removal names (links before blobs, refs last); returns the bytes freed."""
    import shutil

    freed = 0
    for r in removals:
        for p in map(Path, r.paths):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        freed += r.bytes
    return freed


# -- prune --------------------------------------------------------------------------------
STALE_PARTIAL = 86400.0


def plan_prune(ctx: Context, *, max_size: int | None = None, unused_for: float | None = None,
               now: float | None = None) -> list[Removal]:
    """Least recently used models first: those unused for ``unused_for`` seconds, then more
    until the caches fit in ``max_size`` bytes; plus partial downloads and temporary folders
    older than a day (a pull that was stopped and never resumed)."""
    if max_size is None and unused_for is None:
        raise UsageError("prune needs a budget", hint="give --max-size (e.g. 50G) and/or --unused-for (e.g. 30d)")
    now = time.time() if now is None else now
    models = sorted(cached_models(ctx), key=lambda m: (m.last_used or 0, m.id))
    size = total(models)
    evict: list[CachedModel] = []
    for m in models:
        old = unused_for is not None and (m.last_used or 0) <= now - unused_for
        over = max_size is not None and size > max_size
        if old or over:
            evict.append(m)
            size -= m.size
    out = [_hf_removal(m, None) if m.source == "hf" else _whole(m, None) for m in evict]
    return out + _stale_partials(ctx, now)


def _stale_partials(ctx: Context, now: float) -> list[Removal]:
    from .atomic import TMP_PREFIX
    from .caches import tfhub
    from .caches.hf import hub_cache
    from .caches.torch import checkpoints
    from .fetch.partial import PREFIX

    folders = [checkpoints(ctx.environ), tfhub.cache_dir(ctx.environ)[0]]
    folders += list(hub_cache(ctx.environ).glob("models--*/blobs"))
    out = []
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for p in entries:
            stale = p.name.startswith((PREFIX, TMP_PREFIX)) or (p.is_dir() and re.fullmatch(r"[0-9a-f]{40}\.[0-9a-f]{32}\.tmp", p.name))
            try:
                age = now - p.stat().st_mtime
            except OSError:
                continue
            if stale and age > STALE_PARTIAL and not p.name.endswith(".lock"):
                size = p.stat().st_size if p.is_file() else _tree(p)[0]
                out.append(Removal(f"partial:{p.name}", None, (str(p),), size))
    return out
