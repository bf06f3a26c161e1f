"""The wheel carries the catalog and the package's other data: `pip install .` from anywhere must find them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_compiled_catalog_and_its_sources(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("zoofind-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("zoofind/_data/catalog.json", "zoofind/_data/records.jsonl", "zoofind/_data/catalog_src/models.toml",
                 "zoofind/_data/catalog_src/resources.toml", "zoofind/_data/catalog_src/tfhub.toml",
                 "zoofind/_data/catalog_src/torchvision.toml", "zoofind/cli/app.py",
                 # the libraries' folders for GitHub release assets, data read at run time
                 "zoofind/hubs/ghrelease/loaders/mace.toml"):
        assert name in names, name
    assert not any(n.startswith(("tests/", ".ci")) for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: typer" in meta and "Requires-Dist: torch" in meta and "extra == 'torchvision'" in meta
