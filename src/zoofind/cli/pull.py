"""`zoofind pull`."""

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .common import FormatOpt, JsonOpt, OfflineOpt, env, ids_from, reporting, timeout_option
from .completion import complete_id

EPILOG = """Examples:

  zoofind pull hf:facebook/esm2_t6_8M_UR50D

  zoofind pull torchvision:resnet50 hf:Rostlab/prot_bert@main --jobs 4

  zoofind pull hf:owner/name --include '*.json' --include '*.safetensors' --dry-run

  zoofind search "protein language model" -s hf -n 3 | zoofind pull -

  HF_HUB_OFFLINE=1 python -c 'import transformers; transformers.AutoModel.from_pretrained("facebook/esm2_t6_8M_UR50D")'

Files go where each framework looks (the Hugging Face cache, torch.hub's checkpoints), so the frameworks find them later with no network. stdout: one line a model, id<TAB>path.
"""


def pull(
    ids: Annotated[List[str], typer.Argument(metavar="ID...", help="hf:owner/name[@revision], torchvision:resnet50[.WEIGHTS], a hub URL, a model name the catalog knows, or - to read ids from stdin (first column).", autocompletion=complete_id)],
    revision: Annotated[Optional[str], typer.Option("--revision", "-r", help="Branch, tag or commit (Hugging Face); same as ID@REV.")] = None,
    include: Annotated[Optional[List[str]], typer.Option("--include", "-i", metavar="GLOB", help="Only files matching this glob (repeatable).")] = None,
    exclude: Annotated[Optional[List[str]], typer.Option("--exclude", "-x", metavar="GLOB", help="Not files matching this glob (repeatable).")] = None,
    all_files: Annotated[bool, typer.Option("--all-files", help="Also the copies of the weights in other formats (pickle, TF, Flax, ONNX, GGUF) that are skipped when safetensors exist.")] = False,
    dest: Annotated[Optional[Path], typer.Option("--dest", metavar="DIR", help="Also place the files in DIR (hard links where possible, else copies).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Downloads in flight at once (large files use several for their byte ranges).")] = 8,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Show the files and bytes that would be fetched; write nothing, fetch no file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    offline: OfflineOpt = False,
    timeout: Annotated[float, timeout_option("Seconds a request may wait for an answer or for the next bytes before it is retried.")] = 30.0,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download models into each framework's own cache: verified, resumable, several at once."""
    e = env()
    with reporting(e):
        from .. import pull as run_pull
        from ..pull_output import progress_bars, render_pull

        wanted = ids_from(ids)
        form = e.pick_format(fmt, as_json)
        with progress_bars(e, enabled=not quiet and not dry_run) as progress:
            report = run_pull(
                wanted, revision=revision, include=include or (), exclude=exclude or (), all_files=all_files,
                dest=dest, jobs=jobs, dry_run=dry_run, offline=offline, timeout=timeout, progress=progress,
            )
        render_pull(e, form, report)
        if report.exit_code:
            raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(pull)
