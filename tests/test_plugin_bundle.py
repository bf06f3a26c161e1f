"""A third-party hub's bundles: tinyhub (``tests/plugins/tinyhub``, installed as pip would install it)
locked by hand, exported from one cache home and imported into a fresh one through the real CLI."""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import run_cli
from zoofind.hubs import ENTRY_POINT_GROUP, registry

PLUGINS = Path(__file__).parent / "plugins"
FILES = {"weights.bin": b"\x00\x01tiny weights" * 5000, "config/model.json": b'{"layers": 2}\n'}


def install(tmp_path: Path) -> dict[str, str]:
    info = tmp_path / "site" / "tinyhub-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyhub\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntinyhub = tinyhub:register\n")
    return {"PYTHONPATH": f"{PLUGINS}:{tmp_path / 'site'}"}


def cached_model(home: Path, name: str = "tiny") -> Path:
    """A model as tinyhub's pull leaves one: its files, then ``.complete``."""
    folder = home / name
    for path, data in FILES.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    (folder / ".complete").write_text("")
    return folder


def write_lock(path: Path, name: str = "tiny") -> Path:
    files = "".join(f'[[models.files]]\npath = "{p}"\nsize = {len(d)}\nsha256 = "{hashlib.sha256(d).hexdigest()}"\n'
                    for p, d in FILES.items())
    path.write_text(f'schema = 1\n[[models]]\nid = "tinyhub:{name}"\n{files}')
    return path


def test_a_plugin_model_is_exported_and_imported_into_fresh_caches(tmp_path: Path) -> None:
    env = install(tmp_path)
    here, there = tmp_path / "here", tmp_path / "there"
    cached_model(here)
    lock = write_lock(tmp_path / "tiny.lock")
    bundle = tmp_path / "tiny.tar"

    ran = run_cli("export", "--lock", str(lock), str(bundle), env={**env, "TINYHUB_HOME": str(here)})
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"tinyhub:tiny\t{here / 'tiny'}\n"
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert names[0] == "zoofind-bundle.toml" and len(names) == 3

    ran = run_cli("import", str(bundle), env={**env, "TINYHUB_HOME": str(there)})
    assert ran.code == 0, ran.stderr
    folder = there / "tiny"
    assert ran.stdout == f"tinyhub:tiny\t{folder}\n"
    for path, data in FILES.items():
        assert (folder / path).read_bytes() == data
    marker = (folder / ".complete").stat().st_mtime_ns
    assert all((folder / p).stat().st_mtime_ns <= marker for p in FILES)  # the marker came last
    assert sorted(p.name for p in there.iterdir()) == ["tiny"]  # no staging folder left behind

    again = run_cli("import", str(bundle), "--json", env={**env, "TINYHUB_HOME": str(there)})
    assert again.code == 0, again.stderr
    assert '"status": "present"' in again.stdout and '"placed"' not in again.stdout


def test_a_partial_plugin_model_is_not_exported(tmp_path: Path) -> None:
    """A folder without tinyhub's marker is no model: export says it is not in the cache (exit 1)."""
    env = install(tmp_path)
    cached_model(tmp_path / "here")
    (tmp_path / "here" / "tiny" / ".complete").unlink()
    lock = write_lock(tmp_path / "tiny.lock")
    ran = run_cli("export", "--lock", str(lock), str(tmp_path / "t.tar"),
                  env={**env, "TINYHUB_HOME": str(tmp_path / "here")})
    assert ran.code == 1 and "tiny: weights.bin is not in the cache" in ran.stderr, ran.stderr
    assert not (tmp_path / "t.tar").exists()


@pytest.fixture
def tinyhub_registered(monkeypatch: pytest.MonkeyPatch):
    """tinyhub in this process's registry."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    tinyhub = importlib.import_module("tinyhub")
    registry.names()  # the built-ins first, so a later discovery does not drop the plugin
    tinyhub.register(registry)
    yield
    registry.unregister("tinyhub")
    for name in [m for m in sys.modules if m == "tinyhub" or m.startswith("tinyhub.")]:
        del sys.modules[name]


def test_the_plugin_bundle_ability_through_the_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   tinyhub_registered: None) -> None:
    """The same round trip in-process (on any branch): export_bundle / import_bundle with the plugin's placement."""
    import io

    from zoofind import export_bundle, import_bundle
    from zoofind.core.context import Context

    here, there = tmp_path / "here", tmp_path / "there"
    cached_model(here)
    lock = write_lock(tmp_path / "tiny.lock")
    out = io.BytesIO()
    exported = export_bundle(lock, out, ctx=Context.from_env(offline=True,
                                                             environ={**os.environ, "TINYHUB_HOME": str(here)}))
    assert exported.members == 2 and exported.models[0].path == str(here / "tiny")
    out.seek(0)
    imported = import_bundle(out, ctx=Context.from_env(offline=True,
                                                       environ={**os.environ, "TINYHUB_HOME": str(there)}))
    assert imported.exit_code == 0 and imported.models[0].path == str(there / "tiny")
    assert [f.status for f in imported.models[0].files] == ["placed", "placed"]
    assert all((there / "tiny" / p).read_bytes() == d for p, d in FILES.items())
    assert (there / "tiny" / ".complete").exists()
