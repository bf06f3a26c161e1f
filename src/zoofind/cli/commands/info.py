"""`zoofind info`."""

from typing import Annotated

import typer

from ... import info as run_info
from ..common import FormatOpt, JsonOpt, OfflineOpt, TimeoutOpt, env, epilog, reporting
from ..completers import complete_id

EPILOG = epilog([
    "zoofind info hf:facebook/esm2_t6_8M_UR50D",
    "zoofind info esm2_t6_8M_UR50D          # a bare name the catalog knows once",
    "zoofind info torchvision:raft_large --json",
    "zoofind info https://tfhub.dev/google/yamnet/1",
], "Ids are read as pull, lock and cache read them: source:ref, a hub URL, owner/name, or a bare name "
   "naming one catalog entry (an ambiguous one lists the candidates, exit 2).")


def info(
    model_id: Annotated[str,
                        typer.Argument(metavar="ID",
                                       help="hf:owner/name, torchvision:resnet50[.WEIGHTS], tfhub:<path>, "
                                            "catalog:<slug>, a hub URL, or a name the catalog knows once (resnet18).",
                                            autocompletion=complete_id)],
    offline: OfflineOpt = False,
    timeout: TimeoutOpt = 5.0,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything known about one model or resource, and what it needs to run here."""
    e = env()
    with reporting(e):
        # lazy: the renderer: off --help start-up, which imports every command's module
        from ..render.listing import render_info

        result = run_info(model_id, offline=offline, timeout=timeout)
        for warning in result.warnings:
            e.warn(warning)
        render_info(e, e.pick_format(fmt, as_json), result)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(info)
