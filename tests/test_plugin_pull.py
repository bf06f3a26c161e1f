"""A third-party hub (tests/plugins/tinyhub), installed as pip installs one, is searched, pulled,
locked and pulled from its lock through the real CLI: the pull and lock operations name no hub."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from servers.files_server import FileServer
from zoofind.hubs import ENTRY_POINT_GROUP

PLUGINS = Path(__file__).parent / "plugins"
WEIGHTS = bytes(range(256)) * 64
CONFIG = b'{"layers": 2}\n'
FILES = {"weights.bin": WEIGHTS, "config/model.json": CONFIG}


def install(folder: Path) -> str:
    """The dist-info pip leaves (its entry point names ``tinyhub:register``); the package itself is
    read from tests/plugins. Returns the PYTHONPATH that makes both importable."""
    info = folder / "tinyhub-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyhub\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntinyhub = tinyhub:register\n")
    return f"{folder}:{PLUGINS}"


@pytest.fixture
def tinyhub(tmp_path, hermetic):
    index = {"models": [{"name": "axolotl", "description": "Axolotl limb regeneration stages",
                         "files": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                                   for p, b in FILES.items()]}]}
    served = {"/index.json": json.dumps(index).encode(), **{f"/files/axolotl/{p}": b for p, b in FILES.items()}}
    with FileServer(served, missing_status=404) as srv:
        home = hermetic / ".cache" / "tinyhub"
        env = {"PYTHONPATH": install(tmp_path), "TINYHUB_ENDPOINT": srv.url, "TINYHUB_HOME": str(home)}
        yield srv, env, home / "axolotl"


def test_search_and_info_find_the_plugin_hub_model(tinyhub, cli) -> None:
    srv, env, _ = tinyhub
    found = cli("search", "axolotl", "-s", "tinyhub", "--format", "ids", env=env)
    assert found.code == 0, found.stderr
    assert found.stdout.split() == ["tinyhub:axolotl"]
    info = cli("info", "tinyhub:axolotl", "--json", env=env)
    assert info.code == 0, info.stderr
    assert json.loads(info.stdout)["record"]["id"] == "tinyhub:axolotl"


def test_pull_places_verified_files_then_the_marker_and_offline_makes_no_request(tinyhub, cli) -> None:
    srv, env, folder = tinyhub
    ran = cli("pull", "tinyhub:axolotl", "--json", env=env)
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    assert result["path"] == str(folder)
    assert {f["path"]: f["status"] for f in result["files"]} == {p: "downloaded" for p in FILES}
    assert all((folder / p).read_bytes() == b for p, b in FILES.items())
    assert (folder / ".complete").is_file()

    before = srv.count
    offline = cli("pull", "tinyhub:axolotl", "--offline", "--json", env=env)
    assert offline.code == 0, offline.stderr
    files = json.loads(offline.stdout)["results"][0]["files"]
    assert {f["path"]: f["status"] for f in files} == {p: "cached" for p in FILES}
    assert srv.count == before  # zero requests

    missing = cli("pull", "tinyhub:other", "--offline", env=env)
    assert missing.code == 1 and "not in tinyhub's cache" in missing.stderr and "Traceback" not in missing.stderr
    assert srv.count == before


def test_a_damaged_byte_is_refused_with_exit_1_and_nothing_placed(tinyhub, cli) -> None:
    srv, env, folder = tinyhub
    srv.corrupt = {"/files/axolotl/weights.bin"}
    ran = cli("pull", "tinyhub:axolotl", env=env)
    assert ran.code == 1, ran.stderr
    assert "weights.bin" in ran.stderr and "Traceback" not in ran.stderr
    assert not (folder / "weights.bin").exists() and not (folder / ".complete").exists()


def test_lock_then_pull_lock_checks_the_cached_files_against_the_lock(tinyhub, cli, tmp_path) -> None:
    srv, env, folder = tinyhub
    lock = tmp_path / "zoofind.lock"
    wrote = cli("lock", "tinyhub:axolotl", "-o", str(lock), env=env)
    assert wrote.code == 0, wrote.stderr
    text = lock.read_text()
    assert 'id = "tinyhub:axolotl"' in text and hashlib.sha256(WEIGHTS).hexdigest() in text

    before = srv.count
    again = cli("pull", "--lock", str(lock), "--offline", env=env)
    assert again.code == 0, again.stderr
    assert srv.count == before

    (folder / "weights.bin").write_bytes(b"x" + WEIGHTS[1:])  # same size, one byte changed
    changed = cli("pull", "--lock", str(lock), env=env)
    assert changed.code == 1
    assert "weights.bin" in changed.stderr and "not the file the lock records" in changed.stderr
    assert srv.count == before
