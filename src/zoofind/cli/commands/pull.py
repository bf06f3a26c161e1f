"""`zoofind pull`."""

from pathlib import Path
from typing import Annotated

import typer

from ... import pull as run_pull
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
    RetiredDryRunOpt,
    RevisionOpt,
    env,
    epilog,
    ids_from,
    reporting,
)
from ..completers import complete_id

EPILOG = epilog([
    "zoofind pull hf:facebook/esm2_t6_8M_UR50D",
    "zoofind pull torchvision:resnet50 hf:Rostlab/prot_bert@main --jobs 4",
    "zoofind pull hf:owner/name --include '*.json' --include '*.safetensors' --dry-run",
    'zoofind search "protein language model" -s hf -n 3 | zoofind pull -',
    "zoofind pull --lock study.lock --offline     # exactly what `zoofind lock` pinned, from the cache",
    "ZOOFIND_MIRROR=s3://lab-models/zoo/ zoofind pull --lock study.lock   # the lab's store first, then the hub",
    "HF_HUB_OFFLINE=1 python -c 'import transformers; "
    """transformers.AutoModel.from_pretrained("facebook/esm2_t6_8M_UR50D")'""",
], "Files go where each framework looks (the Hugging Face cache, torch.hub's checkpoints), so the frameworks "
   "find them later with no network. stdout: one line a model, id<TAB>path.")


def pull(
    ids: Annotated[list[str] | None,
                   typer.Argument(metavar="[ID...]",
                                  help="hf:owner/name (or hf:owner/name@REV), torchvision:resnet50[.WEIGHTS], a hub "
                                       "URL, a model name the catalog knows, or - to read ids from stdin (first "
                                       "column).",
                                  autocompletion=complete_id, show_default=False)] = None,
    lock: Annotated[Path | None,
                    typer.Option("--lock", "-l", metavar="FILE",
                                 help="Pull exactly the models, revisions and bytes a lock file (zoofind lock) "
                                      "records; any byte that differs fails. With everything cached: zero "
                                      "requests.")] = None,
    revision: RevisionOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    all_files: AllFilesOpt = False,
    dest: Annotated[Path | None,
                    typer.Option("--dest", metavar="DIR",
                                 help="Also place the files in DIR (hard links where possible, else copies).")] = None,
    jobs: JobsOpt = 8,
    trust: Annotated[bool,
                     typer.Option("--trust",
                                  help="You trust the models' own code: where the framework keeps a list of trusted "
                                       "sources (torch.hub's trusted_list), add them to it. Never done without "
                                       "this flag.")] = False,
    dry_run: Annotated[bool,
                       typer.Option("--dry-run",
                                    help="Show the files and bytes that would be fetched; write nothing, fetch no "
                                         "file.")] = False,
    mirror: Annotated[str | None,
                      typer.Option("--mirror", metavar="S3URL",
                                   help="The lab's object store (s3://BUCKET/PREFIX/, where bundles are published): "
                                        "each file is looked for there by its sha256 before the hub, and checked as "
                                        "hub bytes are. Default: ZOOFIND_MIRROR.", show_default=False)] = None,
    publish: Annotated[bool,
                       typer.Option("--publish",
                                    help="Add to the mirror what had to come from a hub (needs write access; "
                                         "nodes only read).")] = False,
    retired_n: RetiredDryRunOpt = False,
    quiet: QuietOpt = False,
    offline: OfflineOpt = False,
    timeout: FetchTimeoutOpt = 30.0,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download models into each framework's own cache: verified, resumable, several at once."""
    e = env()
    with reporting(e):
        # lazy: the renderer: off --help start-up, which imports every command's module
        from ..render.pull import progress_bars, render_pull

        wanted = ids_from(ids or [])
        form = e.pick_format(fmt, as_json)
        with progress_bars(e, enabled=not quiet and not dry_run) as progress:
            report = run_pull(
                wanted, revision=revision, include=include or (), exclude=exclude or (), all_files=all_files,
                dest=dest, jobs=jobs, dry_run=dry_run, offline=offline, timeout=timeout, progress=progress, lock=lock,
                trust=trust, mirror=mirror, publish=publish,
            )
        render_pull(e, form, report)
        if report.exit_code:
            raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(pull)
