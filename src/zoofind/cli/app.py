"""The `zoofind` command: a thin Typer layer over the library."""

# Ctrl-C must end zoofind with one line and exit code 130 at any moment, and the console
# script imports this module (Typer: ~55 ms) before main()'s try block
# runs. So the first statements here turn an interrupt during that import into the same
# exit; the handler is Python's own again as soon as the import is over.
import os
import signal
import sys

# The line common.reporting() prints for an interrupt inside a command (errors.describe).
INTERRUPTED = "zoofind: error: interrupted\n"


def _exit_interrupted() -> "NoReturn":  # typing is imported below, after the handler is in place
    # A second Ctrl-C while the line is written must not end in a traceback either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write(INTERRUPTED)
    sys.stderr.flush()
    raise SystemExit(130)


def _on_startup_interrupt(signum: int, frame: object) -> None:
    # Not _exit_interrupted(): an exception raised from a signal handler surfaces in whatever code
    # it interrupts, and some code turns even SystemExit into another error (a class body's
    # __set_name__ wraps it in a RuntimeError with a traceback: seen under load during Typer's
    # imports). Nothing is open or written yet while the modules import, so the process ends here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.write(2, INTERRUPTED.encode())
    os._exit(130)


try:
    _previous_handler = signal.signal(signal.SIGINT, _on_startup_interrupt)
except ValueError:  # imported from a thread other than the main one: signals are not ours to handle
    _previous_handler = None

import gc
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any, NoReturn, cast

import typer
from typer.core import TyperGroup

from ..core.version import __version__
from .completion import COMPLETE_VAR, answer

HELP = (
    "Find and fetch pretrained models and deep-learning resources for science.\n\n"
    "One ranked search over a bundled catalog (the resources named in Raghu & Schmidt's survey "
    '"A Survey of Deep Learning for Scientific Discovery", curated science models, the torchvision and TF Hub '
    "indexes) plus the live Hugging Face, torchvision and Kaggle indexes. Works offline from the bundled catalog. "
    "`zoofind pull` downloads models, verified and resumable, into each framework's own cache (Hugging Face, "
    "torch.hub, TF Hub) so they load later with no network; `zoofind lock` pins the exact models and bytes a "
    "study used, for `zoofind pull --lock` anywhere; `zoofind cache` shows and tidies those caches.\n\n"
    "Data goes to stdout; notes, warnings and progress to stderr. Exit codes: 0 ok, 1 failure, 2 usage error, 3 "
    "not found, 4 access denied, 130 interrupted.\n\n"
    "Environment: ZOOFIND_OFFLINE, ZOOFIND_CACHE_DIR, ZOOFIND_CACHE_TTL, ZOOFIND_CATALOG_DIR, ZOOFIND_DEBUG, "
    "HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HOME, HF_HUB_CACHE, TORCH_HOME, TFHUB_CACHE_DIR, KAGGLEHUB_CACHE, "
    "ZOOFIND_SHARED_CACHE, KAGGLE_API_TOKEN, KAGGLE_USERNAME/KAGGLE_KEY, NO_COLOR.\n"
)

# Each command's module and its registration, in the order `--help` lists them. Only the
# command being run is imported and built (Typer builds the Click objects of every
# registered command before running one: ~30 ms for all 14); `--help`, completion and the
# "did you mean" of an unknown command still see every name (_LazyGroup).
COMMANDS = {
    "search": "commands.search:register",
    "info": "commands.info:register",
    "pull": "commands.pull:register",
    "lock": "commands.lock:register",
    "cite": "commands.cite:register",
    "export": "commands.bundle:register_export",
    "import": "commands.bundle:register_import",
    "list-frameworks": "commands.frameworks:register",
    "sources": "commands.sources:register",
    "completion": "completion:register",
    "cache": "commands.cache:register",
}


def build_command(name: str) -> Any:
    """The Click command (or group) ``name``, its module imported and registered on a Typer
    of its own, built by Typer as it would be on the root app (which sets none of the options
    Typer builds commands with: rich_markup_mode, pretty_exceptions_short)."""
    module, _, function = COMMANDS[name].partition(":")
    holder = typer.Typer(callback=_nothing, add_completion=False)
    # __import__ rather than importlib.import_module: the interpreter's import log (-X importtime)
    # sees only the former.
    getattr(__import__(f"{__package__}.{module}", fromlist=[function]), function)(holder)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


def _nothing() -> None:
    pass


class _Commands(MutableMapping[str, Any]):
    """The root group's ``commands``: every name of COMMANDS from the start, each command
    built on first access. Click and Typer read subcommands through ``get_command`` and
    ``list_commands``, and Typer's suggestions through ``commands.keys()``: none builds."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}
        self._names: dict[str, None] = dict.fromkeys(COMMANDS)

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = build_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._names[name] = None
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._names[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _LazyGroup(TyperGroup):
    """The root group, over _Commands: the documented Click pattern of a lazy group
    (``list_commands`` names every command, ``get_command`` builds one)."""

    def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
        lazy = _Commands()
        lazy.update(commands or {})
        # Typed as a dict, but TyperGroup keeps the mapping it is given (as a MutableMapping).
        super().__init__(commands=cast("dict[str, Any]", lazy), **attrs)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)


# add_completion=False: shell completion is the `zoofind completion SHELL` command
# (cli/completion.py) rather than Typer's --install-completion/--show-completion: a
# command is listed and documented like the others, prints the script instead of editing
# rc files behind the user's back, takes the shell as a plain argument rather than guessing
# it, and keeps Typer's completion set-up off every other run.
app = typer.Typer(
    name="zoofind",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=_LazyGroup,
)


def _version(ctx: typer.Context, value: bool) -> None:
    # Not while a shell completion parses the command line (`zoofind --version <TAB>`).
    if value and not ctx.resilient_parsing:
        sys.stdout.write(f"zoofind {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None,
                       typer.Option("--version", callback=_version, is_eager=True,
                                    help="Print the version and exit.")] = None,
) -> None:
    pass


def _running_the_cli() -> bool:
    """Whether this import is the console script's or `python -m zoofind`'s, on its way to main()."""
    started_by = sys.modules.get("__main__")
    spec = getattr(started_by, "__spec__", None)
    if spec is not None:
        return spec.name == "zoofind.__main__"
    # The generated console script (`zoofind`, `zoofind-script.py` on Windows) has no spec.
    return os.path.basename(getattr(started_by, "__file__", "") or "").startswith("zoofind")


# The console script still has a few statements to run before main()'s try block, so there
# the start-up handler stays until main() replaces it; anyone else importing the app (tests,
# completion) gets Python's own handler back now.
if _previous_handler is not None and not _running_the_cli():
    signal.signal(signal.SIGINT, _previous_handler)


def _unreported_interrupt(done: BaseException) -> bool:
    """Whether an exit comes from a KeyboardInterrupt nobody has reported: one that a traceback
    of the exit would still show. Typer's run turns an interrupt that no command's reporting()
    caught (while Click parses, while the root group imports and builds the command it runs,
    before the command's reporting() block) into a silent exit 130, ``raise Exit(130) from e``;
    reporting() says its line and ends the chain, ``from None``."""
    seen: set[int] = set()
    exc: BaseException | None = done
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return False


def main() -> NoReturn:
    # The outer try: a Ctrl-C at any moment until SIGINT is ignored, the few statements after
    # the run included (signal.signal itself raises an interrupt still pending), ends as one.
    code: str | int | None  # SystemExit's: sys.exit prints a str and exits 1
    try:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            # A TAB in a shell that loaded `zoofind completion SHELL`'s script runs zoofind with
            # _ZOOFIND_COMPLETE=bash_complete (zsh_, fish_): Click's protocol, answered here before
            # Typer parses anything, since Typer's own handler expects `complete_bash` and, with
            # add_completion=False, has no shell registered.
            if os.environ.get(COMPLETE_VAR):
                code = answer(app)
            else:
                app()
                code = 0
        except SystemExit as done:
            if _unreported_interrupt(done):
                _exit_interrupted()
            code = done.code
        # The work is done and written: a Ctrl-C while the interpreter shuts down changes nothing.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        _exit_interrupted()
    # Nor would the collections the interpreter runs on its way out, over every object still
    # alive (Typer's ~16k most of them): frozen, they are skipped, ~10 ms of every run (see
    # benchmarks/startup.py's second floor). Files and locks are closed by their `with`
    # blocks, not by a collector.
    gc.freeze()
    sys.exit(code)
