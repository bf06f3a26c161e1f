"""`zoofind lock` and `zoofind pull --lock`: the models a study used, pinned and fetched again exactly.

Against the local Hub (hf_server.py), a download.pytorch.org-style file server and a local
tfhub.dev; huggingface_hub referees the Hugging Face cache a locked pull leaves.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from servers.files_server import FileServer
from servers.tfhub_server import TfhubServer

REPO = "zoofind-lab/lockable"
MB = 1024 * 1024
FILES = {
    "config.json": b'{"model_type": "esm"}\n',
    "model.safetensors": hashlib.shake_256(b"v1").digest(2 * MB),
    "pytorch_model.bin": hashlib.shake_256(b"bin").digest(MB),
}
TV = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"
TV_FILE = "resnet18_fbgemm_16fa66dd.pth"  # the quantized names carry no hash prefix: any bytes stand in
TV_BYTES = hashlib.shake_256(b"tv").digest(300_000)
HANDLE = "google/yamnet/1"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hub(hf_hub):
    hf_hub.add_repo(REPO, FILES, library_name="transformers")
    return hf_hub


@pytest.fixture
def torch_org(monkeypatch: pytest.MonkeyPatch):
    with FileServer({f"/models/quantized/{TV_FILE}": TV_BYTES}) as srv:
        monkeypatch.setenv("ZOOFIND_TORCHVISION_ENDPOINT", srv.url + "/models")
        yield srv


@pytest.fixture
def tfhub(monkeypatch: pytest.MonkeyPatch):
    with TfhubServer() as srv:
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", srv.url)
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(Path(os.environ["HOME"]) / "tfhub-cache"))
        srv.add_model(HANDLE)
        yield srv


def hub_cache() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def wipe_caches() -> None:
    for folder in (hub_cache(), Path(os.environ["XDG_CACHE_HOME"]) / "torch", Path(os.environ.get("TFHUB_CACHE_DIR", "/nonexistent"))):
        shutil.rmtree(folder, ignore_errors=True)


def test_lock_pins_the_commit_and_every_file_and_pull_lock_brings_back_exactly_that_after_main_moved(hub, cli, tmp_path) -> None:
    lock_file = tmp_path / "study.lock"
    ran = cli("lock", f"hf:{REPO}", "-o", str(lock_file))
    assert ran.code == 0, ran.stderr
    first = hub.repo(REPO).branches["main"]
    assert ran.stdout == f"hf:{REPO}\t{first}\n"
    assert f"wrote {lock_file}" in ran.stderr and "zoofind pull --lock" in ran.stderr
    data = tomllib.loads(lock_file.read_text())
    assert data["schema"] == 1 and data["zoofind"] and data["created"]
    (model,) = data["models"]
    assert model["id"] == f"hf:{REPO}" and model["commit"] == first and model["revision"] == "main"
    files = {f["path"]: f for f in model["files"]}
    # The pickle copy of the safetensors weights is not part of the pinned set (pull's default choice).
    assert sorted(files) == ["config.json", "model.safetensors"]
    for path, f in files.items():
        assert f["size"] == len(FILES[path]) and f["sha256"] == sha(FILES[path])
    cfg = FILES["config.json"]
    assert files["config.json"]["blob"] == hashlib.sha1(b"blob %d\0" % len(cfg) + cfg).hexdigest()
    assert files["model.safetensors"]["blob"] == sha(FILES["model.safetensors"])

    # The repo moves on; another machine (an empty cache) pulls the lock and gets the old bytes.
    hub.add_repo(REPO, {"model.safetensors": hashlib.shake_256(b"v2").digest(2 * MB)})
    wipe_caches()
    hub.clear()
    again = cli("pull", "--lock", str(lock_file), "--json")
    assert again.code == 0, again.stderr
    (res,) = json.loads(again.stdout)["results"]
    assert res["commit"] == first and Path(res["path"]).name == first
    assert (Path(res["path"]) / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert not [r.path for r in hub.requests if r.path.startswith("/api/models")], "a locked pull asks no metadata"
    check = subprocess.run(
        [sys.executable, "-c",
         "import huggingface_hub as h, json\n"
         f"p = h.snapshot_download({REPO!r}, revision={first!r}, local_files_only=True)\n"
         "info = h.scan_cache_dir()\n"
         "print(json.dumps({'p': p, 'warnings': [str(w) for w in info.warnings]}))"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout) == {"p": res["path"], "warnings": []}


def test_pull_lock_with_everything_cached_works_offline_with_zero_requests(hub, torch_org, tfhub, cli, tmp_path) -> None:
    lock_file = tmp_path / "zoofind.lock"
    ran = cli("lock", f"hf:{REPO}", TV, f"tfhub:{HANDLE}", "-o", str(lock_file))
    assert ran.code == 0, ran.stderr
    models = {m["id"]: m for m in tomllib.loads(lock_file.read_text())["models"]}
    assert models[TV]["files"] == [{"path": TV_FILE, "size": len(TV_BYTES), "sha256": sha(TV_BYTES)}]
    tf = models[f"tfhub:{HANDLE}"]
    assert len(tf["archive"]["sha256"]) == 64 and tf["archive"]["size"] > 0
    assert "saved_model.pb" in {f["path"] for f in tf["files"]}
    hub.clear(); torch_org.clear(); tfhub.clear()
    offline = cli("pull", "--lock", str(lock_file), "--offline")
    assert offline.code == 0, offline.stderr
    assert [line.split("\t")[0] for line in offline.stdout.splitlines()] == [f"hf:{REPO}", TV, f"tfhub:{HANDLE}"]
    online = cli("pull", "--lock", str(lock_file))
    assert online.code == 0, online.stderr
    assert hub.requests == [] and torch_org.requests == [] and tfhub.requests == []


def test_a_locked_tf_hub_module_and_checkpoint_are_fetched_again_and_checked(hub, torch_org, tfhub, cli, tmp_path) -> None:
    lock_file = tmp_path / "zoofind.lock"
    assert cli("lock", TV, f"tfhub:{HANDLE}", "-o", str(lock_file)).code == 0
    wipe_caches()
    ran = cli("pull", "--lock", str(lock_file), "--json")
    assert ran.code == 0, ran.stderr
    paths = {r["id"]: Path(r["path"]) for r in json.loads(ran.stdout)["results"]}
    assert paths[TV].read_bytes() == TV_BYTES
    assert (paths[f"tfhub:{HANDLE}"] / "saved_model.pb").is_file()


def test_a_cached_file_that_is_not_the_locked_one_fails_naming_it(hub, cli, tmp_path) -> None:
    lock_file = tmp_path / "zoofind.lock"
    assert cli("lock", f"hf:{REPO}", "-o", str(lock_file)).code == 0
    blob = hub_cache() / "models--zoofind-lab--lockable" / "blobs" / sha(FILES["model.safetensors"])
    data = bytearray(blob.read_bytes())
    data[1000] ^= 0xFF  # same size, one byte off: only the hash can tell
    blob.write_bytes(bytes(data))
    ran = cli("pull", "--lock", str(lock_file), "--offline")
    assert ran.code == 1
    assert "model.safetensors" in ran.stderr and "not the file the lock records" in ran.stderr
    assert "zoofind cache rm" in ran.stderr and "Traceback" not in ran.stderr


def test_bytes_from_the_server_that_differ_from_the_lock_never_become_visible(hub, cli, tmp_path) -> None:
    lock_file = tmp_path / "zoofind.lock"
    assert cli("lock", f"hf:{REPO}", "-o", str(lock_file)).code == 0
    text = lock_file.read_text().replace(sha(FILES["config.json"]), "0" * 64)
    lock_file.write_text(text)
    wipe_caches()
    ran = cli("pull", "--lock", str(lock_file))
    assert ran.code == 1 and "config.json" in ran.stderr
    snapshot = hub_cache() / "models--zoofind-lab--lockable" / "snapshots" / hub.repo(REPO).branches["main"]
    assert not (snapshot / "config.json").exists()
    assert not (hub_cache() / "models--zoofind-lab--lockable" / "refs" / "main").exists()


def test_a_locked_pull_never_moves_a_users_main_back(hub, cli, tmp_path) -> None:
    lock_file = tmp_path / "zoofind.lock"
    assert cli("lock", f"hf:{REPO}", "-o", str(lock_file)).code == 0
    newer = hub.add_repo(REPO, {"model.safetensors": hashlib.shake_256(b"v2").digest(2 * MB)})
    assert cli("pull", f"hf:{REPO}").code == 0
    ref = hub_cache() / "models--zoofind-lab--lockable" / "refs" / "main"
    assert ref.read_text() == newer
    assert cli("pull", "--lock", str(lock_file)).code == 0
    assert ref.read_text() == newer


def test_lock_reads_ids_from_stdin_and_writes_the_lock_to_stdout(hub, cli) -> None:
    ran = cli("lock", "-", "-o", "-", stdin=f"hf:{REPO}\tsome search column\n")
    assert ran.code == 0, ran.stderr
    data = tomllib.loads(ran.stdout)
    assert [m["id"] for m in data["models"]] == [f"hf:{REPO}"]
    assert ran.stdout.startswith("# zoofind lock file")


def test_lock_json_holds_the_lock_and_the_pull(hub, cli, tmp_path) -> None:
    ran = cli("lock", f"hf:{REPO}", "-o", str(tmp_path / "l.lock"), "--json")
    assert ran.code == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["command"] == "lock" and out["path"] == str(tmp_path / "l.lock") and out["exit_code"] == 0
    assert out["lock"]["models"][0]["commit"] == hub.repo(REPO).branches["main"]
    assert out["results"][0]["ok"] is True


def test_no_lock_is_written_when_a_model_fails(hub, cli, tmp_path) -> None:
    lock_file = tmp_path / "zoofind.lock"
    ran = cli("lock", f"hf:{REPO}", "hf:zoofind-lab/no-such-model", "-o", str(lock_file))
    assert ran.code == 3
    assert "no-such-model" in ran.stderr and "no lock written" in ran.stderr
    assert not lock_file.exists() and ran.stdout == ""


@pytest.mark.parametrize(("text", "says"), [
    ("not = [toml", "not a valid lock file"),
    ("title = 'x'\n", "no `schema = 1` line"),
    ("schema = 9\n", "newer zoofind"),
    ("schema = 1\n[[models]]\nid = 'hf:a/b'\n[[models.files]]\npath='x'\nsize=1\nsha256='" + "a" * 64 + "'\nblob='" + "b" * 40 + "'\n",
     "needs `commit`"),
    ("schema = 1\n[[models]]\nid = 'torchvision:resnet50'\n[[models.files]]\npath='../x.pth'\nsize=1\nsha256='" + "a" * 64 + "'\n",
     "outside the model's folder"),
    ("schema = 1\n[[models]]\nid = 'torchvision:resnet50'\n[[models.files]]\npath='x.pth'\nsize=-1\nsha256='" + "a" * 64 + "'\n",
     "`size` must be"),
    ("schema = 1\n[[models]]\nid = 'torchvision:resnet50'\n[[models.files]]\npath='x.pth'\nsize=1\nsha256='zz'\n",
     "`sha256` must be"),
    ("schema = 1\n[[models]]\nid = 'not an id'\n", "not a model id"),
])
def test_a_broken_lock_file_is_a_usage_error_naming_the_file(cli, tmp_path, text: str, says: str) -> None:
    bad = tmp_path / "bad.lock"
    bad.write_text(text)
    ran = cli("pull", "--lock", str(bad))
    assert ran.code == 2, ran.stderr
    assert str(bad) in ran.stderr and says in ran.stderr and "Traceback" not in ran.stderr


def test_lock_and_ids_together_or_a_missing_lock_are_usage_errors(cli, tmp_path) -> None:
    both = cli("pull", "hf:a/b", "--lock", str(tmp_path / "x.lock"))
    assert both.code == 2 and "not both" in both.stderr
    missing = cli("pull", "--lock", str(tmp_path / "x.lock"))
    assert missing.code == 2 and "no lock file" in missing.stderr and "zoofind lock" in missing.stderr
    (tmp_path / "ok.lock").write_text("schema = 1\n")
    narrowed = cli("pull", "--lock", str(tmp_path / "ok.lock"), "--include", "*.json")
    assert narrowed.code == 2 and "--include" in narrowed.stderr


def test_lock_help_teaches_the_workflow(cli) -> None:
    ran = cli("lock", "--help")
    assert ran.code == 0
    for text in ("zoofind lock hf:", "zoofind pull --lock", "zoofind export --lock", "sha256", "hf:owner/name@REV"):
        assert text in ran.stdout
    assert "hf:owner/name@REV" in cli("pull", "--help").stdout


KAGGLE_HANDLE = "google/yamnet/tensorFlow2/yamnet/3"
KAGGLE_FILES = {"saved_model.pb": b"graph" * 200, "variables/variables.index": b"index" * 50}


@pytest.fixture
def kaggle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from servers.kaggle_server import KaggleServer

    with KaggleServer(token="tok-good") as srv:
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", srv.url)
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
        srv.add_version(KAGGLE_HANDLE, KAGGLE_FILES)
        yield srv


def test_a_kaggle_version_is_locked_file_by_file_and_pulled_back_checked(kaggle, cli, tmp_path) -> None:
    creds = {"KAGGLE_API_TOKEN": "tok-good"}
    lock_file = tmp_path / "zoofind.lock"
    ran = cli("lock", f"kaggle:{KAGGLE_HANDLE}", "-o", str(lock_file), env=creds)
    assert ran.code == 0, ran.stderr
    (model,) = tomllib.loads(lock_file.read_text())["models"]
    assert model["id"] == f"kaggle:{KAGGLE_HANDLE}"
    assert {f["path"]: f["sha256"] for f in model["files"]} == {p: sha(d) for p, d in KAGGLE_FILES.items()}
    folder = Path(os.environ["KAGGLEHUB_CACHE"]) / "models" / KAGGLE_HANDLE
    # Cached: checked against the lock with zero requests and no credentials.
    kaggle.requests.clear()
    assert cli("pull", "--lock", str(lock_file), "--offline").code == 0
    assert kaggle.requests == []
    # Gone: fetched again, each file checked against the lock's sha256.
    shutil.rmtree(Path(os.environ["KAGGLEHUB_CACHE"]))
    again = cli("pull", "--lock", str(lock_file), env=creds)
    assert again.code == 0, again.stderr
    assert (folder / "saved_model.pb").read_bytes() == KAGGLE_FILES["saved_model.pb"]
    # Bytes that are not the locked ones (same size) fail and leave nothing where kagglehub loads.
    shutil.rmtree(Path(os.environ["KAGGLEHUB_CACHE"]))
    lock_file.write_text(lock_file.read_text().replace(sha(KAGGLE_FILES["saved_model.pb"]), "1" * 64))
    bad = cli("pull", "--lock", str(lock_file), env=creds)
    assert bad.code == 1 and "saved_model.pb" in bad.stderr
    assert not folder.exists() and not folder.with_name("3.complete").exists()
