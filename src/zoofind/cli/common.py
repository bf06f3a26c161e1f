"""What every command shares: the output options and turning errors into exit codes."""

import contextlib
import sys
import traceback
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from ..core.context import check_timeout
from ..core.errors import UsageError, ZoofindWarning, describe
from .completers import complete_format
from .render.output import FORMATS, Environment, check_formats

_env: Environment | None = None


def env() -> Environment:
    """The process's Environment; tests install their own with ``set_env``."""
    return _env or Environment.from_system()


def set_env(value: Environment | None) -> None:
    global _env
    _env = value


def _sibling(ctx: typer.Context, option: str) -> Any:
    """The value of another option of this command, when Click has processed it already.

    Click processes options in the order they were given, so of two options that must
    agree, the one given second sees the first: each checks the pair.
    """
    for param in ctx.command.params:
        if option in param.opts:
            return ctx.params.get(param.name or "")
    return None


def _check_pair(fmt: str | None, as_json: bool) -> None:
    try:
        check_formats(fmt, as_json)
    except UsageError as exc:
        raise typer.BadParameter(exc.message) from None


def _check_format(ctx: typer.Context, value: str | None) -> str | None:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")
    _check_pair(value, bool(_sibling(ctx, "--json")))
    return value


def _check_json(ctx: typer.Context, value: bool) -> bool:
    _check_pair(_sibling(ctx, "--format"), value)
    return value


def _check_timeout(value: float) -> float:
    # The library's one rule (finite, above 0, at most a day), as a usage error before any work.
    try:
        return check_timeout(value)
    except UsageError as exc:
        raise typer.BadParameter(exc.message) from None


FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", callback=_check_format, metavar="FORMAT", autocompletion=complete_format,
        help="table | json | jsonl | tsv | ids. Default: table on a terminal, headerless TSV in a pipe.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", callback=_check_json, help="Same as --format json.")]
OfflineOpt = Annotated[
    bool,
    typer.Option("--offline",
                 help="No network: bundled catalog and local state only (also ZOOFIND_OFFLINE=1 or HF_HUB_OFFLINE=1).")
]


def timeout_option(help: str) -> Any:
    """A ``--timeout`` option with this help and the one rule (``context.check_timeout``):
    for commands whose timeout means something else (`sources`' probes, `pull`'s requests)."""
    return typer.Option("--timeout", callback=_check_timeout, help=f"{help} Above 0, at most 86400.")


# The options pull and lock share: how a model's files are chosen and fetched.
RevisionOpt = Annotated[str | None,
                        typer.Option("--revision", "-r", help="Branch, tag or commit (Hugging Face); same as ID@REV.")]
IncludeOpt = Annotated[list[str] | None,
                       typer.Option("--include", "-i", metavar="GLOB",
                                    help="Only files matching this glob (repeatable).")]
ExcludeOpt = Annotated[list[str] | None,
                       typer.Option("--exclude", "-x", metavar="GLOB",
                                    help="Not files matching this glob (repeatable).")]
AllFilesOpt = Annotated[bool,
                        typer.Option("--all-files",
                                     help="Also the copies of the weights in other formats (pickle, TF, Flax, ONNX, "
                                          "GGUF) that are skipped when safetensors exist.")]
JobsOpt = Annotated[int,
                    typer.Option("--jobs", "-j", min=1, max=64,
                                 help="Downloads in flight at once (large files use several for their byte ranges).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
FetchTimeoutOpt = Annotated[float,
                            timeout_option("Seconds a request may wait for an answer or for the next bytes before it "
                                           "is retried.")]


TimeoutOpt = Annotated[float, timeout_option("Seconds to wait for each live source.")]


def _retired_dry_run(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        raise typer.BadParameter("-n no longer means --dry-run (a short flag has one meaning in every command: "
                                 "-n is search's --limit); spell it --dry-run", param_hint="-n")


# -n meant --dry-run here once and --limit in search: one short flag, one meaning (--limit, as
# in `head -n`). The old spelling is refused with the new one named, never silently taken.
RetiredDryRunOpt = Annotated[bool, typer.Option("-n", hidden=True, callback=_retired_dry_run, show_default=False)]


def epilog(examples: "list[str]", closing: str) -> str:
    """A command's help epilog: its examples, indented, then a closing paragraph.

    The closing paragraph is not only words: Typer reads an epilog through
    ``inspect.cleandoc``, which takes away an indent every line after the first shares, so
    examples with nothing unindented after them lost theirs (`search --help` against `pull --help`).
    """
    return "Examples:\n\n" + "\n\n".join(f"  {line}" for line in examples) + f"\n\n{closing}\n"


@contextlib.contextmanager
def reporting(e: Environment) -> Iterator[None]:
    """Run a command body: errors become a message on stderr and their exit code, and the
    library's warnings (``ZoofindWarning``) become ``zoofind: warning:`` lines."""
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(e, warnings.showwarning)
        try:
            yield
        except typer.Exit:
            raise
        except BrokenPipeError:
            # `zoofind search x | head -1` closes the pipe early: not an error worth a word.
            e.discard_stdout()
            raise typer.Exit(0) from None
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one place that maps errors
            if e.debug and e.stderr is not None:
                traceback.print_exc(file=e.stderr)
            d = describe(exc)
            e.error(d)
            raise typer.Exit(d.exit_code) from None


def _warning_printer(e: Environment, others: Any) -> Any:
    """A ``warnings.showwarning`` that prints zoofind's own warnings once each through the
    output layer and hands every other warning to Python's usual display."""
    shown: set[str] = set()

    def show(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if not issubclass(category, ZoofindWarning):
            others(message, category, filename, lineno, file, line)
        elif str(message) not in shown:
            shown.add(str(message))
            e.warn(str(message))

    return show


def ids_from(args: "list[str]") -> list[str]:
    """The ids a command was given, ``-`` replaced by those on stdin (one a line, first column)."""
    # lazy: ops.pull only for the ids a command reads: off search, info and --help start-up
    from ..ops.pull import read_ids

    out: list[str] = []
    for raw in args:
        out.extend(read_ids(sys.stdin) if raw == "-" else [raw])
    return out
