"""`zoofind pull`: models into each framework's own cache, verified, resumable.

pull = a loop over the hubs that have the ``pull`` ability (``hubs.protocol.Pulls``): each id
is resolved, its hub plans it (which files, at which exact revision, where each lands), ONE
fetch-engine run fetches every plan's downloads (ranges, resume, locks, verification), and
each hub places its model where its framework looks. Each model becomes one ``PullResult``;
a failure is recorded in its result and the others go on. This module names no hub.

Offline (``--offline`` or the offline variables) nothing is asked: each hub answers from the
caches alone, or fails with what to do on a machine with network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from .. import catalog as catalog_mod
from ..caches import shared
from ..catalog.frameworks import check_requirements, install_command, requirements
from ..core.atomic import replacing
from ..core.context import Context
from ..core.errors import UsageError, ZoofindError, describe
from ..hubs import registry
from ..hubs.ids import parse_id, split_revision
from ..hubs.pulling import PICKLE_FLAG, is_pickle
from ..models.pull import ModelPlan, PulledFile, PullOptions, PullReport, PullResult, Requirement
from ..models.transfer import Expected
from .resolve import resolve_id

MIRROR_VARIABLE = "ZOOFIND_MIRROR"  # ops.mirror.VARIABLE, which imports the S3 client

if TYPE_CHECKING:
    from ..hubs.protocol import Pulls
    from ..models.transfer import Checking, Download, Fetched, Found, LocalSource, ProgressEvent
    from .mirror import Mirror

Progress = Callable[["ProgressEvent"], None] | None

__all__ = ["PullOptions", "PullReport", "PullResult", "PulledFile", "pull", "read_ids", "run_plans"]


@dataclass(frozen=True)
class Failed:
    """A model that could not be planned: what was asked, and why."""

    asked: str
    error: BaseException
    id: str | None = None
    revision: str | None = None


def _plan(raw: str, ctx: Context, opts: PullOptions) -> ModelPlan | Failed:
    pid = rev = None
    try:
        text, rev = split_revision(raw)
        pid = resolve_id(text, ctx)  # ops.resolve: the one rule every command that takes ids follows
        rev = opts.revision or rev
        pulls: Pulls = registry.ability(pid.source, "pull")
        return pulls.plan(pid, ctx, opts, revision=rev, asked=raw)
    except Exception as exc:  # noqa: BLE001 - one model's failure is its result
        return Failed(raw, exc, str(pid) if pid else None, rev)


# -- the run ----------------------------------------------------------------------------
def pull(ids: Sequence[str], ctx: Context | None = None, opts: PullOptions | None = None,
         progress: Progress = None) -> PullReport:
    ctx = ctx or Context.from_env()
    opts = opts or PullOptions()
    if not ids:
        raise UsageError("no model to pull", hint="give one or more ids, or `-` to read them from stdin")
    if opts.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    check_mirror(ctx, opts)
    return run_plans([_plan(raw, ctx, opts) for raw in dict.fromkeys(ids)], ctx, opts, progress)


def run_plans(plans: Sequence[ModelPlan | Failed], ctx: Context, opts: PullOptions,
              progress: Progress = None) -> PullReport:
    """Fetch what the plans need, all models' files in one engine run, then place each model."""
    planned = [p for p in plans if isinstance(p, ModelPlan)]
    downloads = [d for p in planned for d in p.downloads]
    fetched: dict[int, dict[str, Fetched | BaseException]] = {}
    if downloads and not opts.dry_run:
        # lazy: the engine and its HTTP stack (the HTTP stack) only when bytes move: off pull --offline start-up
        from ..fetch.scheduler import Engine

        mirror = _mirror(ctx, opts)
        engine = Engine(jobs=opts.jobs, progress=progress, stall=ctx.timeout, local=_shared_tier(ctx.environ, mirror))
        results = engine.run(downloads)
        outcomes = iter(results)
        fetched = {id(p): {f.path: next(outcomes) for f in p.files if f.download is not None} for p in planned}
        if mirror is not None and opts.publish:
            _publish(mirror, results, fetched, planned)
    multi = len(plans) > 1
    return PullReport(tuple(failed(PullResult(p.id or p.asked, p.revision), p.error) if isinstance(p, Failed)
                            else _finish(p, fetched.get(id(p), {}), ctx, opts, multi=multi) for p in plans),
                      dry_run=opts.dry_run)


def _shared_tier(environ: Mapping[str, str], mirror: Mirror | None = None) -> LocalSource:
    """Where the engine looks before the network: the read-only shared tier (``ZOOFIND_SHARED_CACHE``),
    then the lab's store (``ZOOFIND_MIRROR``, ``ops.mirror``). A download's own ``local`` (a TF Hub
    module folder) is asked instead of the target's place in each shared root; a copy the user's
    cache refused to hold is a note, and the file is downloaded."""
    def local(d: Download, checking: Checking) -> Found:
        try:
            if d.local is not None:
                return d.local()
            found: Found = shared.link_file(d.target, d.expected, environ, d.label, on_check=checking)
        except OSError as exc:
            found = shared.Linked(notes=(f"{d.label}: the shared tier's copy could not be linked "
                                         f"({exc.strerror or exc}); downloaded instead",))
        if found.source is None and mirror is not None:
            got = mirror.local(d, checking)
            return replace(got, notes=found.notes + got.notes)
        return found
    return local


def check_mirror(ctx: Context, opts: PullOptions) -> None:
    """Before anything is planned: a mirror's address (``--mirror``, ``ZOOFIND_MIRROR``) and ``--publish``."""
    address = opts.mirror or ctx.environ.get(MIRROR_VARIABLE)
    if not address:
        if opts.publish:
            raise UsageError("--publish adds to a mirror, and none is set",
                             hint="give --mirror s3://BUCKET/PREFIX/ or set ZOOFIND_MIRROR")
        return
    # lazy: the store's address rules only when a mirror is set: off pull --offline start-up
    from ..store.url import DEFAULT_MANIFEST, parse, require_client

    url = parse(address, what="mirror address")
    if url.manifest != DEFAULT_MANIFEST:
        raise UsageError(f"{address}: a mirror is a folder of the store (s3://BUCKET/PREFIX/), not a manifest",
                         hint=f"did you mean {url.show()} ?")
    require_client()


def _mirror(ctx: Context, opts: PullOptions) -> Mirror | None:
    if not (opts.mirror or ctx.environ.get(MIRROR_VARIABLE)):
        return None
    # lazy: the S3 client (obstore, the zoofind[s3] extra) only when a mirror is set
    from .mirror import mirror_for
    return mirror_for(opts.mirror, ctx.environ)


def _publish(mirror: Mirror, results: Sequence[Fetched | BaseException],
             fetched: dict[int, dict[str, Fetched | BaseException]], planned: Sequence[ModelPlan]) -> None:
    """``--publish``: what came from a hub in this run, added to the mirror (a failure fails the file)."""
    for outcome in results:
        if isinstance(outcome, BaseException) or outcome.via is not None or outcome.reused or not outcome.sha256:
            continue
        d = outcome.download
        expected = Expected(outcome.size, outcome.sha256, d.expected.git_sha1)
        try:
            mirror.publish(d.target, expected)
        except ZoofindError as exc:
            for p in planned:
                for path, got in fetched[id(p)].items():
                    if got is outcome:
                        fetched[id(p)][path] = exc


def failed(result: PullResult, exc: BaseException) -> PullResult:
    """``result`` failed with ``exc``: its message, hint and exit code (the one place a failure
    becomes an exit code; ``PullReport.exit_code``, through ``errors.first_failure``, aggregates them)."""
    d = describe(exc)
    return replace(result, error=d.message, hint=d.hint, exit_code=d.exit_code)


def _finish(plan: ModelPlan, fetched: Mapping[str, Fetched | BaseException], ctx: Context, opts: PullOptions, *,
            multi: bool) -> PullResult:
    files: list[PulledFile] = []
    failure: BaseException | None = None
    notes = list(plan.notes)
    fetched_bytes = 0
    for f in plan.files:
        # Each file's result made once (a repo may list 200,000): its status decided first.
        size, sha256, status, reason = f.entry.size, f.entry.sha256, "planned", None
        outcome = fetched.get(f.path)
        if f.skip:
            status, reason = "skipped", f.skip
        elif f.present:
            status = "shared" if f.shared else "cached"
        elif opts.dry_run or outcome is None:
            pass
        elif isinstance(outcome, BaseException):
            failure = failure or outcome
            status, reason = "failed", describe(outcome).message
        else:
            fetched_bytes += outcome.received
            notes.extend(outcome.notes)
            status = {"local": "shared", "mirror": "mirror"}.get(outcome.via or "",
                                                               "cached" if outcome.reused else "downloaded")
            size, sha256 = outcome.size, outcome.sha256 or f.entry.sha256
        files.append(PulledFile(f.path, size, sha256, status, reason, is_pickle(f.path), f.scan, f.blob))
    targets: Mapping[str, Path] = plan.targets()
    if failure is None and not opts.dry_run:
        try:
            good = {k: v for k, v in fetched.items() if not isinstance(v, BaseException)}
            targets = registry.ability(plan.source, "pull").place(plan, good, ctx)
        except Exception as exc:  # noqa: BLE001 - one model's failure is its result
            failure = exc
    dest = mode = None
    if failure is None and not opts.dry_run and opts.dest is not None:
        try:
            dest, mode = _to_dest(plan.id, targets, opts, ctx, multi=multi)
        except OSError as exc:
            failure = exc
    result = PullResult(
        plan.id, plan.revision, plan.commit, str(plan.path) if plan.path else None, tuple(files),
        sum(f.size or 0 for f in files if f.status != "skipped"), fetched_bytes, flags=plan.flags + _flags(files),
        notes=tuple(notes), dest=dest, dest_mode=mode,
        **_requirements(plan, Context.from_env(offline=True, environ=ctx.environ) if plan.pinned else ctx),
    )
    return result if failure is None else failed(result, failure)


def _flags(files: Sequence[PulledFile]) -> tuple[str, ...]:
    """Pickle weights, and what the hub's security scan said of them."""
    pickles = [f for f in files if f.pickle and f.status != "skipped"]
    if not pickles:
        return ()
    bad = [f"{f.path} ({f.scan})" for f in pickles if f.scan and f.scan != "safe"]
    if bad:
        return (PICKLE_FLAG, f"the Hub's security scan flags {', '.join(bad)}")
    if all(f.scan == "safe" for f in pickles):
        return (PICKLE_FLAG + " (the Hub's security scan found nothing)",)
    return (PICKLE_FLAG,)


def _to_dest(model: str, targets: Mapping[str, Path], opts: PullOptions, ctx: Context, *,
             multi: bool) -> tuple[str, str]:
    """Also place the files in ``--dest``: hard links where the file system allows, else copies.

    One model's files go straight into the folder (as ``hf download --local-dir``); with
    several models each gets a subfolder named after its whole ref (``facebook--esm2_t6_8M_UR50D``,
    ``resnet50.IMAGENET1K_V2``).
    """
    assert opts.dest is not None
    # The whole ref, so hf:Qwen/Qwen2.5-7B and hf:Qwen/Qwen2.5-0.5B, or two repos named bert, never share a folder.
    root = opts.dest / parse_id(model).ref.replace("/", "--") if multi else opts.dest
    mode = "hardlink"
    for rel, src in targets.items():
        src = src.resolve()
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            if dst.exists() and os.path.samefile(src, dst):
                continue
            dst.unlink()
        if shared.tier_of(src, ctx.environ) == "shared":
            # The admin's file: a hard link would keep its bytes alive (on the admin's quota)
            # after the admin replaced or removed it, and a copy would fill the user's space.
            os.symlink(src, dst)
            mode = "symlink" if mode == "hardlink" else mode
            continue
        try:
            os.link(src, dst)
        except OSError:
            mode = "copy"
            with replacing(dst) as out, src.open("rb") as fh:
                shutil.copyfileobj(fh, out, 4 * 1024 * 1024)
    return str(root), mode


class _Needs(TypedDict, total=False):
    """PullResult's fields for what a model needs (none when zoofind knows nothing of it)."""
    framework: str | None
    packages: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    install: str | None


def _requirements(plan: ModelPlan, ctx: Context) -> _Needs:
    """Framework, pip packages and the install line, from what zoofind knows of the model."""
    record = catalog_mod.load(ctx).get(plan.id) or plan.described
    if record is None and registry.ability(plan.source, "pull").describes_uncurated:
        # Not curated: what the hub says (the info answer is cached); never worth failing the pull for.
        from .lookup import lookup  # lazy: only for a model the catalog lacks: off pull --offline start-up

        try:
            record, _ = lookup(plan.id, ctx)
        except Exception:  # noqa: BLE001 - what it needs is extra: the pull succeeded without it
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
    """Ids from stdin: one a line, the first tab-separated column (so search's TSV pipes in), blanks and
    # comments skipped."""
    out = []
    for line in lines:
        first = line.split("\t", 1)[0].strip()
        if first and not first.startswith("#"):
            out.append(first)
    return out
