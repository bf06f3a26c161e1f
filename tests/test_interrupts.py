"""Ctrl-C at any moment: `zoofind` exits 130 with one line on stderr and no traceback, whether the
signal comes while it imports its commands, while it parses, or while it waits for a slow Hub.

The signal is sent to the real console script at many delays after it starts. The first
milliseconds of a process are CPython's and the installer's, not zoofind's: until Python
installs its handler the signal simply kills the process (no output; a shell shows 130), and
while CPython imports `site`, the generated script runs `import re` or `import zoofind` imports
`typing`, a KeyboardInterrupt is printed by Python before any of zoofind's command-line code has
run, or while the command-line module's first statement imports `signal` (which it needs to
install its handler). From then on, every outcome must be 130 and one line:
checked exactly while it imports Typer (where the traceback used to come from) and while a
search waits for the Hub, and, in process, at each moment of Typer's run where Typer itself would
turn the interrupt into a silent exit 130 (where the empty stderr came from once the command was
imported inside that run).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.hf_server import HubServer

# Through the whole start-up: the search reaches the Hub ~400-550 ms after it starts on a loaded
# two-core machine compiling every module from source (PYTHONDONTWRITEBYTECODE=1), sooner with
# bytecode caches.
DELAYS_MS = (0, 5, 10, 20, 40, 80, 120, 160, 200, 250, 300, 400, 500)
INTERRUPTED = "zoofind: error: interrupted\n"


@pytest.fixture
def slow_hub(monkeypatch: pytest.MonkeyPatch):
    """A Hub that holds every answer 30 s, so a search is still running whenever the signal comes."""
    with HubServer(delay=30) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


def search_command() -> list[str]:
    return ["search", "esm2", "--source", "hf", "--timeout", "60", "--refresh"]


def interrupt(after: float, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Start `zoofind search` against the slow Hub, send SIGINT ``after`` seconds later, collect its end."""
    proc = subprocess.Popen(real_zoofind() + search_command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        # CPython itself can swallow a very early interrupt (seen in CI: "Failed checking if argv[0]
        # is an import path entry", then start-up goes on): as a user would, press Ctrl-C again. By
        # now zoofind's command-line code runs, so this one must end it with its one line.
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        # What CPython printed for the first one comes before zoofind's line for the second.
        assert proc.returncode == 130 and err.endswith(INTERRUPTED) and out == "", err
        return proc.returncode, out, INTERRUPTED
    return proc.returncode, out, err


def test_ctrl_c_while_waiting_for_a_slow_hub_exits_130_with_one_line(slow_hub) -> None:
    proc = subprocess.Popen(real_zoofind() + search_command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not slow_hub.log() and time.monotonic() < deadline:  # the Hub has been asked
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err, out) == (130, INTERRUPTED, "")


def real_zoofind() -> list[str]:
    script = Path(sys.executable).with_name("zoofind")
    return [str(script)] if script.exists() else [sys.executable, "-m", "zoofind"]


def zoofind_frames(stderr: str) -> list[str]:
    """The traceback frames in zoofind's own package, as 'zoofind/cli/app.py' (with ':import signal'
    when the frame is the command-line module's first statement, which cannot guard itself)."""
    out = []
    for m in re.finditer(r'File "[^"]*?/(zoofind/[^"]+\.py)", line \d+[^\n]*\n\s*([^\n]*)', stderr):
        first = m.group(1) == "zoofind/cli/app.py" and m.group(2).strip() == "import signal"
        out.append(m.group(1) + (":import signal" if first else ""))
    return out


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
def test_ctrl_c_during_start_up_exits_130_with_one_line(slow_hub, delay_ms) -> None:
    code, out, err = interrupt(delay_ms / 1000)
    if code == 130:
        assert (err, out) == (INTERRUPTED, "")
    elif code == -signal.SIGINT and err == "":
        pass  # killed before Python had installed its handler: nothing ran, nothing printed
    else:
        # Caught by Python before zoofind's command-line code ran (see the module's docstring). What
        # CPython reports then is its own: a KeyboardInterrupt, or (seen once under load, an interrupt
        # inside an import of the standard library) another exception raised while it unwound.
        assert "KeyboardInterrupt" in err or "Traceback" in err, err
        # Before zoofind's first guarded statement: `import zoofind` itself, or the import of
        # `signal` that the command-line module needs before it can install its handler.
        assert all(frame in ("zoofind/__init__.py", "zoofind/cli/app.py:import signal") for frame in zoofind_frames(err)), err


@pytest.mark.parametrize("delay_ms", (0, 5, 20))
def test_ctrl_c_while_the_cli_imports_typer_exits_130_with_one_line(slow_hub, delay_ms) -> None:
    # `python -X importtime` writes a line to stderr as each module finishes importing: once one
    # of Typer's modules is done, the CLI module is in the middle of its own imports.
    import threading

    script = real_zoofind()
    script = script if len(script) == 1 else ["-m", "zoofind"]
    proc = subprocess.Popen([sys.executable, "-X", "importtime", *script, *search_command()],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    typer_loaded = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if re.search(r"\|\s+typer\.", line):
                typer_loaded.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert typer_loaded.wait(30), "".join(lines)
    time.sleep(delay_ms / 1000)
    proc.send_signal(signal.SIGINT)
    out = proc.stdout.read()
    proc.wait(timeout=30)
    reader.join(timeout=10)
    said = "".join(line for line in lines if not line.startswith("import time:"))
    assert (proc.returncode, said, out) == (130, INTERRUPTED, "")


# -- in process: an interrupt exactly at each moment of a run -----------------------------------
# Typer's own handler turns a KeyboardInterrupt raised anywhere in its run that no command's
# reporting() caught (Click parsing the options, the root group importing and building the one
# command it runs, the command before its reporting() block) into a silent exit 130. Here the
# interrupt is raised exactly there, in the console script's main(), with no timing involved.

@pytest.fixture
def main_in_process(monkeypatch: pytest.MonkeyPatch):
    """zoofind's main() with the search command line, its SIGINT handler restored afterwards."""
    import gc

    from zoofind.cli.app import main

    monkeypatch.setattr(sys, "argv", ["zoofind", *search_command()])
    # The command's module is imported by the run itself, as in the console script.
    monkeypatch.delitem(sys.modules, "zoofind.cli.commands.search", raising=False)
    before = signal.getsignal(signal.SIGINT)
    yield main
    signal.signal(signal.SIGINT, before)
    gc.unfreeze()


def _raise_interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def _interrupt_at(moment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    import typer.main

    if moment == "importing the command's module":
        real_import = builtins.__import__

        def importing(name: str, *args: object, **kwargs: object) -> object:
            if name == "zoofind.cli.commands.search":
                raise KeyboardInterrupt
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", importing)
    elif moment == "Typer building the command":
        real_get_command = typer.main.get_command
        from zoofind.cli.app import app

        def get_command(typer_instance: typer.Typer) -> object:
            if typer_instance is not app:  # the root's own build goes on; the command's is interrupted
                raise KeyboardInterrupt
            return real_get_command(typer_instance)

        monkeypatch.setattr(typer.main, "get_command", get_command)
    elif moment == "Click checking an option":
        import zoofind.cli.common

        monkeypatch.setattr(zoofind.cli.common, "check_timeout", _raise_interrupt)
    elif moment == "the command before its reporting() block":
        from zoofind.cli.render.output import Environment

        monkeypatch.setattr(Environment, "from_system", _raise_interrupt)
    else:
        raise AssertionError(moment)


@pytest.mark.parametrize("moment", ["importing the command's module", "Typer building the command",
                                    "Click checking an option", "the command before its reporting() block"])
def test_ctrl_c_at_each_moment_typer_runs_exits_130_with_one_line(main_in_process, monkeypatch, capsys, moment) -> None:
    _interrupt_at(moment, monkeypatch)
    with pytest.raises(SystemExit) as done:
        main_in_process()
    captured = capsys.readouterr()
    assert (done.value.code, captured.err, captured.out) == (130, INTERRUPTED, "")


def test_ctrl_c_pending_when_the_run_is_over_exits_130_with_one_line(main_in_process, monkeypatch, capsys) -> None:
    # signal.signal raises an interrupt still pending when it is called: here the one main()
    # makes to ignore SIGINT once the run is over (it used to end in a traceback).
    real_signal = signal.signal
    pending = [True]

    def set_handler(signum: int, handler: object) -> object:
        if handler is signal.SIG_IGN and pending:
            pending.clear()
            raise KeyboardInterrupt
        return real_signal(signum, handler)

    monkeypatch.setattr(sys, "argv", ["zoofind", "--version"])
    monkeypatch.setattr(signal, "signal", set_handler)
    with pytest.raises(SystemExit) as done:
        main_in_process()
    captured = capsys.readouterr()
    assert (done.value.code, captured.err, captured.out.startswith("zoofind ")) == (130, INTERRUPTED, True)
