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

#: The modules held to the habits, relative to src/zoofind. For now the ones no helper was
#: moving while the habits came in; widen it to the whole package once those moves are merged.
CHECKED = (
    "__main__.py", "atomic.py", "cache.py", "catalog.py", "cli/__init__.py", "cli/common.py", "cli/completion.py",
    "cli/frameworks.py", "cli/info.py", "cli/search.py", "cli/sources.py", "context.py", "errors.py",
    "fetch/__init__.py", "fetch/engine.py", "fetch/integrity.py", "fetch/locks.py", "fetch/partial.py",
    "frameworks.py", "hubs/__init__.py", "hubs/base.py", "hubs/catalog.py", "hubs/discovery.py", "hubs/hf/api.py",
    "hubs/hf/auth.py", "hubs/hf/mapping.py", "hubs/hf/source.py", "hubs/kaggle/api.py", "hubs/kaggle/auth.py",
    "hubs/kaggle/mapping.py", "hubs/kaggle/source.py", "hubs/spec.py", "hubs/tfhub/source.py",
    "hubs/torchvision/installed.py", "hubs/torchvision/names.py", "hubs/torchvision/registry.py",
    "hubs/torchvision/source.py", "ids.py", "lookup.py", "net/__init__.py", "net/deadline.py", "net/errors.py",
    "net/http.py", "net/probe.py", "net/retry.py", "output.py", "paths.py", "ranking.py", "records.py",
    "redaction.py", "safetext.py", "search_runner.py", "tasks.py", "textindex.py", "units.py", "version.py",
)

MAX_LINE = 120
#: ``# noqa: CODE[, CODE] - why`` (or an en/em dash): the rule it silences and the reason.
NOQA_WITH_REASON = re.compile(r"[#]\s*noqa:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*\s+[-\u2013\u2014]\s+\S")
NOQA = re.compile(r"[#]\s*noqa\b", re.IGNORECASE)


def checked_files() -> list[Path]:
    return [PACKAGE / name for name in CHECKED]


def noqa_without_reason(line: str) -> bool:
    return bool(NOQA.search(line)) and not NOQA_WITH_REASON.search(line)


def test_the_checked_files_exist() -> None:
    # A file moved or renamed must be moved here too, or it would silently leave the check.
    assert [name for name in CHECKED if not (PACKAGE / name).is_file()] == []


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
    # follow-imports=silent: the modules outside CHECKED are read for their types, not judged.
    done = _run("mypy", "--follow-imports=silent", *(str(p.relative_to(ROOT)) for p in checked_files()))
    assert done.returncode == 0, done.stdout + done.stderr
