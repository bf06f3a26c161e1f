"""The code habits CI holds the source to (README, "Development"): ruff and mypy clean, as
configured in pyproject.toml; lines of at most 120 characters; a ``# noqa`` names its rule and
says why; an import inside a function says, in a ``# lazy:`` comment, which start-up it keeps
light. ruff and mypy are test dependencies (the ``test`` extra), so these never skip."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "zoofind"


def checked_files() -> list[Path]:
    """Every module of the package: a new one is held to the habits without being listed."""
    return sorted(PACKAGE.rglob("*.py"))


MAX_LINE = 120
#: ``# noqa: CODE[, CODE] - why`` (or an en/em dash): the rule it silences and the reason.
NOQA_WITH_REASON = re.compile(r"[#]\s*noqa:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*\s+[-\u2013\u2014]\s+\S")
NOQA = re.compile(r"[#]\s*noqa\b", re.IGNORECASE)


def noqa_without_reason(line: str) -> bool:
    return bool(NOQA.search(line)) and not NOQA_WITH_REASON.search(line)


def test_the_whole_package_is_checked() -> None:
    # The glob must see the package's modules at all (a moved package would leave nothing checked).
    names = {p.relative_to(PACKAGE).as_posix() for p in checked_files()}
    assert {"__init__.py", "cli/app.py", "ops/pull.py", "hubs/hf/pull.py"} <= names and len(names) > 100


@pytest.mark.parametrize(("line", "bad"), [
    ("x = 1  # noqa", True),
    ("x = 1  # noqa: E501", True),
    ("x = 1  # noqa:E501", True),
    ("except Exception:  # noqa: BLE001", True),
    ("except Exception:  # noqa: BLE001 - one plugin must not take zoofind down", False),
    ("import gc  # noqa: E402, F401 - after the Ctrl-C handler", False),
    ("x = 1  # noqa: F821 \u2014 typing is not imported yet", False),
    ("x = 1  # no quarrel here", False),
])
def test_a_noqa_needs_its_rule_and_a_reason(line: str, bad: bool) -> None:
    assert noqa_without_reason(line) is bad


def test_every_noqa_says_why() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in checked_files()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if noqa_without_reason(line)]
    assert found == [], "a # noqa names its rule and says why: # noqa: BLE001 - reason"


def test_no_line_is_longer_than_120_characters() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {len(line)} characters"
             for path in checked_files()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if len(line) > MAX_LINE]
    assert found == []


#: ``# lazy: why``: the start-up path an import inside a function is kept off, and what it would cost there.
LAZY_REASON = re.compile(r"[#]\s*lazy:\s*\S")
#: The package facade: importing on first use is its design (``__getattr__`` and each API function).
LAZY_BY_DESIGN = {"__init__.py"}
#: Edited on another branch while the rule came in (issue #16): hoist or mark their imports there,
#: then take them out. The test fails on a new offender, and on an entry that no longer offends.
UNMARKED_TODAY: set[str] = set()


def unmarked_imports(text: str) -> list[int]:
    """The lines of the imports inside a function or method that carry no ``# lazy:`` reason, on one
    of their own lines or on the line above the run of imports they belong to."""
    lines = text.splitlines()
    nodes = {n.lineno: n for fn in ast.walk(ast.parse(text))
             if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
             for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)}
    ends = {n.end_lineno: n for n in nodes.values()}

    def marked(node: ast.stmt) -> bool:
        own = range(node.lineno - 1, node.end_lineno or node.lineno)
        if any(LAZY_REASON.search(lines[i]) for i in own):
            return True
        above = ends.get(node.lineno - 1)  # the import just above, in the same run
        if above is not None:
            return marked(above)
        return node.lineno >= 2 and bool(LAZY_REASON.search(lines[node.lineno - 2]))

    return sorted(line for line, node in nodes.items() if not marked(node))


@pytest.mark.parametrize(("code", "unmarked"), [
    ("import os\ndef f():\n    return os\n", []),
    ("def f():\n    import httpx\n", [2]),
    ("def f():\n    import httpx  # lazy: search --offline start-up (httpx ~80 ms)\n", []),
    ("def f():\n    # lazy: search --offline start-up\n    import httpx\n    import rich\n", []),
    ("def f():\n    # lazy: search --offline start-up\n    import httpx\n\n    import rich\n", [5]),
    ("def f():\n    # lazy:\n    import httpx\n", [3]),
    ("def f():\n    # httpx is slow\n    import httpx\n", [3]),
    ("class C:\n    def m(self):\n        from .x import (\n            a,\n        )  # lazy: cli --help start-up\n", []),
    ("def f():\n    def g():\n        import httpx\n", [3]),
])
def test_an_import_in_a_function_needs_a_lazy_reason(code: str, unmarked: list[int]) -> None:
    assert unmarked_imports(code) == unmarked


def test_every_import_inside_a_function_says_which_start_up_it_keeps_light() -> None:
    # Lazy imports only where start-up needs them (issue #16); everywhere else, at the top of the file.
    found = {p.relative_to(PACKAGE).as_posix(): unmarked_imports(p.read_text(encoding="utf-8"))
             for p in checked_files() if p.relative_to(PACKAGE).as_posix() not in LAZY_BY_DESIGN}
    offenders = {name for name, lines in found.items() if lines}
    assert {f"{name}:{line}" for name in offenders - UNMARKED_TODAY for line in found[name]} == set(), (
        "hoist it to the top of the module, or say which start-up it keeps light: # lazy: <path> (<what> ~N ms)")
    assert UNMARKED_TODAY - offenders == set(), "fixed: take it out of UNMARKED_TODAY"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "--no-cache", "--output-format", "concise",
                *(str(p.relative_to(ROOT)) for p in checked_files()))
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing() -> None:
    # Every file under src/zoofind, as pyproject.toml's `files` names them to a bare `mypy`.
    done = _run("mypy", *(str(p.relative_to(ROOT)) for p in checked_files()))
    assert done.returncode == 0, done.stdout + done.stderr
