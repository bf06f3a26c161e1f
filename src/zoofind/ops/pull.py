"""`zoofind pull`: models into each framework's own cache, verified, resumable.

pull = sources (which files a model needs, at which exact revision) + ``fetch`` (how the
bytes arrive: ranges, resume, locks, verification) + ``caches`` (where each framework
looks: the Hugging Face hub cache, torch.hub's checkpoints). Each model becomes one
``PullResult``; a failure is recorded in its result and the others go on.

Offline (``--offline`` or the offline variables) nothing is asked: a model is answered
from the caches alone, or fails with what to do on a machine with network.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from ..context import Context
from ..ids import resolve_id
from ..paths import inside_home
from ..errors import EXIT_OK, NotFoundError, OfflineError, UsageError, ZoofindError, describe
from ..records import ParsedId

if TYPE_CHECKING:
    from ..fetch.engine import Download, Fetched, ProgressEvent
    from ..frameworks import Requirement
    from ..hubs.base import FileEntry, FileSet

#: Sources pull knows how to place (each maps to one module of ``zoofind.caches``).
SUPPORTED = ("hf", "torchvision", "tfhub")
PICKLE_FLAG = "pickle: loading can run code; prefer safetensors"


@dataclass(frozen=True)
class PullOptions:
    revision: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    all_files: bool = False
    dest: Path | None = None
    jobs: int = 8
    dry_run: bool = False


@dataclass(frozen=True)
class PulledFile:
    path: str
    size: int | None
    sha256: str | None = None
    #: downloaded | shared (linked from the shared tier, ZOOFIND_SHARED_CACHE) | cached (already
    #: there) | skipped | planned (dry run) | failed
    status: str = "planned"
    reason: str | None = None
    pickle: bool = False
    #: the hub's security scan of the file (Hugging Face: safe, unsafe, suspicious...), if it reports one
    scan: str | None = None
    #: Hugging Face: the file's name in the cache's blobs/ (the Hub's ETag)
    blob: str | None = None


@dataclass(frozen=True)
class PullResult:
    id: str
    revision: str | None = None
    commit: str | None = None
    #: what the framework loads: the snapshot folder, the checkpoint file
    path: str | None = None
    files: tuple[PulledFile, ...] = ()
    total_bytes: int = 0
    fetched_bytes: int = 0
    framework: str | None = None
    packages: tuple[str, ...] = ()
    requirements: tuple["Requirement", ...] = ()
    install: str | None = None
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dest: str | None = None
    dest_mode: str | None = None  # hardlink | symlink (files of the shared tier) | copy
    error: str | None = None
    hint: str | None = None
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


@dataclass(frozen=True)
class PullReport:
    results: tuple[PullResult, ...]
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every model succeeded, else the first failure's code."""
        return next((r.exit_code for r in self.results if not r.ok), EXIT_OK)


# -- ids ------------------------------------------------------------------------------
def split_revision(raw: str) -> tuple[str, str | None]:
    """``hf:owner/name@rev`` -> (``hf:owner/name``, ``rev``); a revision may hold slashes (refs/pr/1)."""
    if "://" in raw:
        return raw, None
    head, at, rev = raw.partition("@")
    return (head, rev.strip() or None) if at else (raw, None)


# -- file choice ----------------------------------------------------------------------
def choose(files: Sequence["FileEntry"], opts: PullOptions) -> list[tuple["FileEntry", str | None]]:
    """Each file with the reason it is skipped (None: fetched).

    By default a repo that holds its weights as safetensors gets only those, plus every
    file that is not weights (configs, tokenizer, README); the same weights as pickle,
    TF, Flax, ONNX or GGUF are skipped. ``--include`` globs pick files (and override the
    weights rule for what they match), ``--exclude`` globs drop them, ``--all-files`` all.
    """
    from ..frameworks import weights_format_of

    has_safetensors = any(weights_format_of(f.path) == "safetensors" for f in files)
    out: list[tuple[FileEntry, str | None]] = []
    for f in files:
        included = any(fnmatch.fnmatch(f.path, g) for g in opts.include)
        if opts.include and not included:
            out.append((f, "not matched by --include"))
        elif any(fnmatch.fnmatch(f.path, g) for g in opts.exclude):
            out.append((f, "matched by --exclude"))
        elif not (opts.all_files or included) and has_safetensors and (fmt := weights_format_of(f.path)) not in (None, "safetensors"):
            out.append((f, f"{fmt} copy of weights also shipped as safetensors"))
        else:
            out.append((f, None))
    return out


def is_pickle(path: str) -> bool:
    from ..frameworks import weights_format_of

    return weights_format_of(path) == "pickle"


# -- the plan of one model --------------------------------------------------------------
@dataclass
class _Plan:
    raw: str
    id: str = ""
    source: str = ""
    revision: str | None = None
    commit: str | None = None
    path: Path | None = None
    chosen: list[tuple["FileEntry", str | None]] = field(default_factory=list)
    targets: dict[str, Path] = field(default_factory=dict)  # file path -> where its verified bytes go
    present: set[str] = field(default_factory=set)
    downloads: list["Download"] = field(default_factory=list)
    fetched: dict[str, "Fetched | BaseException"] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: BaseException | None = None
    repo: object = None  # caches.hf.RepoCache for Hub models
    scans: dict[str, str] = field(default_factory=dict)
    #: files an offline plan linked from the shared tier (online, the engine's Fetched.via says so)
    shared: set[str] = field(default_factory=set)
    #: From a lock file: refs are written only where none exists (a lock never moves a
    #: user's `main` back), and what the model needs is read from what is on disk only.
    pinned: bool = False


def _plan(raw: str, ctx: Context, opts: PullOptions) -> _Plan:
    from ..hubs import registry

    plan = _Plan(raw)
    try:
        text, rev = split_revision(raw)
        pid = resolve_id(text, ctx)  # ids.resolve_id: the one rule every command that takes ids follows
        rev = opts.revision or rev
        plan.id, plan.source, plan.revision = str(pid), pid.source, rev
        if pid.source == "kaggle":
            from ..hubs.kaggle.pull import plan_kaggle

            plan_kaggle(plan, pid, ctx, opts)
            return plan
        if pid.source not in SUPPORTED:
            spec = registry.spec(pid.source)
            raise UsageError(f"pull cannot fetch {spec.title} models yet ({pid})",
                             hint="zoofind info shows where to get it; pull fetches hf:, torchvision:, tfhub: and kaggle: models")
        if ctx.offline:
            _plan_offline(plan, pid, ctx, opts)
        else:
            _plan_online(plan, _fileset(pid, ctx, rev), ctx, opts)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one model's failure is its result
        if isinstance(exc, KeyboardInterrupt):
            raise
        plan.error = exc
    return plan


def _fileset(pid: ParsedId, ctx: Context, revision: str | None) -> "FileSet":
    """The source's ``fileset`` where it has one; else its ``files()`` with no revision."""
    from ..hubs import registry
    from ..hubs.base import FileSet

    source = registry.get(pid.source)
    fileset = getattr(source, "fileset", None)
    if fileset is not None:
        return fileset(pid, ctx, revision=revision)
    if revision:
        raise UsageError(f"{pid.source} models have no revisions ({pid}@{revision})", hint="drop the @revision")
    return FileSet(str(pid), tuple(source.files(pid, ctx)))


def _plan_online(plan: _Plan, fs: "FileSet", ctx: Context, opts: PullOptions) -> None:
    from ..caches import safe_relpath
    from ..fetch.engine import Download
    from ..fetch.integrity import Expected

    plan.id, plan.commit, plan.revision = fs.id, fs.commit, fs.revision
    if not fs.files:
        raise NotFoundError(f"{fs.id} has no files to download", hint=f"see {fs.page}" if fs.page else None)
    for f, _ in (chosen := choose(fs.files, opts)):
        safe_relpath(f.path, what=fs.id)
    plan.chosen = chosen
    if plan.source == "hf":
        from ..caches.hf import RepoCache, hub_cache
        from ..hubs.hf.auth import find_token

        repo = RepoCache(inside_home(hub_cache(ctx.environ), ctx.environ), fs.id.split(":", 1)[1])
        plan.repo = repo
        assert fs.commit is not None
        plan.path = repo.snapshot(fs.commit)
        if not opts.dry_run:
            # huggingface_hub makes the snapshot folder before any download: a repo folder
            # without one (a pull stopped early) makes scan_cache_dir() warn.
            plan.path.mkdir(parents=True, exist_ok=True)
        token, _ = find_token(ctx.environ)
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        denied = (f"request access at {fs.page}, then set HF_TOKEN (or run `hf auth login`)" if fs.page else None)
        for f, skip in chosen:
            if skip:
                continue
            if not f.etag:
                raise ZoofindError(f"{fs.id}: the Hub gave no id for {f.path}", hint="retry later")
            plan.targets[f.path] = repo.blob(f.etag)
            if repo.present(fs.commit, f.path, f.size):
                plan.present.add(f.path)
                continue
            plan.downloads.append(Download(
                f.url, repo.blob(f.etag), repo.lock(f.etag), Expected(f.size, f.sha256, f.git_sha1), _label(fs.id, f.path), auth,
                denied_hint=denied,
            ))
    elif plan.source == "tfhub":
        from ..caches import shared, tfhub

        module_dir = _tfhub_dir(plan, ctx)
        for f, _ in chosen:
            archive = tfhub.archive_path(module_dir)
            plan.targets[f.path] = archive
            if tfhub.present(module_dir):
                plan.present.add(f.path)
                continue
            # The shared tier holds module folders, not archives: the folder is what is linked.
            expected = Expected(f.size, f.sha256)
            plan.downloads.append(Download(f.url, archive, tfhub.lock_path(module_dir), expected, _label(fs.id, f.path),
                                           done=lambda d=module_dir: tfhub.present(d),
                                           shared=lambda d=module_dir, e=expected: shared.link_module(d, fs.id.split(":", 1)[1], e, ctx.environ)))
    else:  # torchvision
        from ..caches.torch import checkpoints, lock_path

        folder = inside_home(checkpoints(ctx.environ), ctx.environ)
        for f, skip in chosen:
            target = folder / f.path
            plan.targets[f.path] = target
            plan.path = target
            if target.is_file():
                plan.present.add(f.path)
                continue
            plan.downloads.append(Download(f.url, target, lock_path(target), Expected(f.size, f.sha256, None, f.sha256_prefix), _label(fs.id, f.path)))
    if plan.source == "hf" and plan.commit and any(is_pickle(f.path) for f, skip in chosen if not skip):
        from ..hubs import registry

        try:  # advice, not a gate: a failed scan lookup never fails the pull
            plan.scans = registry.get("hf").security_scan(ParsedId("hf", fs.id.split(":", 1)[1]), ctx, plan.commit)
        except Exception:  # noqa: BLE001
            plan.notes.append(f"{plan.id}: the Hub's security scan could not be read")
    skipped = [f for f, skip in chosen if skip and "safetensors" in skip]
    if skipped:
        size = sum(f.size or 0 for f in skipped)
        from ..units import human_bytes

        plan.notes.append(f"{plan.id}: skipped {len(skipped)} file(s), {human_bytes(size)}, holding the same weights in other formats; "
                          "--all-files fetches them (or --include GLOB)")


def _tfhub_dir(plan: _Plan, ctx: Context) -> Path:
    from ..caches import tfhub

    root, own = tfhub.cache_dir(ctx.environ)
    root = inside_home(root, ctx.environ)
    plan.path = root / tfhub.module_name(plan.id.split(":", 1)[1])
    if not own:
        plan.notes.append(f"TF Hub modules are in {root}; for tensorflow_hub to find them there: export {tfhub.ENV}={root}")
    return plan.path


def _plan_offline(plan: _Plan, pid: ParsedId, ctx: Context, opts: PullOptions) -> None:
    """From the caches alone (the user's own, then the shared tier, whose files are checked
    and linked into the user's): the model is there, or the answer says how to get it there.
    The shared tier is imported and looked at only for what the user's caches lack."""
    from ..hubs.base import FileEntry

    hint = f"on a machine with network run `zoofind pull {plan.raw}` (with the same cache folders), or drop --offline"
    if pid.source == "hf":
        from ..caches.hf import RepoCache, hub_cache

        repo = RepoCache(hub_cache(ctx.environ), pid.ref)
        commit = repo.commit_of(plan.revision or "main")
        if commit is None:
            from ..caches import shared

            if (linked := shared.link_snapshot(repo, plan.revision or "main", ctx.environ)) is not None:
                commit = linked.commit
                plan.shared.update(linked.files)
                plan.notes.extend(linked.notes)
        if commit is None:
            raise OfflineError(f"{pid} ({plan.revision or 'main'}) is not in the Hugging Face cache at {repo.cache}"
                               + (" nor in the shared tier" if shared.roots(ctx.environ) else ""), hint=hint)
        plan.commit, plan.path, plan.repo = commit, repo.snapshot(commit), repo
        entries = []
        for p in sorted(plan.path.rglob("*")):
            if p.is_file():
                rel = p.relative_to(plan.path).as_posix()
                # The first hop (../../blobs/<etag>): a blob may itself link into the shared tier or huggingface_hub's store.
                blob = Path(os.path.normpath(p.parent / os.readlink(p))) if p.is_symlink() else p
                etag = blob.name if blob.parent == repo.root / "blobs" else None
                entries.append(FileEntry(rel, "", size=p.stat().st_size, etag=etag))
        plan.chosen = choose(entries, opts)
        for f, skip in plan.chosen:
            if not skip:
                plan.present.add(f.path)
                plan.targets[f.path] = plan.path / f.path
    elif pid.source == "tfhub":
        from ..caches import tfhub

        module_dir = _tfhub_dir(plan, ctx)
        from_shared = False
        if not tfhub.present(module_dir):
            from ..caches import shared
            from ..fetch.integrity import Expected

            linked = shared.link_module(module_dir, pid.ref, Expected(), ctx.environ)
            plan.notes.extend(linked.notes)
            if linked.source is None:
                raise OfflineError(f"{pid} is not in the TF Hub cache {module_dir.parent}"
                                   + (" nor in the shared tier" if shared.roots(ctx.environ) else ""), hint=hint)
            from_shared = True
        for p in sorted(module_dir.rglob("*")):
            if p.is_file():
                rel = p.relative_to(module_dir).as_posix()
                plan.chosen.append((FileEntry(rel, "", size=p.stat().st_size), None))
                plan.present.add(rel)
                plan.targets[rel] = p
                if from_shared:
                    plan.shared.add(rel)
    else:
        from ..caches.torch import checkpoints

        fs = _fileset(pid, ctx, None)  # the bundled index: no request
        plan.id = fs.id
        for f in fs.files:
            target = checkpoints(ctx.environ) / f.path
            if not target.is_file():
                from ..caches import shared
                from ..fetch.integrity import Expected

                linked = shared.link_file(target, Expected(f.size, f.sha256, None, f.sha256_prefix), ctx.environ, _label(fs.id, f.path))
                plan.notes.extend(linked.notes)
                if linked.source is None:
                    raise OfflineError(f"{fs.id} is not in torch.hub's checkpoint folder {target.parent}"
                                       + (" nor in the shared tier" if shared.roots(ctx.environ) else ""), hint=hint)
                plan.shared.add(f.path)
            plan.chosen.append((FileEntry(f.path, f.url, size=target.stat().st_size), None))
            plan.present.add(f.path)
            plan.targets[f.path] = plan.path = target


def _label(model: str, path: str) -> str:
    return f"{model.split(':', 1)[1].rsplit('/', 1)[-1]}/{path}" if "/" in path or model.startswith("hf:") else path


# -- the run ----------------------------------------------------------------------------
def pull(
    ids: Sequence[str], ctx: Context | None = None, opts: PullOptions | None = None,
    progress: Callable[["ProgressEvent"], None] | None = None,
) -> PullReport:
    ctx = ctx or Context.from_env()
    opts = opts or PullOptions()
    if not ids:
        raise UsageError("no model to pull", hint="give one or more ids, or `-` to read them from stdin")
    if opts.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    return run_plans([_plan(raw, ctx, opts) for raw in dict.fromkeys(ids)], ctx, opts, progress)


def run_plans(
    plans: Sequence[_Plan], ctx: Context, opts: PullOptions, progress: Callable[["ProgressEvent"], None] | None = None,
) -> PullReport:
    """Fetch what the plans need, all models' files in one engine run, then place each model."""
    downloads = [d for p in plans if p.error is None for d in p.downloads]
    if downloads and not opts.dry_run:
        from ..fetch.engine import Engine

        outcomes = iter(Engine(ctx, jobs=opts.jobs, progress=progress, stall=ctx.timeout).run(downloads))
        for p in plans:
            if p.error is None:
                p.fetched = {d.label: next(outcomes) for d in p.downloads}
    multi = len(plans) > 1
    return PullReport(tuple(_finish(p, ctx, opts, multi=multi) for p in plans), dry_run=opts.dry_run)


def _finish(plan: _Plan, ctx: Context, opts: PullOptions, *, multi: bool) -> PullResult:
    if plan.error is not None:
        return _failed(plan, plan.error)
    files: list[PulledFile] = []
    failure: BaseException | None = None
    by_label = {d.label: d for d in plan.downloads}
    fetched_bytes = 0
    for f, skip in plan.chosen:
        pickle = is_pickle(f.path)
        blob = f.etag if plan.source == "hf" else None
        if skip:
            files.append(PulledFile(f.path, f.size, f.sha256, "skipped", skip, pickle, blob=blob))
            continue
        if f.path in plan.present:
            files.append(PulledFile(f.path, f.size, f.sha256, "shared" if f.path in plan.shared else "cached", pickle=pickle, blob=blob))
            continue
        label = _label(plan.id, f.path)
        outcome = plan.fetched.get(label)
        if opts.dry_run or outcome is None:
            files.append(PulledFile(f.path, f.size, f.sha256, "planned", pickle=pickle, blob=blob))
        elif isinstance(outcome, BaseException):
            failure = failure or outcome
            files.append(PulledFile(f.path, f.size, f.sha256, "failed", describe(outcome).message, pickle, blob=blob))
        else:
            fetched_bytes += outcome.received
            plan.notes.extend(outcome.notes)
            status = "shared" if outcome.via == "shared" else "cached" if outcome.reused else "downloaded"
            files.append(PulledFile(f.path, outcome.size, outcome.sha256 or f.sha256, status, pickle=pickle, blob=blob))
    if failure is None and not opts.dry_run:
        try:
            _place(plan, by_label, ctx)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            failure = exc
    dest = mode = None
    if failure is None and not opts.dry_run and opts.dest is not None:
        try:
            dest, mode = _to_dest(plan, opts, ctx, multi=multi)
        except OSError as exc:
            failure = exc
    if plan.scans:
        from dataclasses import replace as _with

        files = [_with(f, scan=plan.scans.get(f.path)) for f in files]
    pickles = [f for f in files if f.pickle and f.status != "skipped"]
    flags: tuple[str, ...] = (PICKLE_FLAG,) if pickles else ()
    bad = [f"{f.path} ({f.scan})" for f in pickles if f.scan and f.scan != "safe"]
    if bad:
        flags += (f"the Hub's security scan flags {', '.join(bad)}",)
    elif pickles and all(f.scan == "safe" for f in pickles):
        flags = (PICKLE_FLAG + " (the Hub's security scan found nothing)",)
    base = _requirements(plan, Context.from_env(offline=True, environ=ctx.environ) if plan.pinned else ctx)
    total = sum(f.size or 0 for f in files if f.status != "skipped")
    result = PullResult(
        plan.id, plan.revision, plan.commit, str(plan.path) if plan.path else None, tuple(files), total, fetched_bytes,
        flags=flags, notes=tuple(plan.notes), dest=dest, dest_mode=mode, **base,
    )
    if failure is not None:
        d = describe(failure)
        from dataclasses import replace

        return replace(result, error=d.message, hint=d.hint, exit_code=d.exit_code)
    return result


def _failed(plan: _Plan, exc: BaseException) -> PullResult:
    d = describe(exc)
    return PullResult(plan.id or plan.raw, plan.revision, error=d.message, hint=d.hint, exit_code=d.exit_code)


def _place(plan: _Plan, by_label: dict[str, "Download"], ctx: Context) -> None:
    """Make every verified file visible where its framework looks."""
    if plan.source == "kaggle":
        from ..hubs.kaggle.pull import place_kaggle

        place_kaggle(plan, by_label)
        return
    if plan.source == "tfhub":
        from ..caches import tfhub
        from ..paths import max_extract

        assert plan.path is not None
        for f, _ in plan.chosen:
            if f.path not in plan.present and not tfhub.present(plan.path):  # another process may have installed it
                outcome = plan.fetched.get(_label(plan.id, f.path))
                tfhub.install(plan.targets[f.path], plan.path, plan.id.split(":", 1)[1],
                              is_archive=f.path.endswith((".tar.gz", ".tgz", ".tar")), name=f.path,
                              sha256=getattr(outcome, "sha256", None), max_extract=max_extract(ctx.environ))
        plan.targets = {p.relative_to(plan.path).as_posix(): p for p in plan.path.rglob("*") if p.is_file()}
        return
    if plan.source != "hf" or plan.commit is None:
        return  # a torch checkpoint is its own final path
    from ..caches.hf import RepoCache

    repo = plan.repo
    assert isinstance(repo, RepoCache)
    for f, skip in plan.chosen:
        if skip or (f.path in plan.present and not f.etag):
            continue
        if f.etag:
            repo.link(plan.commit, f.path, f.etag)
    repo.record(plan.commit, [f for f, skip in plan.chosen if not skip])  # trees/<commit>.json, CACHEDIR.TAG
    # The ref last: a revision never resolves to a snapshot still being filled.
    if plan.revision and not (plan.pinned and repo.commit_of(plan.revision)):
        repo.write_ref(plan.revision, plan.commit)


def _to_dest(plan: _Plan, opts: PullOptions, ctx: Context, *, multi: bool) -> tuple[str, str]:
    """Also place the files in ``--dest``: hard links where the file system allows, else copies.

    One model's files go straight into the folder (as ``hf download --local-dir``); with
    several models each gets a subfolder named after its whole ref (``facebook--esm2_t6_8M_UR50D``,
    ``resnet50.IMAGENET1K_V2``).
    """
    assert opts.dest is not None
    # The whole ref, so hf:Qwen/Qwen2.5-7B and hf:Qwen/Qwen2.5-0.5B, or two repos named bert, never share a folder.
    root = opts.dest / plan.id.split(":", 1)[1].replace("/", "--") if multi else opts.dest
    from ..caches.shared import tier_of

    mode = "hardlink"
    for rel, src in plan.targets.items():
        src = src.resolve()
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            if dst.exists() and os.path.samefile(src, dst):
                continue
            dst.unlink()
        if tier_of(src, ctx.environ) == "shared":
            # The admin's file: a hard link would keep its bytes alive (on the admin's quota)
            # after the admin replaced or removed it, and a copy would fill the user's space.
            os.symlink(src, dst)
            mode = "symlink" if mode == "hardlink" else mode
            continue
        try:
            os.link(src, dst)
        except OSError:
            mode = "copy"
            from ..atomic import replacing

            with replacing(dst) as out, src.open("rb") as fh:
                shutil.copyfileobj(fh, out, 4 * 1024 * 1024)
    return str(root), mode


def _requirements(plan: _Plan, ctx: Context) -> dict[str, object]:
    """Framework, pip packages and the install line, from what zoofind knows of the model."""
    from .. import catalog as catalog_mod
    from ..frameworks import check_requirements, install_command, requirements

    record = catalog_mod.load().get(plan.id)
    if record is None and plan.source == "hf":
        # Not curated: what the Hub says (the info answer is cached); never worth failing the pull for.
        try:
            from ..lookup import lookup

            record, _ = lookup(plan.id, ctx)
        except Exception:  # noqa: BLE001
            record = None
    if record is None:
        return {}
    reqs = check_requirements(requirements(record.libraries[:1], record.frameworks, record.packages))
    return {
        "framework": record.frameworks[0] if record.frameworks else None,
        "packages": tuple(r.package for r in reqs),
        "requirements": reqs,
        "install": install_command(reqs),
    }


def read_ids(lines: Iterable[str]) -> list[str]:
    """Ids from stdin: one a line, the first tab-separated column (so search's TSV pipes in), blanks and # comments skipped."""
    out = []
    for line in lines:
        first = line.split("\t", 1)[0].strip()
        if first and not first.startswith("#"):
            out.append(first)
    return out
