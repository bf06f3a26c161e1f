"""`zoofind info`."""

from typing import Annotated

import typer

from .common import FormatOpt, JsonOpt, OfflineOpt, TimeoutOpt, env, reporting
from .completion import complete_id

EPILOG = """Examples:

  zoofind info hf:facebook/esm2_t6_8M_UR50D

  zoofind info torchvision:raft_large --json

  zoofind info https://tfhub.dev/google/yamnet/1
"""


def info(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="hf:owner/name, torchvision:resnet50[.WEIGHTS], tfhub:<path>, catalog:<slug>, or a hub URL.", autocompletion=complete_id)],
    offline: OfflineOpt = False,
    timeout: TimeoutOpt = 5.0,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything known about one model or resource, and what it needs to run here."""
    e = env()
    with reporting(e):
        from .. import info as run_info
        from ..output import render_info

        result = run_info(model_id, offline=offline, timeout=timeout)
        for warning in result.warnings:
            e.warn(warning)
        render_info(e, e.pick_format(fmt, as_json), result)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(info)
