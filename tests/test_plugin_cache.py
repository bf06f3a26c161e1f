"""A third-party hub's cache, through the real CLI: the tinyhub plugin (tests/plugins/tinyhub)
installed as pip leaves one, its models listed, verified, located, removed and pruned by the
same loop as the built-ins' (no list of hubs in zoofind names it).

The cache folder is laid out here by hand, as tinyhub's pull leaves it: ``<home>/<name>/``
with its files and, written last, ``.complete`` holding JSON of each file's path -> sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from zoofind.hubs import ENTRY_POINT_GROUP

PLUGINS = Path(__file__).resolve().parent / "plugins"
OLD = 978307200.0  # 2001-01-01


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, str]:
    """tinyhub installed (its package on PYTHONPATH, a dist-info naming its entry point) and its cache home."""
    site = tmp_path / "site"
    info = site / "tinyhub-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyhub\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntinyhub = tinyhub:register\n")
    return {"PYTHONPATH": os.pathsep.join((str(site), str(PLUGINS))), "TINYHUB_HOME": str(tmp_path / "tinyhome")}


def place(env: dict[str, str], name: str, files: dict[str, bytes], *, when: float | None = None) -> Path:
    """A model as tinyhub's pull leaves it: the files, then the marker with their sha256."""
    folder = Path(env["TINYHUB_HOME"]) / name
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    (folder / ".complete").write_text(json.dumps({rel: hashlib.sha256(d).hexdigest() for rel, d in files.items()}))
    if when is not None:
        for p in (*folder.rglob("*"), folder):
            os.utime(p, (when, when))
    return folder


FILES = {"weights.bin": b"\x01" * 3000, "config/model.json": b'{"layers": 2}'}


def test_cache_ls_lists_a_plugin_hubs_models_with_size_and_last_use(tiny, cli) -> None:
    folder = place(tiny, "alpha", FILES, when=OLD)
    (Path(tiny["TINYHUB_HOME"]) / "half").mkdir()  # a pull not finished: no marker, not a model
    (Path(tiny["TINYHUB_HOME"]) / "half" / "weights.bin").write_bytes(b"x")

    ran = cli("cache", "ls", "--source", "tinyhub", "--json", env=tiny)
    assert ran.code == 0, ran.stderr
    [m] = json.loads(ran.stdout)["results"]
    marker = (folder / ".complete").stat().st_size
    assert (m["id"], m["source"], m["path"], m["tier"]) == ("tinyhub:alpha", "tinyhub", str(folder), "local")
    assert m["size"] == 3000 + len(FILES["config/model.json"]) + marker
    assert m["last_used"] == OLD

    table = cli("cache", "ls", env=tiny)
    assert table.code == 0, table.stderr
    assert "tinyhub:alpha" in table.stdout and "1 model(s)" in table.stderr

    bad = cli("cache", "ls", "--source", "nohub", env=tiny)
    assert bad.code == 2 and "tinyhub" in bad.stderr  # the choices come from the registry


def test_cache_verify_catches_one_damaged_byte_against_the_plugins_manifest(tiny, cli) -> None:
    folder = place(tiny, "alpha", FILES)
    good = cli("cache", "verify", "tinyhub:alpha", env=tiny)
    assert (good.code, good.stdout) == (0, ""), good.stderr
    assert "checked 2 file(s)" in good.stderr and "all good" in good.stderr

    data = bytearray((folder / "weights.bin").read_bytes())
    data[1234] ^= 0xFF
    (folder / "weights.bin").write_bytes(bytes(data))
    (folder / "config" / "model.json").unlink()
    bad = cli("cache", "verify", env=tiny)
    assert bad.code == 1, bad.stderr
    assert bad.stdout.splitlines() == [f"tinyhub:alpha\t{folder / 'config' / 'model.json'}\tmissing",
                                       f"tinyhub:alpha\t{folder / 'weights.bin'}\tsha256 mismatch"]
    assert "2 problem(s) in 1" in bad.stderr


def test_cache_path_names_the_plugin_models_folder(tiny, cli) -> None:
    folder = place(tiny, "alpha", FILES)
    ran = cli("cache", "path", "tinyhub:alpha", env=tiny)
    assert (ran.code, ran.stdout, ran.stderr) == (0, f"{folder}\n", "")
    missing = cli("cache", "path", "tinyhub:beta", env=tiny)
    assert missing.code == 3 and "tinyhub:beta is not in any cache" in missing.stderr and not missing.stdout


def test_cache_rm_removes_a_plugin_model_marker_first(tiny, cli) -> None:
    folder = place(tiny, "alpha", FILES)
    keep = place(tiny, "beta", {"weights.bin": b"b" * 10})
    dry = cli("cache", "rm", "tinyhub:alpha", "--dry-run", env=tiny)
    assert dry.code == 0, dry.stderr
    assert dry.stdout.splitlines() == [str(folder / ".complete"), str(folder)]  # the marker first
    assert folder.is_dir()

    ran = cli("cache", "rm", "tinyhub:alpha", "--yes", env=tiny)
    assert ran.code == 0, ran.stderr
    assert not folder.exists() and keep.is_dir()
    listed = cli("cache", "ls", "--format", "ids", env=tiny)
    assert listed.stdout == "tinyhub:beta\n"


def test_cache_prune_unused_for_evicts_only_the_old_plugin_model(tiny, cli) -> None:
    old = place(tiny, "alpha", FILES, when=OLD)
    new = place(tiny, "beta", {"weights.bin": b"b" * 10})
    ran = cli("cache", "prune", "--unused-for", "30d", "--yes", env=tiny)
    assert ran.code == 0, ran.stderr
    assert "removing tinyhub:alpha" in ran.stderr
    assert not old.exists() and new.is_dir()
