"""What every command shares: the output options and turning errors into exit codes."""

import contextlib
import sys
from typing import Annotated, Iterator, Optional

import typer

from ..errors import describe
from ..output import FORMATS, Environment
from .completion import complete_format

_env: Optional[Environment] = None


def env() -> Environment:
    """The process's Environment; tests install their own with ``set_env``."""
    return _env or Environment.from_system()


def set_env(value: Optional[Environment]) -> None:
    global _env
    _env = value


def _check_format(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")
    return value


FormatOpt = Annotated[
    Optional[str],
    typer.Option(
        "--format", "-f", callback=_check_format, metavar="FORMAT", autocompletion=complete_format,
        help="table | json | jsonl | tsv | ids. Default: table on a terminal, headerless TSV in a pipe.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="No network: bundled catalog and local state only (also ZOOFIND_OFFLINE=1 or HF_HUB_OFFLINE=1).")
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait for each live source.", min=0.1)]


@contextlib.contextmanager
def reporting(e: Environment) -> Iterator[None]:
    """Run a command body: errors become a message on stderr and their exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except BrokenPipeError:
        # `zoofind search x | head -1` closes the pipe early: not an error worth a word.
        _silence_stdout()
        raise typer.Exit(0) from None
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one place that maps errors
        if e.debug:
            import traceback

            traceback.print_exc(file=e.stderr)
        d = describe(exc)
        e.error(d)
        raise typer.Exit(d.exit_code) from None


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
