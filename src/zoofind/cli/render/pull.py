"""The output layer's part for ``pull``: progress bars on stderr and the results on stdout.

Bars (rich: one per file in flight, and a total, with bytes, rate and ETA) appear only
when stderr is a terminal and ``--quiet`` is not given; in a pipe nothing of them is
written. The library reports progress through ``ProgressEvent``s; only this module draws.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ...core.errors import Described
from ...core.safetext import clean
from ...core.units import counted, human_bytes
from .output import SCHEMA_VERSION, Environment, dumps, json_text, render_results, tsv_lines

if TYPE_CHECKING:
    from ...models.pull import PulledFile, PullReport, PullResult
    from ...models.transfer import ProgressEvent
    from ...ops.lock import LockReport
    from ...ops.lockfile import LockedModel


@contextlib.contextmanager
def progress_bars(env: Environment, *, enabled: bool) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """A progress callback drawing rich bars on stderr, or None when bars are off."""
    if not (enabled and env.stderr_isatty):
        yield None
        return
    # lazy: rich (~40 ms) only for progress bars on a terminal: off pull --offline, lock and bundle start-up in a pipe
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    # The Environment decided stderr is a terminal (tests hand it a StringIO): rich follows it.
    console = Console(file=env.stderr, no_color=not env.colors, stderr=True, force_terminal=True, width=env.width)
    bars = Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console, transient=True,
    )
    tasks: dict[str, Any] = {}
    total_id = None
    guard = threading.Lock()

    def on_event(ev: ProgressEvent) -> None:
        nonlocal total_id
        with guard:
            if total_id is None:
                total_id = bars.add_task("total", total=0)
            if ev.kind in ("start", "wait"):
                # File names come from the server: never let them drive the terminal.
                label = clean(ev.label) if ev.kind == "start" else f"{clean(ev.label)} (waiting for another process)"
                if ev.label in tasks:
                    bars.update(tasks[ev.label], description=label, completed=ev.done, total=ev.total)
                else:
                    tasks[ev.label] = bars.add_task(label, total=ev.total, completed=ev.done)
                    t = bars.tasks[total_id]
                    bars.update(total_id, total=(t.total or 0) + (ev.total or 0), advance=ev.done)
            elif ev.kind == "advance" and ev.label in tasks:
                bars.update(tasks[ev.label], completed=ev.done, total=ev.total)
                bars.advance(total_id, ev.advanced)
            elif ev.kind in ("done", "failed") and ev.label in tasks:
                bars.remove_task(tasks.pop(ev.label))

    with bars:
        yield on_event


def render_pull(env: Environment, fmt: str, report: PullReport) -> None:
    """Each model: stdout gets ``id<TAB>path`` (or records); stderr what it needs, skipped files, failures."""
    # One line a model in TSV: what scripts read (`cd "$(zoofind pull ... | cut -f2)"`).
    render_results(env, fmt, {"command": "pull", "dry_run": report.dry_run, "exit_code": report.exit_code},
                   report.results, result_json)
    pull_notes(env, report)


def pull_notes(env: Environment, report: PullReport) -> None:
    """stderr: each model's outcome, notes, flags and needs, then one install line for what is missing."""
    for r in report.results:
        _notes(env, r, report.dry_run)
    missing = sorted({req.package for r in report.results if r.ok for req in r.requirements if req.installed is None})
    if missing:
        env.note("to use these here: pip install " + " ".join(missing))


def render_lock(env: Environment, fmt: str, report: LockReport, written: str | None) -> None:
    """``zoofind lock``: stdout ``id<TAB>pin`` a model (the commit or the sha256 it is pinned to), or
    records; stderr the pull's notes and which file was written. With ``-o -`` the lock
    itself went to stdout and nothing else does."""
    # lazy: ops.lockfile only for `lock`: off pull start-up
    from ...ops.lockfile import to_data

    lock = report.lock
    if written != "-":
        if fmt == "json":
            data = to_data(lock) if lock is not None else None
            if data is not None:
                data["created"] = data["created"].isoformat()
            env.write(dumps({"schema_version": SCHEMA_VERSION, "command": "lock", "path": written,
                             "exit_code": report.exit_code, "lock": data,
                             "results": [result_json(r) for r in report.pulled.results]}))
        elif fmt == "jsonl" and lock is not None:
            env.write("".join(json_text(m) for m in to_data(lock)["models"]))
        elif fmt == "ids" and lock is not None:
            env.write(tsv_lines((m.id,) for m in lock.models))
        elif fmt in ("tsv", "table") and lock is not None:
            env.write(tsv_lines((m.id, pin(m)) for m in lock.models))
    pull_notes(env, report.pulled)
    if lock is None:
        env.note("no lock written: every model must pull first")
    elif written and written != "-":
        n = sum(len(m.files) for m in lock.models)
        env.note(f"wrote {written}: {counted(m.id for m in lock.models)}, {n} file(s), "
                 f"{human_bytes(sum(m.total_bytes for m in lock.models))}; "
                 f"reproduce with: zoofind pull --lock {written}")


def pin(m: LockedModel) -> str:
    """What a locked model is pinned to, in one word: its commit, its file's or archive's sha256."""
    if m.commit:
        return m.commit
    if m.archive is not None:
        return m.archive.sha256
    return m.files[0].sha256 if len(m.files) == 1 else f"{len(m.files)} files"


def _notes(env: Environment, r: PullResult, dry_run: bool) -> None:
    if not r.ok:
        message = r.error or "failed"
        env.error(Described(message if r.id in message else f"{r.id}: {message}", r.hint, r.exit_code))
        return
    fetched = [f for f in r.files if f.status == "downloaded"]
    planned = [f for f in r.files if f.status == "planned"]
    cached = [f for f in r.files if f.status == "cached"]
    shared = [f for f in r.files if f.status == "shared"]
    mirrored = [f for f in r.files if f.status == "mirror"]
    if dry_run:
        env.note(f"{r.id}: would fetch {len(planned)} file(s), {human_bytes(sum(f.size or 0 for f in planned))}"
                 + (f"; {len(cached)} already cached" if cached else ""))
        if len(planned) > LIST_FILES:
            _by_folder(env, planned)
        for f in planned if len(planned) <= LIST_FILES else ():
            env.note(f"  {f.path}  {human_bytes(f.size) if f.size is not None else 'size unknown'}")
    else:
        done = [f"fetched {len(fetched)} file(s), {human_bytes(r.fetched_bytes)}"] if fetched else []
        if shared:
            done.append(f"linked {len(shared)} file(s), {human_bytes(sum(f.size or 0 for f in shared))}, "
                        "from the shared tier")
        if mirrored:
            done.append(f"read {len(mirrored)} file(s), {human_bytes(sum(f.size or 0 for f in mirrored))}, "
                        "from the mirror (checked)")
        env.note(f"{r.id}{'@' + r.commit[:12] if r.commit else ''}: {'; '.join(done) or 'already in the cache'}"
                 + (f" ({len(cached)} cached)" if done and cached else ""))
    for note in r.notes:
        env.note(note)
    if r.flags:
        env.warn(f"{r.id}: " + "; ".join(r.flags))
    if r.framework or r.packages:
        env.note(f"{r.id} loads with {r.framework or '?'}; needs {', '.join(r.packages) or 'nothing more'}")
    if r.dest:
        how = {"hardlink": "hard links", "symlink": "symlinks into the shared tier"}.get(r.dest_mode or "", "copies")
        env.note(f"{r.id}: also in {r.dest} ({how})")


#: A dry run lists each file up to this many; past it, each top-level folder (its files and bytes).
LIST_FILES = 200
#: Folders a summary names, the largest first; the rest are counted in one line.
LIST_FOLDERS = 20


def _by_folder(env: Environment, planned: list[PulledFile]) -> None:
    """stderr: a dry run's many files per top-level folder, the most bytes first, and how to narrow."""
    folders: dict[str, list[int]] = {}
    for f in planned:
        top = f.path.split("/", 1)[0] + "/" if "/" in f.path else "."
        count = folders.setdefault(top, [0, 0])
        count[0] += 1
        count[1] += f.size or 0
    ranked = sorted(folders.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    env.note(f"  in {len(folders)} top-level folder(s), the largest first ('.': the files at the top):")
    for name, (n, size) in ranked[:LIST_FOLDERS]:
        env.note(f"  {clean(name)}  {n:,} file(s), {human_bytes(size)}")
    rest = ranked[LIST_FOLDERS:]
    if rest:
        env.note(f"  ... and {len(rest)} more folder(s): {sum(c[0] for _, c in rest):,} file(s), "
                 f"{human_bytes(sum(c[1] for _, c in rest))}")
    top = next((name for name, _ in ranked if name != "."), "")
    if top:
        env.note(f"narrow it with globs on the paths: --include '{clean(top)}*' fetches only {clean(top)}, "
                 f"--exclude '{clean(top)}*' all but it; --format json lists every file")


def result_json(r: PullResult) -> dict[str, Any]:
    return {
        "id": r.id, "ok": r.ok, "revision": r.revision, "commit": r.commit, "path": r.path,
        "files": [file_json(f) for f in r.files], "total_bytes": r.total_bytes, "fetched_bytes": r.fetched_bytes,
        "framework": r.framework, "packages": list(r.packages),
        "installed": {req.package: req.installed for req in r.requirements}, "install": r.install,
        "flags": list(r.flags), "notes": list(r.notes), "dest": r.dest, "dest_mode": r.dest_mode,
        "error": r.error, "hint": r.hint, "exit_code": r.exit_code,
    }


def file_json(f: PulledFile) -> dict[str, Any]:
    """One file of a result, its fields in their order (``asdict`` is ~10x slower, for 200,000 files)."""
    return {"path": f.path, "size": f.size, "sha256": f.sha256, "status": f.status, "reason": f.reason,
            "pickle": f.pickle, "scan": f.scan, "blob": f.blob}
