"""The `zoofind` command: a thin Typer layer over the library."""

import os
import sys
from typing import Annotated, Optional

import typer

from .. import __version__

HELP = """Find and fetch pretrained models and deep-learning resources for science.

One ranked search over a bundled catalog (the resources named in Raghu & Schmidt's survey "A Survey of Deep Learning for Scientific Discovery", curated science models, the torchvision and TF Hub indexes) plus the live Hugging Face, torchvision and Kaggle indexes. Works offline from the bundled catalog.

Data goes to stdout; notes, warnings and progress to stderr. Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 4 access denied, 130 interrupted.

Environment: ZOOFIND_OFFLINE, ZOOFIND_CACHE_DIR, ZOOFIND_CACHE_TTL, ZOOFIND_CATALOG_DIR, ZOOFIND_DEBUG, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, KAGGLE_API_TOKEN, KAGGLE_USERNAME/KAGGLE_KEY, NO_COLOR.
"""

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
)


def _version(ctx: typer.Context, value: bool) -> None:
    # Not while a shell completion parses the command line (`zoofind --version <TAB>`).
    if value and not ctx.resilient_parsing:
        sys.stdout.write(f"zoofind {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    pass


from . import completion as _completion  # noqa: E402
from . import frameworks as _frameworks  # noqa: E402
from . import info as _info  # noqa: E402
from . import search as _search  # noqa: E402
from . import sources as _sources  # noqa: E402

for _module in (_search, _info, _frameworks, _sources, _completion):
    _module.register(app)


def main() -> None:
    # A TAB in a shell that loaded `zoofind completion SHELL`'s script runs zoofind with
    # _ZOOFIND_COMPLETE=bash_complete (zsh_, fish_): Click's protocol, answered here before
    # Typer parses anything, since Typer's own handler expects `complete_bash` and, with
    # add_completion=False, has no shell registered.
    if os.environ.get(_completion.COMPLETE_VAR):
        sys.exit(_completion.answer(app))
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("zoofind: interrupted\n")
        sys.exit(130)
