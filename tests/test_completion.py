"""Shell completion: `zoofind completion SHELL` and the completion requests its scripts send.

Everything runs the real `zoofind` console script, as a shell would: a request is a run
with _ZOOFIND_COMPLETE=<shell>_complete and the command line in COMP_WORDS/COMP_CWORD.
Where bash, zsh or fish is installed, the scripts are also loaded into the real shell.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ESM_8M = "hf:facebook/esm2_t6_8M_UR50D"
SCRIPT = Path(sys.executable).with_name("zoofind")
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="the zoofind console script is not installed")


def bash_request(cli, words: str, cword: int | None = None) -> list[str]:
    """What the bash script receives for the command line ``words`` (cursor at word ``cword``)."""
    if cword is None:
        cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    ran = cli(env={"_ZOOFIND_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert ran.code == 0, ran.stderr
    assert ran.stderr == ""
    lines = [line for line in ran.stdout.splitlines() if line]
    assert all(line.startswith("plain,") for line in lines), lines
    return [line[len("plain,"):] for line in lines]


def flat(text: str) -> str:
    """Help or error text without Rich's box drawing and line wrapping."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}


# --- the command


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _zoofind_completion zoofind"),
        ("zsh", "#compdef zoofind"),
        ("fish", "complete --no-files --command zoofind"),
    ],
)
def test_completion_prints_the_script(cli, shell, marker):
    ran = cli("completion", shell)
    assert ran.code == 0, ran.stderr
    assert "_ZOOFIND_COMPLETE" in ran.stdout
    assert f"_ZOOFIND_COMPLETE={shell}_complete" in ran.stdout
    assert marker in ran.stdout


def test_unknown_shell_is_a_usage_error(cli):
    ran = cli("completion", "tcsh")
    assert ran.code == 2
    assert ran.stdout == ""
    assert "'tcsh' is not a supported shell; choose bash, zsh or fish" in flat(ran.stderr)
    assert "Traceback" not in ran.stderr


def test_missing_shell_is_a_usage_error(cli):
    ran = cli("completion")
    assert ran.code == 2
    assert ran.stdout == ""


def test_help_explains_how_to_install(cli):
    ran = cli("completion", "--help", env={"COLUMNS": "100"})
    assert ran.code == 0, ran.stderr
    text = flat(ran.stdout)
    assert 'eval "$(zoofind completion bash)"' in text
    assert "~/.bashrc" in text
    assert 'eval "$(zoofind completion zsh)"' in text
    assert "~/.zshrc" in text
    assert "zoofind completion fish > ~/.config/fish/completions/zoofind.fish" in text


def test_the_command_is_listed(cli):
    ran = cli("--help", env={"COLUMNS": "100"})
    assert ran.code == 0
    assert "completion" in ran.stdout


# --- completion requests (bash protocol)


def test_commands(cli):
    assert bash_request(cli, "zoofind se") == ["search"]
    assert set(bash_request(cli, "zoofind ")) >= {"search", "info", "list-frameworks", "sources", "completion"}


def test_options(cli):
    offered = bash_request(cli, "zoofind search --so")
    assert set(offered) == {"--sort", "--source"}


def test_model_ids_from_the_catalog(cli):
    offered = bash_request(cli, "zoofind info hf:facebook/esm2")
    assert ESM_8M in offered
    assert len(offered) >= 3
    assert all(o.startswith("hf:facebook/esm2") for o in offered)


def test_torchvision_ids_include_the_default_weights_alias(cli):
    offered = bash_request(cli, "zoofind info torchvision:res")
    assert "torchvision:resnet50" in offered
    assert "torchvision:resnet50.IMAGENET1K_V2" in offered
    assert all(o.startswith("torchvision:res") for o in offered)


def test_nothing_matches(cli):
    assert bash_request(cli, "zoofind info hf:no-such-owner/") == []


def test_bash_split_at_colons_is_undone(cli):
    # With bash's default COMP_WORDBREAKS, `hf:facebook/esm2_t6` arrives as three words,
    # and bash replaces only the part after the colon.
    assert bash_request(cli, "zoofind info hf : facebook/esm2_t6", 4) == [ESM_8M.partition(":")[2]]
    assert ESM_8M.partition(":")[2] in bash_request(cli, "zoofind info hf :", 3)
    # Options after a split id still complete.
    assert "--offline" in bash_request(cli, f"zoofind info hf : {ESM_8M.partition(':')[2]} --off", 5)


def test_option_values(cli):
    assert bash_request(cli, "zoofind search --format j") == ["json", "jsonl"]
    assert bash_request(cli, "zoofind info x -f ") == ["table", "json", "jsonl", "tsv", "ids"]
    # `--format=js`, which bash splits at `=`.
    assert bash_request(cli, "zoofind search --format = js", 4) == ["json", "jsonl"]
    assert bash_request(cli, "zoofind completion ") == ["bash", "zsh", "fish"]


def test_eager_version_option_prints_nothing_while_completing(cli):
    assert "zoofind 0.1.0" not in bash_request(cli, "zoofind --version ")


# --- zsh and fish requests


def test_zsh_request(cli):
    ran = cli(env={"_ZOOFIND_COMPLETE": "zsh_complete", "COMP_WORDS": "zoofind info hf:facebook/esm2_t6", "COMP_CWORD": "2"})
    assert ran.code == 0, ran.stderr
    lines = ran.stdout.rstrip("\n").split("\n")
    triples = [lines[i:i + 3] for i in range(0, len(lines), 3)]
    assert len(triples) == 1
    kind, value, description = triples[0]
    assert kind == "plain"
    assert value.replace("\\:", ":") == ESM_8M  # _describe needs the colon escaped
    assert "ESM-2" in description

    ran = cli(env={"_ZOOFIND_COMPLETE": "zsh_complete", "COMP_WORDS": "zoofind sea", "COMP_CWORD": "1"})
    assert ran.code == 0
    assert ran.stdout.split("\n")[:2] == ["plain", "search"]


def test_fish_request(cli):
    ran = cli(env={"_ZOOFIND_COMPLETE": "fish_complete", "COMP_WORDS": "zoofind info torchvision:resnet1", "COMP_CWORD": "torchvision:resnet1"})
    assert ran.code == 0, ran.stderr
    values = [line.split("\t")[0] for line in ran.stdout.splitlines()]
    assert values and all(v.startswith("plain,torchvision:resnet1") for v in values)
    assert "plain,torchvision:resnet18" in values

    ran = cli(env={"_ZOOFIND_COMPLETE": "fish_complete", "COMP_WORDS": "zoofind se", "COMP_CWORD": "se"})
    assert ran.code == 0
    assert [line.split("\t")[0] for line in ran.stdout.splitlines()] == ["plain,search"]


def test_unsupported_request(cli):
    ran = cli(env={"_ZOOFIND_COMPLETE": "tcsh_complete", "COMP_WORDS": "zoofind ", "COMP_CWORD": "1"})
    assert ran.code == 1
    assert ran.stdout == ""
    assert "Traceback" not in ran.stderr


def test_completing_never_loads_the_network_stack(cli):
    # The interpreter's import log (PYTHONPROFILEIMPORTTIME) lists every module the request loaded.
    ran = cli(env={
        "_ZOOFIND_COMPLETE": "bash_complete", "COMP_WORDS": "zoofind info hf:facebook/esm2", "COMP_CWORD": "2",
        "PYTHONPROFILEIMPORTTIME": "1", "HF_ENDPOINT": "http://127.0.0.1:9", "ZOOFIND_TFHUB_ENDPOINT": "http://127.0.0.1:9",
    })
    assert ran.code == 0
    assert ESM_8M in ran.stdout
    loaded = {line.rsplit("|", 1)[-1].strip() for line in ran.stderr.splitlines() if line.startswith("import time:")}
    assert "zoofind.cli.completion" in loaded
    for module in ("httpx", "huggingface_hub", "http.client", "urllib.request", "rich"):
        assert module not in loaded


def test_normal_runs_do_not_import_click(cli):
    # Click (the public package, used for the scripts) is imported only for completion.
    ran = cli("--version", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0
    loaded = {line.rsplit("|", 1)[-1].strip() for line in ran.stderr.splitlines() if line.startswith("import time:")}
    assert "click" not in loaded
    assert "click.shell_completion" not in loaded


# --- the scripts in the real shells


def without_shell(name: str):
    """Skip where the shell is missing on a developer's machine; CI installs them all (.ci/run),
    so there a missing shell fails instead of skipping."""
    return pytest.mark.skipif(shutil.which(name) is None and not os.environ.get("CI"), reason=f"{name} is not installed")


@needs_script
@without_shell("bash")
def test_bash_script_loads():
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", "source <(zoofind completion bash) && complete -p zoofind"],
        capture_output=True, text=True, env=shell_env(), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "_zoofind_completion" in done.stdout


@needs_script
@without_shell("zsh")
def test_zsh_script_loads():
    done = subprocess.run(
        ["zsh", "-f", "-c", 'autoload -Uz compinit && compinit -u -D && eval "$(zoofind completion zsh)" && print -r -- $_comps[zoofind]'],
        capture_output=True, text=True, env=shell_env(), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "_zoofind_completion"


@needs_script
@without_shell("fish")
def test_fish_script_completes():
    # `complete -C` runs fish's real completion for a command line, our function included.
    done = subprocess.run(
        ["fish", "--no-config", "-c", f'zoofind completion fish | source; complete -C "zoofind info {ESM_8M[:-8]}"'],
        capture_output=True, text=True, env=shell_env(), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == [ESM_8M]


def _tab(argv: list[str], setup: str, line: str, expect: str, timeout: float = 30) -> str:
    """Type ``line`` and a TAB into an interactive shell in a pseudo-terminal; what it echoes."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: become the shell
        try:
            os.environ.update(shell_env(), PS1="PROMPT> ", PROMPT="PROMPT> ", TERM="dumb")
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    seen = b""
    pos = 0

    def read_until(marker: bytes) -> bool:
        """Read until ``marker`` appears after the previous marker."""
        nonlocal seen, pos
        end = time.monotonic() + timeout
        while seen.find(marker, pos) < 0:
            if time.monotonic() > end:
                return False
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    return False
        pos = seen.find(marker, pos) + len(marker)
        return True

    try:
        assert read_until(b"PROMPT> "), seen
        os.write(fd, f'{setup}; echo "LOAD""ED"\n'.encode())
        assert read_until(b"LOADED\r\n"), seen
        assert read_until(b"PROMPT> "), seen
        start = pos
        os.write(fd, line.encode() + b"\t")
        read_until(expect.encode())
        return seen[start:].decode(errors="replace")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


@needs_script
@without_shell("bash")
def test_tab_in_interactive_bash_completes_an_id():
    # bash's default COMP_WORDBREAKS split the id at ':'; the line must still end up whole.
    echoed = _tab(["bash", "--norc", "--noprofile", "-i"], "source <(zoofind completion bash)", "zoofind info hf:facebook/esm2_t6", ESM_8M)
    assert f"zoofind info {ESM_8M}" in echoed


@needs_script
@without_shell("zsh")
def test_tab_in_interactive_zsh_completes_an_id():
    setup = 'autoload -Uz compinit && compinit -u -D && eval "$(zoofind completion zsh)"'
    echoed = _tab(["zsh", "-f", "-i"], setup, "zoofind info hf:facebook/esm2_t6", ESM_8M)
    assert f"zoofind info {ESM_8M}" in echoed


def test_source_and_sort_values_complete(cli, tmp_path):
    assert set(bash_request(cli, "zoofind search x --source ")) == {"bioimageio", "catalog", "ghrelease", "hf", "kaggle", "keras", "tfhub",
                                                                   "torchhub", "torchvision", "zenodo"}
    assert bash_request(cli, "zoofind search x -s tf") == ["tfhub"]
    assert bash_request(cli, "zoofind search x --sort d") == ["downloads"]
