"""`zoofind lock` and `zoofind pull --lock`: the exact models a study used, and the same again.

``lock`` pulls the models (so every byte it records was verified, or is verified now when it
was already cached) and asks each model's hub to pin its result (``hubs.protocol.Locks.pin``):
a Hub commit with each file's size, sha256 and blob name, a checkpoint's full sha256, an
archive's sha256 and every extracted file. A lock never records a digest nobody checked.

``pull_locked`` asks each hub for a plan from the lock alone (no metadata request). A file
already cached is hashed against the lock and a mismatch fails its model (exit 1, file named);
a missing file is fetched and verified against the lock's size and sha256 before it becomes
visible; files extracted from an archive are checked once placed (``Locks.check_placed``).
With everything cached it makes zero requests. This module names no hub.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..core.context import Context
from ..core.errors import UsageError
from ..core.version import __version__
from ..hubs import registry
from ..hubs.ids import parse_id
from ..models.lock import Lock, LockedModel
from ..models.pull import ModelPlan, PullOptions, PullReport, PullResult
from .pull import Failed, check_mirror, failed, pull, run_plans

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..models.transfer import ProgressEvent

Progress = Callable[["ProgressEvent"], None] | None


@dataclass(frozen=True)
class LockReport:
    """What ``zoofind lock`` did: the pull of every model, and the lock (None if any failed)."""

    pulled: PullReport
    lock: Lock | None

    @property
    def exit_code(self) -> int:
        return self.pulled.exit_code


# -- writing a lock ----------------------------------------------------------------------
def lock(ids: Sequence[str], ctx: Context, opts: PullOptions, progress: Progress = None) -> LockReport:
    """Pull ``ids`` and record exactly what arrived; no lock when any model failed."""
    if opts.dry_run:
        raise UsageError("lock has no --dry-run: it records the bytes it verified",
                         hint="use `zoofind pull --dry-run` to see what would be fetched")
    report = pull(ids, ctx, opts, progress)
    if report.exit_code:
        return LockReport(report, None)
    models = tuple(registry.ability(parse_id(r.id).source, "lock").pin(r) for r in report.results)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return LockReport(report, Lock(models, __version__, now))


# -- pulling a lock ----------------------------------------------------------------------
def pull_locked(lock: Lock, ctx: Context, opts: PullOptions, progress: Progress = None) -> PullReport:
    if opts.revision or opts.include or opts.exclude or opts.all_files:
        raise UsageError("--lock fixes the revisions and files; "
                         "it takes no --revision, --include, --exclude or --all-files")
    if opts.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if not lock.models:
        raise UsageError(f"{lock.origin or 'the lock'} locks no model")
    check_mirror(ctx, opts)
    report = run_plans([_plan_locked(m, ctx, opts) for m in lock.models], ctx, opts, progress)
    if report.dry_run:
        return report
    by_id = {m.id: m for m in lock.models}
    return replace(report, results=tuple(_checked(r, by_id.get(r.id)) for r in report.results))


def _plan_locked(m: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan | Failed:
    try:
        return registry.ability(m.source, "lock").plan_locked(m, ctx, opts)
    except Exception as exc:  # noqa: BLE001 - one model's failure is its result
        return Failed(m.id, exc, m.id, m.revision)


def _checked(r: PullResult, m: LockedModel | None) -> PullResult:
    """What the engine could not check against the lock file by file (an archive's extracted
    files), checked now by the hub; a difference fails the model and unplaces it."""
    if m is None or not r.ok or r.path is None:
        return r
    try:
        registry.ability(m.source, "lock").check_placed(m, r)
    except Exception as exc:  # noqa: BLE001 - one model's failure is its result
        return failed(r, exc)
    return r
