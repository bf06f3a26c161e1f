"""The root command builds only the command being run, and still shows every command to
`--help`, shell completion and the "did you mean" of an unknown command."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from zoofind.cli import app as app_module
from zoofind.cli.app import COMMANDS, app

# The command modules (cli/completion.py and cli/common.py are shared helpers every command imports).
COMMAND_MODULES = {f"zoofind.cli.{spec.partition(':')[0]}" for spec in COMMANDS.values()} - {"zoofind.cli.completion"}


def loaded_modules(stderr: str) -> set[str]:
    """The modules a run imported, from the interpreter's import log (PYTHONPROFILEIMPORTTIME)."""
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_the_table_names_every_registered_command() -> None:
    # A command module added without its row in COMMANDS would be missing from zoofind.
    eager = typer.Typer(callback=lambda: None)
    for spec in dict.fromkeys(COMMANDS.values()):
        module, _, function = spec.partition(":")
        getattr(__import__(f"zoofind.cli.{module}", fromlist=[function]), function)(eager)
    from zoofind.cli.commands import bundle

    bundle.register(typer.Typer())  # the module's own register still registers both
    assert sorted(typer.main.get_command(eager).commands) == sorted(COMMANDS)


def test_a_search_imports_no_other_command(cli) -> None:
    ran = cli("search", "protein language model", "--offline", "--format", "ids", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0, ran.stderr
    loaded = loaded_modules(ran.stderr)
    assert "zoofind.cli.commands.search" in loaded
    assert loaded & COMMAND_MODULES == {"zoofind.cli.commands.search"}


@pytest.mark.parametrize("path", [("info",), ("export",), ("cache", "ls"), ("list-frameworks",), ("completion",)])
def test_a_commands_help_imports_only_its_module(cli, path: tuple[str, ...]) -> None:
    ran = cli(*path, "--help", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0, ran.stderr
    own = "zoofind.cli." + COMMANDS[path[0]].partition(":")[0]
    assert loaded_modules(ran.stderr) & COMMAND_MODULES == ({own} & COMMAND_MODULES)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the commands built, in order."""
    names: list[str] = []
    real = app_module.build_command

    def recording(name: str):
        names.append(name)
        return real(name)

    monkeypatch.setattr(app_module, "build_command", recording)
    return names


def test_running_one_command_builds_only_it(built: list[str]) -> None:
    result = CliRunner().invoke(app, ["export", "--help"])
    assert result.exit_code == 0, result.output
    assert built == ["export"]  # not even `import`, from the same module
    result = CliRunner().invoke(app, ["search", "resnet", "--offline", "--format", "ids", "-n", "1"])
    assert result.exit_code == 0, result.output
    assert built == ["export", "search"] and result.output.startswith("torchvision:")


def test_root_help_lists_every_command_in_order(built: list[str]) -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
    listed = re.findall(r"^│ ([a-z-]+) {2,}\S", shown.partition("─ Commands ─")[2], flags=re.MULTILINE)
    assert listed == list(COMMANDS)
    assert sorted(built) == sorted(COMMANDS)


def test_no_arguments_shows_the_help_with_every_command(cli) -> None:
    ran = cli(env={"COLUMNS": "200"})
    assert ran.code == 2  # Typer's no_args_is_help: the help, as a usage error
    for name in COMMANDS:
        assert re.search(rf"^│ {name} ", ran.stdout, flags=re.MULTILINE), name


def test_completion_offers_every_command(cli) -> None:
    ran = cli(env={"_ZOOFIND_COMPLETE": "bash_complete", "COMP_WORDS": "zoofind ", "COMP_CWORD": "1"})
    assert ran.code == 0 and ran.stderr == ""
    assert ran.stdout.split() == [f"plain,{name}" for name in COMMANDS]
    ran = cli(env={"_ZOOFIND_COMPLETE": "bash_complete", "COMP_WORDS": "zoofind cache ", "COMP_CWORD": "2"})
    assert ran.stdout.split() == ["plain,ls", "plain,verify", "plain,rm", "plain,prune", "plain,path"]


@pytest.mark.parametrize("typo, meant", [("serch", "search"), ("imprt", "import"), ("frameworks", "list-frameworks")])
def test_an_unknown_command_gets_a_suggestion_and_builds_nothing(built: list[str], typo: str, meant: str) -> None:
    result = CliRunner().invoke(app, [typo], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert f"No such command '{typo}'. Did you mean '{meant}'?" in result.output
    assert built == []


def test_an_unknown_subcommand_of_cache_gets_a_suggestion(cli) -> None:
    ran = cli("cache", "lss", env={"COLUMNS": "200"})
    assert ran.code == 2 and ran.stdout == ""
    assert "No such command 'lss'. Did you mean 'ls'?" in ran.stderr and "Traceback" not in ran.stderr
