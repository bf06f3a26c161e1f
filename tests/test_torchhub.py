"""PyTorch Hub repositories (``torchhub:owner/repo[:ref][/entry]``) through the real CLI, against a local
GitHub API + codeload (tests/servers/github_server.py) and a checkpoint host; torch.hub itself referees
what was placed, with every socket refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.github_server import GitHubServer, zipball
from zoofind.core.tomlread import tomllib

torch = pytest.importorskip("torch")

OWNER, REPO = "lab", "tinynet"
TOKEN = "ghp_testtoken0123456789"

HUBCONF = '''"""A tiny hub."""
import os

dependencies = ["torch"]

import torch
from torch.hub import load_state_dict_from_url

WEIGHTS = "{url}"

# Run only if imported: zoofind must never do that.
if os.environ.get("HUBCONF_SENTINEL"):
    open(os.environ["HUBCONF_SENTINEL"], "w").close()


def tinynet(pretrained=True):
    """A linear layer, 4 -> 2."""
    model = torch.nn.Linear(4, 2)
    if pretrained:
        model.load_state_dict(load_state_dict_from_url(WEIGHTS, progress=False, check_hash=True))
    return model


def _helper():
    return None
'''


def checkpoint() -> bytes:
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(4, 2).state_dict(), buf)
    return buf.getvalue()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    data = checkpoint()
    name = f"tinynet-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    with GitHubServer() as gh, FileServer({f"/weights/{name}": data}) as files:
        files_url = f"{files.url}/weights/{name}"
        gh.add_repo(OWNER, REPO, {"hubconf.py": HUBCONF.format(url=files_url).encode(), "README.md": b"# tiny\n",
                                  "tinynet/__init__.py": b""},
                    tags={"v1.0": {"hubconf.py": HUBCONF.format(url=files_url).encode(), "README.md": b"v1\n"}})
        monkeypatch.setenv("ZOOFIND_GITHUB_ENDPOINT", gh.url)
        monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
        monkeypatch.setenv("HUBCONF_SENTINEL", str(tmp_path / "hubconf-ran"))
        gh.files, gh.checkpoint_name, gh.checkpoint = files, name, data  # type: ignore[attr-defined]
        yield gh


def hub_dir() -> Path:
    return Path(os.environ["TORCH_HOME"]) / "hub"


REFEREE = r"""
import socket, sys, torch
def refused(*a, **k):
    raise OSError("network refused by the test")
socket.socket.connect = refused
socket.create_connection = refused
model = torch.hub.load(sys.argv[1], sys.argv[2], trust_repo=True, skip_validation=True, verbose=False)
want = torch.load(sys.argv[3], weights_only=True)
assert torch.equal(model.weight, want["weight"]) and torch.equal(model.bias, want["bias"]), "not the checkpoint"
print("loaded", type(model).__name__)
"""


def referee(github: str, entry: str, checkpoint_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HUBCONF_SENTINEL"}
    return subprocess.run([sys.executable, "-c", REFEREE, github, entry, str(checkpoint_path)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_pull_lays_the_repository_out_as_torch_hub_does_and_torch_loads_it_with_no_request(hub, cli) -> None:
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}:main/tinynet")
    assert ran.code == 0, ran.stderr
    folder = hub_dir() / f"{OWNER}_{REPO}_main"
    assert ran.stdout == f"torchhub:{OWNER}/{REPO}:main/tinynet\t{folder}\n"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "README.md", "hubconf.py", "tinynet/__init__.py"]
    ckpt = hub_dir() / "checkpoints" / hub.checkpoint_name
    assert ckpt.read_bytes() == hub.checkpoint
    assert "code: torch.hub.load runs this repository's hubconf.py" in ran.stderr
    assert not Path(os.environ["HUBCONF_SENTINEL"]).exists(), "zoofind ran hubconf.py"
    # Nothing half-done beside it: no archive, no staging folder, no partial; no trusted_list without --trust.
    assert sorted(p.name for p in hub_dir().iterdir()) == ["checkpoints", folder.name, folder.name + ".zoofind.json"]
    record = json.loads((hub_dir() / (folder.name + ".zoofind.json")).read_text())
    assert record["commit"] == hub.repos[(OWNER, REPO)].refs["main"] and len(record["archive"]["sha256"]) == 64
    before = hub.count + hub.files.count
    done = referee(f"{OWNER}/{REPO}:main", "tinynet", ckpt)
    assert done.returncode == 0, done.stderr
    assert "loaded Linear" in done.stdout
    assert hub.count + hub.files.count == before


def test_the_token_goes_to_the_api_only_never_to_codeload(hub, cli) -> None:
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}", env={"GITHUB_TOKEN": TOKEN})
    assert ran.code == 0, ran.stderr
    assert hub.requests and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in hub.requests)
    assert hub.codeload.requests and not any(r.authorized for r in hub.codeload.requests)
    assert not any(r.authorized for r in hub.files.requests)
    # No ref: the default branch, said, with the advice to pin it.
    assert "the default branch 'main'" in ran.stderr and f"'{OWNER}/{REPO}:main'" in ran.stderr
    assert (hub_dir() / f"{OWNER}_{REPO}_main" / "hubconf.py").is_file()


def test_trust_only_with_the_flag(hub, cli) -> None:
    assert cli("pull", f"torchhub:{OWNER}/{REPO}:v1.0").code == 0
    assert not (hub_dir() / "trusted_list").exists()
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}:main", "--trust")
    assert ran.code == 0, ran.stderr
    assert (hub_dir() / "trusted_list").read_text() == f"{OWNER}_{REPO}\n"
    assert cli("pull", f"torchhub:{OWNER}/{REPO}:main", "--trust").code == 0
    assert (hub_dir() / "trusted_list").read_text() == f"{OWNER}_{REPO}\n"  # once


def test_info_reads_hubconf_as_text(hub, cli) -> None:
    ran = cli("info", f"torchhub:{OWNER}/{REPO}", "--json")
    assert ran.code == 0, ran.stderr
    record = json.loads(ran.stdout)["record"]
    assert record["extra"]["entrypoints"] == ["tinynet"]
    assert record["extra"]["dependencies"] == ["torch"]
    assert record["extra"]["checkpoints"] == [hub.checkpoint_name]
    assert record["extra"]["code"] == "torch.hub.load runs this repository's hubconf.py"
    assert record["remote_code"] is True and "pin it" in record["notes"]
    assert not Path(os.environ["HUBCONF_SENTINEL"]).exists()
    table = cli("info", f"torchhub:{OWNER}/{REPO}:v1.0/tinynet")
    assert table.code == 0 and "torch.hub.load runs this repository's hubconf.py" in table.stdout


def test_offline_pull_of_a_cached_repository_makes_no_request(hub, cli) -> None:
    assert cli("pull", f"torchhub:{OWNER}/{REPO}:main").code == 0
    before = hub.count + hub.codeload.count + hub.files.count
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}:main", "--offline")
    assert ran.code == 0, ran.stderr
    assert hub.count + hub.codeload.count + hub.files.count == before
    missing = cli("pull", f"torchhub:{OWNER}/{REPO}:v1.0", "--offline")
    assert missing.code != 0 and "not in torch.hub's cache" in missing.stderr and "Traceback" not in missing.stderr


def test_rate_limit_gives_the_reset_time(hub, cli) -> None:
    hub.remaining = 0
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}:main")
    assert ran.code == 1, ran.stderr
    assert "rate limit of 60 requests an hour is used up (HTTP 403)" in ran.stderr
    assert "resets at" in ran.stderr and "GITHUB_TOKEN" in ran.stderr and "Traceback" not in ran.stderr
    assert not (hub_dir() / f"{OWNER}_{REPO}_main").exists()
    hub.limit_status = 429
    assert "(HTTP 429)" in cli("info", f"torchhub:{OWNER}/{REPO}").stderr


def hostile(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.create_system = 3
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


@pytest.mark.parametrize(("archive", "said"), [
    (hostile({"lab-tinynet-0000000/hubconf.py": b"", "../../evil.py": b"x"}), "would land outside its folder"),
    (hostile({"lab-tinynet-0000000/hubconf.py": b""}, link="lab-tinynet-0000000/passwd"), "symbolic link"),
    (hostile({"a/hubconf.py": b"", "b/x.py": b""}), "not a repository archive"),
])
def test_hostile_archives_are_refused_and_nothing_is_placed(hub, cli, archive: bytes, said: str) -> None:
    hub.archives[(OWNER, REPO)] = archive
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}:main")
    assert ran.code != 0 and said in ran.stderr and "Traceback" not in ran.stderr
    assert sorted(p.name for p in hub_dir().iterdir() if p.name != "checkpoints") == []
    assert not (Path(os.environ["HOME"]).parent / "evil.py").exists()


def test_an_archive_past_the_cap_is_refused_and_nothing_is_kept(hub, cli) -> None:
    files = {"hubconf.py": b"def f():\n    pass\n", "big.bin": os.urandom(3_000_000)}
    hub.add_repo(OWNER, REPO, files)
    ran = cli("pull", f"torchhub:{OWNER}/{REPO}:main", env={"ZOOFIND_MAX_REPO_ARCHIVE": "1MiB"})
    assert ran.code != 0 and "larger than the 1.0 MB (1048576 bytes) allowed; refused" in ran.stderr, ran.stderr
    assert "ZOOFIND_MAX_REPO_ARCHIVE=" in ran.stderr and "Traceback" not in ran.stderr
    assert sorted(p.name for p in hub_dir().iterdir() if not p.name.startswith(".zoofind-lock")) == []


def test_lock_pins_the_commit_and_archive_and_pull_lock_reproduces_it(hub, cli, tmp_path: Path) -> None:
    lockfile = tmp_path / "study.lock"
    ran = cli("lock", f"torchhub:{OWNER}/{REPO}:main/tinynet", "-o", str(lockfile))
    assert ran.code == 0, ran.stderr
    text = lockfile.read_text()
    sha = hub.repos[(OWNER, REPO)].refs["main"]
    assert f'commit = "{sha}"' in text and 'revision = "main"' in text and "[models.archive]" in text
    assert f"checkpoints/{hub.checkpoint_name}" in text and f"{OWNER}_{REPO}_main/hubconf.py" in text
    # The branch moves on; the lock still brings back the locked commit.
    hub.add_repo(OWNER, REPO, {"hubconf.py": b"def other():\n    pass\n"})
    assert cli("cache", "rm", f"torchhub:{OWNER}/{REPO}:main", "--yes").code == 0
    assert not (hub_dir() / f"{OWNER}_{REPO}_main").exists()
    again = cli("pull", "--lock", str(lockfile))
    assert again.code == 0, again.stderr
    assert "tinynet" in (hub_dir() / f"{OWNER}_{REPO}_main" / "hubconf.py").read_text()
    before = hub.count
    assert cli("pull", "--lock", str(lockfile), "--offline").code == 0
    assert hub.count == before
    (hub_dir() / f"{OWNER}_{REPO}_main" / "README.md").write_text("changed\n")
    bad = cli("pull", "--lock", str(lockfile), "--offline")
    assert bad.code != 0 and "README.md" in bad.stderr and "not the file the lock records" in bad.stderr


def test_cache_ls_and_rm(hub, cli) -> None:
    assert cli("pull", f"torchhub:{OWNER}/{REPO}:main").code == 0
    ls = cli("cache", "ls", "--json")
    models = [m for m in json.loads(ls.stdout)["results"] if m["source"] == "torchhub"]
    assert [m["id"] for m in models] == [f"torchhub:{OWNER}/{REPO}:main"]
    assert models[0]["revisions"][0].startswith(hub.repos[(OWNER, REPO)].refs["main"])
    path = cli("cache", "path", f"torchhub:{OWNER}/{REPO}:main")
    assert path.code == 0 and path.stdout.strip() == str(hub_dir() / f"{OWNER}_{REPO}_main")
    assert cli("cache", "verify", f"torchhub:{OWNER}/{REPO}:main").code == 0
    rm = cli("cache", "rm", f"torchhub:{OWNER}/{REPO}", "--yes")
    assert rm.code == 0, rm.stderr
    assert sorted(p.name for p in hub_dir().iterdir()) == ["checkpoints"]


def test_export_and_import_carry_the_repository_and_its_checkpoint(hub, cli, tmp_path: Path, monkeypatch) -> None:
    lockfile, bundle = tmp_path / "study.lock", tmp_path / "study.tar"
    assert cli("lock", f"torchhub:{OWNER}/{REPO}:main/tinynet", "-o", str(lockfile)).code == 0
    ran = cli("export", str(bundle), "--lock", str(lockfile))
    assert ran.code == 0, ran.stderr
    elsewhere = tmp_path / "elsewhere"
    imported = cli("import", str(bundle), env={"TORCH_HOME": str(elsewhere)})
    assert imported.code == 0, imported.stderr
    folder = elsewhere / "hub" / f"{OWNER}_{REPO}_main"
    assert (folder / "hubconf.py").read_bytes() == (hub_dir() / folder.name / "hubconf.py").read_bytes()
    assert (elsewhere / "hub" / "checkpoints" / hub.checkpoint_name).read_bytes() == hub.checkpoint
    monkeypatch.setenv("TORCH_HOME", str(elsewhere))
    done = referee(f"{OWNER}/{REPO}:main", "tinynet", elsewhere / "hub" / "checkpoints" / hub.checkpoint_name)
    assert done.returncode == 0, done.stderr


def test_bad_ids_are_usage_errors(cli) -> None:
    for bad in ("torchhub:justone", "torchhub:a/b/c/d", "torchhub:a/../b", "torchhub:o/r:ref/1entry"):
        ran = cli("pull", bad)
        assert ran.code == 2 and "Traceback" not in ran.stderr, (bad, ran.stderr)


def test_zipball_matches_what_github_serves() -> None:
    data = zipball("o", "r", "a" * 40, {"x/y.py": b"1"})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.comment == b"a" * 40
        assert [i.filename for i in zf.infolist()] == ["o-r-aaaaaaa/", "o-r-aaaaaaa/x/", "o-r-aaaaaaa/x/y.py"]


def test_the_snapshot_names_only_entry_points_the_repositories_hubconf_defines(cli) -> None:
    doc = tomllib.loads((Path(__file__).parent.parent / "catalog" / "torchhub.toml").read_text())
    backed = [e for e in doc["entry"] if "hubconf_entrypoints" in e["extra"]]
    assert {e["extra"]["github"] for e in backed} >= {
        "facebookresearch/dinov2", "facebookresearch/detr", "ultralytics/yolov5", "intel-isl/MiDaS",
        "snakers4/silero-models", "facebookresearch/pytorchvideo"}
    for e in backed:
        named = e["id"].rsplit("/", 1)[1]
        assert named in e["extra"]["entrypoints"], e["id"]
        assert set(e["extra"]["entrypoints"]) <= set(e["extra"]["hubconf_entrypoints"]), e["id"]
        assert "hubconf.py at github.com/" in e["evidence"] and e["remote_code"] is True
    assert len(doc["entry"]) == doc["meta"]["count"] >= 35
    found = cli("search", "--offline", "dinov2", "-s", "torchhub")
    assert found.code == 0 and found.stdout.startswith("torchhub:facebookresearch/dinov2/dinov2_vits14\t"), found.stdout
