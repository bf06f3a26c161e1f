"""`zoofind lock`."""

from pathlib import Path
from typing import Annotated

import typer

from ... import lock as run_lock
from ..common import (
    AllFilesOpt,
    ExcludeOpt,
    FetchTimeoutOpt,
    FormatOpt,
    IncludeOpt,
    JobsOpt,
    JsonOpt,
    OfflineOpt,
    QuietOpt,
    RevisionOpt,
    env,
    epilog,
    ids_from,
    reporting,
)
from ..completers import complete_id

EPILOG = epilog([
    "zoofind lock hf:facebook/esm2_t6_8M_UR50D torchvision:resnet50 -o study.lock",
    'zoofind search "protein language model" -s hf -n 3 --format ids | zoofind lock - -o study.lock',
    "zoofind pull --lock study.lock            # the same revisions and bytes, on any machine",
    "zoofind export --lock study.lock models.tar   # for a machine without network",
], "The lock (TOML, schema 1) records each model's exact revision (Hugging Face commit; torchvision "
   "checkpoint and TF Hub archive sha256) and every selected file's size and sha256. lock pulls the models "
   "first, so every digest it writes was checked against the bytes. stdout: one line a model, id<TAB>what it "
   "is pinned to.")


def lock(
    ids: Annotated[list[str],
                   typer.Argument(metavar="ID...",
                                  help="Models as pull takes them (hf:owner/name or hf:owner/name@REV, "
                                       "torchvision:NAME[.WEIGHTS], tfhub:HANDLE), or - to read ids from stdin "
                                       "(first column).",
                                  autocompletion=complete_id)],
    output: Annotated[Path,
                      typer.Option("--output", "-o", metavar="FILE",
                                   help="Where to write the lock (atomically); - writes it to "
                                        "stdout.")] = Path("zoofind.lock"),
    revision: RevisionOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    all_files: AllFilesOpt = False,
    jobs: JobsOpt = 8,
    quiet: QuietOpt = False,
    offline: OfflineOpt = False,
    timeout: FetchTimeoutOpt = 30.0,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pin models to exact revisions and bytes in a lock file, so a study's models can be fetched again exactly."""
    e = env()
    with reporting(e):
        # lazy: ops.lockfile and the renderer: off --help start-up, which imports every command's module
        from ...ops.lockfile import dumps
        from ..render.pull import progress_bars, render_lock

        wanted = ids_from(ids)
        form = e.pick_format(fmt, as_json)
        to_stdout = str(output) == "-"
        with progress_bars(e, enabled=not quiet) as progress:
            report = run_lock(wanted, revision=revision, include=include or (), exclude=exclude or (),
                              all_files=all_files, jobs=jobs, offline=offline, timeout=timeout, progress=progress,
                              output=None if to_stdout else output)
        if to_stdout and report.lock is not None:
            e.write(dumps(report.lock, name="zoofind.lock"))
        render_lock(e, form, report, "-" if to_stdout else (str(output) if report.lock is not None else None))
        if report.exit_code:
            raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(lock)
