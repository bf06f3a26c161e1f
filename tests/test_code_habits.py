"""The code habits CI holds the source to (README, "Development"): ruff and mypy clean, as
configured in pyproject.toml; lines of at most 120 characters; a ``# noqa`` names its rule and
says why. ruff and mypy are test dependencies (the ``test`` extra), so these never skip."""

from __future__ import annotations

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
