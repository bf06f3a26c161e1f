"""`zoofind completion SHELL`, and the answers to the shell's completion requests.

The scripts are Click's (``click.shell_completion``): at each TAB they run ``zoofind``
with ``_ZOOFIND_COMPLETE=bash_complete`` (``zsh_complete``, ``fish_complete``) and the
command line in ``COMP_WORDS``/``COMP_CWORD``. ``app.main()`` hands such a run to
``answer()`` before Typer parses anything: Typer 0.28 builds its commands on a private
copy of Click and its own completion handler reads the instruction the other way round
(``complete_bash``) and, with ``add_completion=False``, knows no shell at all.

Click's classes write the scripts and format the answers; only ``get_completions`` is
ours (``_TyperTree``): Click's resolver tells groups, options and arguments apart with
``isinstance`` against its own classes, which Typer's are not, so ours walks the command
tree with the public methods and attributes every Click command has (``make_context``,
``resolve_command``, ``get_params``, ``shell_complete``, ``param_type_name``, ...).

Start-up: this module is imported on every run (the ``completion`` command and the
completers are registered with the app) but imports only what is already loaded; Click
itself and the catalog are imported when a completion is asked for.
"""

import os
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.main import get_command

from .completers import SHELLS, complete_shell

PROG_NAME = "zoofind"
#: The variable Click's scripts set; Click derives it from the program name.
COMPLETE_VAR = "_ZOOFIND_COMPLETE"

INSTALL = {
    "bash": 'eval "$(zoofind completion bash)"',
    "zsh": 'eval "$(zoofind completion zsh)"',
    "fish": "zoofind completion fish > ~/.config/fish/completions/zoofind.fish",
}

HELP = f"""Print the shell completion script for bash, zsh or fish.

It completes commands, options and the model ids of the bundled catalog (zoofind info hf:facebook/esm<TAB>), \
offline: completing never touches the network.

Install it once, then open a new shell:

bash, in ~/.bashrc:
  {INSTALL["bash"]}

zsh, in ~/.zshrc after compinit:
  {INSTALL["zsh"]}

fish, run once:
  {INSTALL["fish"]}
"""

EPILOG = """Loaded on first use instead (with bash-completion; in zsh with fpath=(~/.zfunc $fpath) before compinit):

  zoofind completion bash > ~/.local/share/bash-completion/completions/zoofind

  zoofind completion zsh > ~/.zfunc/_zoofind
"""

# --- the command


def _check_shell(value: str | None) -> str | None:
    if value is not None and value not in SHELLS:
        raise typer.BadParameter(f"{value!r} is not a supported shell; choose bash, zsh or fish")
    return value


def completion(
    ctx: typer.Context,
    shell: Annotated[
        str,
        typer.Argument(metavar="SHELL", help="bash, zsh or fish.", callback=_check_shell,
                       autocompletion=complete_shell),
    ],
) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    # lazy: common: off --version start-up
    from .common import env, reporting

    e = env()
    with reporting(e):
        # e.write: a closed or full stdout is an OutputError (exit 1), said plainly.
        e.write(script(shell, ctx.find_root().command))


def script(shell: str, cli: Any = None) -> str:
    """The completion script for ``shell`` (Click's, for the ``zoofind`` command)."""
    return _completer_class(shell)(cli, {}, PROG_NAME, COMPLETE_VAR).source()


def register(app: typer.Typer) -> None:
    app.command(help=HELP, epilog=EPILOG)(completion)


# --- answering a completion request


def answer(app: typer.Typer) -> int:
    """Answer the request in ``_ZOOFIND_COMPLETE`` (``<shell>_complete`` or ``<shell>_source``);
    the exit status for the process."""
    instruction = os.environ.get(COMPLETE_VAR, "")
    shell, _, action = instruction.partition("_")
    try:
        if shell not in SHELLS or action not in ("complete", "source"):
            sys.stderr.write(f"zoofind: unsupported completion request {COMPLETE_VAR}={instruction!r} (shells: "
                             f"{', '.join(SHELLS)})\n")
            return 1

        comp = _completer_class(shell)(get_command(app), {}, PROG_NAME, COMPLETE_VAR)
        text = comp.source() if action == "source" else comp.complete() + "\n"
        out = sys.stdout.buffer  # bytes: no newline translation, whatever the locale
        out.write(text.encode("utf-8", "replace"))
        out.flush()
        return 0
    except Exception:  # noqa: BLE001 - never a traceback in the middle of the user's command line
        if os.environ.get("ZOOFIND_DEBUG"):
            traceback.print_exc()
        return 1


def _completer_class(shell: str) -> type:
    """Click's completion class for ``shell`` with our tree walk (and, for bash, word rejoining)."""
    # lazy: click.shell_completion (~20 ms) only for a completion request: off every command's start-up
    from click.shell_completion import get_completion_class

    base = get_completion_class(shell) if shell in SHELLS else None
    if base is None:
        raise ValueError(f"unsupported shell {shell!r}")
    mixins = (_BashWords, _TyperTree) if shell == "bash" else (_TyperTree,)
    return type(f"Zoofind{base.__name__}", (*mixins, base), {})


class _TyperTree:
    """``ShellComplete.get_completions`` for a Typer app, through public Click methods only.

    Mirrors ``click.shell_completion``'s resolution: follow the subcommands named in the
    complete args, then let the option being given a value, else the first argument still
    missing, else the (sub)command itself offer completions. Chained groups are not handled
    (zoofind has none).
    """

    cli: Any
    prog_name: str

    def get_completions(self, args: list[str], incomplete: str) -> list:
        args = list(args)
        ctx = _resolve_context(self.cli, self.prog_name, args)
        obj, incomplete = _resolve_incomplete(ctx, args, incomplete)
        return obj.shell_complete(ctx, incomplete)


def _is_group(command: Any) -> bool:
    return callable(getattr(command, "resolve_command", None))


def _option_names(param: Any) -> list[str]:
    return [*param.opts, *param.secondary_opts]


def _resolve_context(cli: Any, prog_name: str, args: list[str]) -> Any:
    """The context of the innermost command the complete args name, parsed resiliently."""
    command, name, parent, rest = cli, prog_name, None, list(args)
    while True:
        if not _is_group(command):
            return command.make_context(name, rest, parent=parent, resilient_parsing=True)
        own, rest = _split_at_subcommand(command, rest)
        ctx = command.make_context(name, own, parent=parent, resilient_parsing=True)
        if not rest:
            return ctx
        sub_name, sub, rest = command.resolve_command(ctx, rest)
        if sub is None:
            return ctx
        command, name, parent = sub, sub_name, ctx


def _split_at_subcommand(group: Any, args: list[str]) -> tuple[list[str], list[str]]:
    """(the group's own options, the subcommand name and what follows it)."""
    valued = {
        opt
        for p in group.params
        if p.param_type_name == "option" and not p.is_flag and not p.count
        for opt in _option_names(p)
    }
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[:i], args[i + 1:]
        if arg[:1] != "-" or arg == "-":
            break
        i += 2 if arg in valued else 1
    return args[:i], args[i:]


def _start_of_option(ctx: Any, value: str) -> bool:
    if not value:
        return False
    prefixes = {
        opt[:1] for p in ctx.command.get_params(ctx) if p.param_type_name == "option" for opt in _option_names(p)
    }
    return value[:1] in (prefixes or {"-"})


def _is_incomplete_option(ctx: Any, args: list[str], param: Any) -> bool:
    """Whether ``param`` is an option whose value is being typed."""
    if param.param_type_name != "option" or param.is_flag or param.count:
        return False
    last_option = None
    for index, arg in enumerate(reversed(args)):
        if index + 1 > param.nargs:
            break
        if _start_of_option(ctx, arg):
            last_option = arg
            break
    return last_option is not None and last_option in param.opts


def _is_incomplete_argument(ctx: Any, param: Any) -> bool:
    """Whether ``param`` is an argument that can still take a value."""
    if param.param_type_name != "argument":
        return False
    value = ctx.params.get(param.name)
    source = ctx.get_parameter_source(param.name)
    return (
        param.nargs == -1
        or getattr(source, "name", None) != "COMMANDLINE"
        or (param.nargs > 1 and isinstance(value, (tuple, list)) and len(value) < param.nargs)
    )


def _resolve_incomplete(ctx: Any, args: list[str], incomplete: str) -> tuple[Any, str]:
    """The command or parameter that completes ``incomplete``, and the word to complete."""
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and _start_of_option(ctx, incomplete):
        name, _, incomplete = incomplete.partition("=")
        args.append(name)
    if "--" not in args and _start_of_option(ctx, incomplete):
        return ctx.command, incomplete
    params = ctx.command.get_params(ctx)
    for param in params:
        if _is_incomplete_option(ctx, args, param):
            return param, incomplete
    for param in params:
        if _is_incomplete_argument(ctx, param):
            return param, incomplete
    return ctx.command, incomplete


class _BashWords:
    """Undo bash's split of the command line at ``:`` and ``=``.

    bash splits ``COMP_WORDS`` at ``COMP_WORDBREAKS``, which hold ``:`` and ``=`` by
    default: ``zoofind info hf:facebook/esm`` arrives as ``... hf : facebook/esm`` and
    ``--format=js`` as ``--format = js``. The words are joined back before completing, and
    since bash then replaces only the part after the last ``:``, the answers leave out the
    part before it (what bash-completion's ``__ltrim_colon_completions`` does). When
    ``COMP_WORDBREAKS`` has no ``:`` the id arrives whole and the answers are whole ids.
    """

    _kept = ""

    def get_completion_args(self) -> tuple[list[str], str]:
        # lazy: click.shell_completion (~20 ms) only for a completion request: off every command's start-up
        from click.shell_completion import split_arg_string

        words = split_arg_string(os.environ["COMP_WORDS"])
        cword = int(os.environ["COMP_CWORD"])
        words, cword, self._kept = _rejoin_bash_words(words, cword)
        try:
            incomplete = words[cword]
        except IndexError:
            incomplete = ""
        return words[1:cword], incomplete

    def format_completion(self, item: Any) -> str:
        if self._kept and item.value.startswith(self._kept):
            item.value = item.value[len(self._kept):]
        return super().format_completion(item)  # type: ignore[misc]


def _rejoin_bash_words(words: list[str], cword: int) -> tuple[list[str], int, str]:
    """(words with ``a : b`` joined to ``a:b`` and ``--opt = v`` to ``--opt v``, the index of the
    word being completed, the part of that word before bash's last split at ``:``)."""
    out: list[str] = []
    glued: set = set()
    current = None
    glue = False
    for i, word in enumerate(words):
        if word == ":" and len(out) > 1:
            out[-1] += ":"
            glued.add(len(out) - 1)
            glue = True
        elif word == "=" and out and out[-1][:1] == "-" and not glue:
            if i == cword:
                current = len(out)  # the value after `--opt=`: a new, empty word
            continue
        elif glue:
            out[-1] += word
            glue = False
        else:
            out.append(word)
        if i == cword:
            current = len(out) - 1
    if current is None:
        current = len(out)
    kept = ""
    if current < len(out) and current in glued:
        word = out[current]
        kept = word[: word.rfind(":") + 1]
    return out, current, kept
