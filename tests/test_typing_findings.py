"""Bugs the type checker found when it came in (tests/test_code_habits.py keeps it running)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zoofind.catalog.compile import read_file
from zoofind.core.errors import CatalogError


def zoofind_command() -> list[str]:
    script = Path(sys.executable).with_name("zoofind")
    return [str(script)] if script.exists() else [sys.executable, "-m", "zoofind"]


def test_completion_to_a_closed_stdout_is_said_plainly() -> None:
    # zoofind completion bash >&-  (it wrote to sys.stdout, None here: "unexpected error: AttributeError")
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *zoofind_command(), "completion", "bash"],
                          check=False, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1 and "could not write the output: stdout is closed" in done.stderr
    assert "AttributeError" not in done.stderr and "unexpected error" not in done.stderr


def test_completion_to_a_full_disk_is_an_output_failure() -> None:
    # zoofind completion zsh > /dev/full
    with open("/dev/full", "w") as full:
        done = subprocess.run([*zoofind_command(), "completion", "zsh"],
                              check=False, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert "could not write the output to stdout: No space left on device" in done.stderr
    assert "unexpected error" not in done.stderr and "Traceback" not in done.stderr


def test_a_catalog_file_is_read_on_python_3_10(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # requires-python is >=3.10, but tomllib came in 3.11: there, tomli (the same parser) reads TOML.
    pytest.importorskip("tomli")  # the test extra has it; a 3.10 install gets it from the dependencies
    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    monkeypatch.setitem(sys.modules, "tomllib", None)  # `import tomllib` raises, as on 3.10
    monkeypatch.delitem(sys.modules, "zoofind.core.tomlread", raising=False)  # chosen again, as 3.10 would
    path = tmp_path / "mine.toml"
    path.write_text('[meta]\nlayer = "user"\n\n[[entry]]\nid = "catalog:mine"\nname = "Mine"\n', encoding="utf-8")
    meta, entries = read_file(path)
    assert meta == {"layer": "user"} and entries == [{"id": "catalog:mine", "name": "Mine"}]
    path.write_text("[[entry]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"not valid TOML: .*line 1"):
        read_file(path)


# A fresh interpreter made to look like Python 3.10 (no tomllib), so every import of it is judged.
AS_PYTHON_3_10 = """
import sys
sys.version_info = (3, 10, 14, "final", 0)
sys.modules["tomllib"] = None  # `import tomllib` raises, as on 3.10
"""

LOCK_TEXT = """schema = 1
zoofind = "0"
created = 2026-01-01T00:00:00Z

[[models]]
id = "hf:owner/name"
revision = "main"
commit = "0123456789abcdef0123456789abcdef01234567"

[[models.files]]
path = "config.json"
size = 2
sha256 = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
blob = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
"""


def test_a_lock_and_a_bundle_manifest_are_read_on_python_3_10() -> None:
    # mypy (python_version 3.10) found `import tomllib` in the lock and bundle readers: on 3.10
    # `pull --lock`, `export` and `import` ended in ModuleNotFoundError.
    pytest.importorskip("tomli")
    code = AS_PYTHON_3_10 + f"""
from zoofind.ops import lockfile
from zoofind.ops.bundle.manifest import manifest_text, read_manifest
lock = lockfile.loads({LOCK_TEXT!r})
assert read_manifest(manifest_text(lock), "m") == lock
print([m.id for m in lock.models])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['hf:owner/name']\n"
