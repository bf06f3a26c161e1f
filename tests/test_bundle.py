"""`zoofind export` / `zoofind import`: bundles for machines without network.

The round trip pulls real models from the local servers (Hub, torchvision files, TF Hub),
locks them, exports, wipes the caches and imports with every endpoint and proxy pointed at
a counting server, then lets huggingface_hub, torch.hub and the TF Hub folder rule judge
the result. The other tests build their source caches directly (the bundle does not care
how the bytes got there) and attack the importer with hand-made tars and folders.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.tfhub_server import TfhubServer
from zoofind.hubs.hf.repo_cache import RepoCache
from zoofind.ops import lockfile
from zoofind.ops.bundle import BUNDLE_VERSION, MANIFEST, export_bundle, import_bundle, manifest_text
from zoofind.ops.lockfile import Lock, LockedArchive, LockedFile, LockedModel

MB = 1024 * 1024
REPO = "zoofind-lab/protein-tiny"
HANDLE = "google/yamnet/1"
CHECKPOINT = "squeezenet1_1-b8a52dc0.pth"
CHECKPOINT_URL = f"https://download.pytorch.org/models/{CHECKPOINT}"

#: The real entry point (conftest's `cli` speaks text; bundles on stdin and stdout are bytes).
_SCRIPT = Path(sys.executable).with_name("zoofind")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "zoofind"]


def zoofind(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*COMMAND, *args], capture_output=True, input=stdin, env={**os.environ, **(env or {})}, timeout=timeout)


def popen(*args: str, **kw) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*COMMAND, *args], **kw)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


def hub_cache() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def checkpoints() -> Path:
    return Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"


def module_dir(handle: str = HANDLE) -> Path:
    return Path(os.environ["TFHUB_CACHE_DIR"]) / hashlib.sha1(f"https://tfhub.dev/{handle}".encode()).hexdigest()


def files_under(*roots: Path) -> list[Path]:
    return sorted(p for r in roots if r.exists() for p in r.rglob("*") if p.is_file() or p.is_symlink())


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """This machine's three framework caches (HF_HOME comes from conftest)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
    return [Path(os.environ["HF_HOME"]), tmp_path / "torch", tmp_path / "tfhub"]


def wipe(roots: list[Path]) -> None:
    for r in roots:
        shutil.rmtree(r, ignore_errors=True)


@pytest.fixture
def counting():
    """A server every endpoint and proxy points at during an import: it must see nothing."""
    with FileServer({}) as srv:
        env = {"HF_ENDPOINT": srv.url, "ZOOFIND_TFHUB_ENDPOINT": srv.url, "ZOOFIND_TORCHVISION_ENDPOINT": srv.url + "/models",
               "ZOOFIND_KAGGLE_ENDPOINT": srv.url, "http_proxy": srv.url, "https_proxy": srv.url, "HTTP_PROXY": srv.url,
               "HTTPS_PROXY": srv.url, "no_proxy": "", "NO_PROXY": ""}
        srv.env = env
        yield srv


# -- building source caches directly --------------------------------------------------------
def git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def seed_hf(repo: str, files: dict[str, bytes], commit: str = "c0ffee" * 6 + "abcd") -> LockedModel:
    """A Hub repo laid out in the cache as a pull lays it out, and its lock entry."""
    rc = RepoCache(hub_cache(), repo)
    locked = []
    for path, data in files.items():
        etag = sha(data) if path.endswith(".safetensors") else git_oid(data)
        rc.blob(etag).parent.mkdir(parents=True, exist_ok=True)
        rc.blob(etag).write_bytes(data)
        rc.link(commit, path, etag)
        locked.append(LockedFile(path, len(data), sha(data), etag))
    rc.write_ref("main", commit)
    return LockedModel(f"hf:{repo}", "main", commit, tuple(locked))


def seed_torch(name: str, data: bytes, model_id: str = "torchvision:resnet18.IMAGENET1K_V1") -> LockedModel:
    checkpoints().mkdir(parents=True, exist_ok=True)
    (checkpoints() / name).write_bytes(data)
    return LockedModel(model_id, None, None, (LockedFile(name, len(data), sha(data)),))


def write_lock(tmp_path: Path, *models: LockedModel) -> Path:
    path = tmp_path / "zoofind.lock"
    lockfile.write(Lock(tuple(models), "0.1.0"), path)
    return path


@pytest.fixture(scope="module")
def squeezenet() -> tuple[str, bytes]:
    from servers.torch_fixture import checkpoint

    return checkpoint("squeezenet1_1")


@pytest.fixture
def pulled(hf_hub, caches, squeezenet, tmp_path: Path, cli):
    """Three models fetched from the local servers by `zoofind lock`, and its lock of them."""
    hf_hub.add_repo(REPO, {"config.json": b'{"model_type": "esm"}\n', "tokenizer/vocab.txt": b"<cls>\nA\nC\n",
                           "model.safetensors": blob(3 * MB, "st")}, library_name="transformers")
    name, data = squeezenet
    assert name == CHECKPOINT
    lock = tmp_path / "zoofind.lock"
    with FileServer({f"/models/{name}": data}) as pytorch_org, TfhubServer() as tfhub:
        archive = tfhub.add_model(HANDLE)
        env = {"ZOOFIND_TORCHVISION_ENDPOINT": pytorch_org.url + "/models", "ZOOFIND_TFHUB_ENDPOINT": tfhub.url}
        ran = cli("lock", f"hf:{REPO}", "torchvision:squeezenet1_1", f"tfhub:{HANDLE}", "-o", str(lock), env=env)
        assert ran.code == 0, ran.stderr
    models = {m.id: m for m in lockfile.read(lock).models}
    assert models["torchvision:squeezenet1_1.IMAGENET1K_V1"].files[0].sha256 == sha(data)
    assert models[f"tfhub:{HANDLE}"].archive == LockedArchive(len(archive), sha(archive))
    hf_hub.clear()
    return lock, archive, data


def referee(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", **env})


def assert_frameworks_find_everything(archive: bytes, checkpoint: bytes, counting: FileServer) -> None:
    """huggingface_hub, torch.hub and TF Hub's folder rule, each with no request anywhere."""
    hf = referee(
        "import huggingface_hub as h, json, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    p = h.snapshot_download({REPO!r}, local_files_only=True)\n"
        f"    f = h.hf_hub_download({REPO!r}, 'tokenizer/vocab.txt', local_files_only=True)\n"
        "    info = h.scan_cache_dir()\n"
        f"repo = [r for r in info.repos if r.repo_id == {REPO!r}][0]\n"
        "print(json.dumps({'p': p, 'f': open(f).read(), 'warnings': [str(w) for w in info.warnings],"
        " 'caught': [str(w.message) for w in caught], 'refs': sorted(r for rev in repo.revisions for r in rev.refs)}))",
        counting.env,
    )
    assert hf.returncode == 0, hf.stderr
    seen = json.loads(hf.stdout)
    assert Path(seen["p"]).parent.name == "snapshots" and seen["f"] == "<cls>\nA\nC\n"
    assert seen["warnings"] == [] and seen["caught"] == [] and seen["refs"] == ["main"]
    assert (Path(seen["p"]) / "model.safetensors").read_bytes() == blob(3 * MB, "st")
    th = referee(
        "import torch\n"
        f"sd = torch.hub.load_state_dict_from_url({CHECKPOINT_URL!r}, check_hash=True)\n"
        "print(len(sd))\n", counting.env)
    assert th.returncode == 0, th.stderr[-2000:]
    assert int(th.stdout) > 10
    assert (checkpoints() / CHECKPOINT).read_bytes() == checkpoint
    # tensorflow_hub's resolver: a non-empty folder named by the sha1 of the handle's URL.
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        want = {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    d = module_dir()
    assert {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file()} == want
    descriptor = d.with_name(d.name + ".descriptor.txt").read_text()
    assert descriptor.startswith(f"Module: https://tfhub.dev/{HANDLE}\n") and f"Archive sha256: {sha(archive)}" in descriptor
    assert sorted(p.name for p in d.parent.iterdir() if not p.name.startswith(".zoofind-lock-")) == [d.name, d.name + ".descriptor.txt"]
    assert counting.requests == []


# -- the round trip ---------------------------------------------------------------------------
def test_round_trip_through_a_tar_and_a_folder_with_zero_requests(pulled, caches, counting, hf_hub, tmp_path: Path) -> None:
    lock, archive, checkpoint = pulled
    tar_path, folder = tmp_path / "models.tar", tmp_path / "bundle"
    ran = zoofind("export", "--lock", str(lock), str(tar_path))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.decode().splitlines()
    assert [line.split("\t")[0] for line in lines] == [f"hf:{REPO}", "torchvision:squeezenet1_1.IMAGENET1K_V1", f"tfhub:{HANDLE}"]
    assert b"plain tar" in ran.stderr
    with tarfile.open(tar_path) as tar:
        names = tar.getnames()
        assert names[0] == MANIFEST and all(n.startswith("blobs/") for n in names[1:])
        assert all(m.isreg() and m.mode == 0o644 for m in tar.getmembers())
        manifest = tar.extractfile(MANIFEST).read().decode()
    # The manifest is the lock, plus the bundle format's version: a lock reader reads it.
    assert f"bundle = {BUNDLE_VERSION}\n" in manifest
    assert lockfile.loads(manifest).models == lockfile.read(lock).models
    assert len(names) - 1 == len({f.sha256 for m in lockfile.read(lock).models for f in m.files})

    ran = zoofind("export", "--lock", str(lock), str(folder) + "/", "--json")
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["command"] == "export" and report["layout"] == "folder" and report["linked"] == report["members"]
    assert b"hard links" in ran.stderr
    assert sorted(os.listdir(folder)) == ["blobs", MANIFEST]
    snap = hub_cache() / f"models--{REPO.replace('/', '--')}" / "snapshots"
    shared = next(snap.rglob("model.safetensors")).resolve()
    assert os.path.samefile(folder / "blobs" / sha(blob(3 * MB, "st")), shared)  # no second copy of the bytes

    for bundle in (tar_path, folder):
        wipe(caches)
        hf_hub.clear()
        ran = zoofind("import", str(bundle), env=counting.env)
        assert ran.returncode == 0, ran.stderr
        out = dict(line.split("\t") for line in ran.stdout.decode().splitlines())
        assert out["torchvision:squeezenet1_1.IMAGENET1K_V1"] == str(checkpoints() / CHECKPOINT)
        assert out[f"tfhub:{HANDLE}"] == str(module_dir())
        assert Path(out[f"hf:{REPO}"]).parent.name == "snapshots"
        assert b"placed" in ran.stderr
        assert_frameworks_find_everything(archive, checkpoint, counting)
        assert hf_hub.requests == []


def test_export_to_stdout_piped_into_import_from_stdin(pulled, caches, counting, tmp_path: Path) -> None:
    lock, archive, checkpoint = pulled
    exporter = popen("export", "--lock", str(lock), "-", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    target = tmp_path / "node"
    env = {**os.environ, **counting.env, "HF_HOME": str(target / "hf"), "TORCH_HOME": str(target / "torch"),
           "TFHUB_CACHE_DIR": str(target / "tfhub")}
    importer = popen("import", "-", "--json", stdin=exporter.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    exporter.stdout.close()
    out, err = importer.communicate(timeout=120)
    _, export_err = exporter.communicate(timeout=60)
    assert exporter.returncode == 0, export_err
    assert importer.returncode == 0, err
    assert b"wrote stdout" in export_err
    report = json.loads(out)
    assert report["command"] == "import" and report["layout"] == "stream" and report["bundle"] == "-"
    assert all(f["status"] == "placed" for r in report["results"] for f in r["files"])
    for name in ("HF_HOME", "TORCH_HOME", "TFHUB_CACHE_DIR"):
        os.environ[name] = env[name]  # the referees look where the import placed them
    assert_frameworks_find_everything(archive, checkpoint, counting)


def test_import_imports_no_networked_code() -> None:
    """Proof beside the counting server: the import path never loads httpx (or a hub's search and
    API modules; the registry and the hubs' bundle abilities are what it asks)."""
    code = ("import sys, io, tarfile\n"
            "from zoofind.ops.bundle import import_bundle\n"
            "from zoofind.cli.commands import bundle\n"
            "try:\n    import_bundle(io.BytesIO(b''))\nexcept Exception as e:\n    print(type(e).__name__)\n"
            "print(sorted(m for m in sys.modules if m.startswith(('httpx', 'httpcore', 'zoofind.net', 'huggingface_hub'))\n"
            "             or m.startswith('zoofind.hubs.') and m.endswith(('.source', '.api', '.auth', '.mapping'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["BundleError", "[]"]


# -- idempotence, verification, refs ------------------------------------------------------------
def test_a_second_import_places_nothing_and_verify_existing_repairs_damage(caches, tmp_path: Path) -> None:
    data = {"config.json": b'{"a": 1}\n', "model.safetensors": blob(2 * MB, "w")}
    lock = write_lock(tmp_path, seed_hf(REPO, data), seed_torch("resnet18-f37072fd.pth", blob(MB, "ck")))
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(lock), str(bundle)).returncode == 0
    wipe(caches)
    first = zoofind("import", str(bundle), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["placed_bytes"] == 3 * MB + len(data["config.json"])
    weights = next(hub_cache().rglob("blobs/" + sha(data["model.safetensors"])))
    inode = weights.stat().st_ino
    again = zoofind("import", str(bundle), "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["placed_bytes"] == 0 and report["present"] == 3
    assert {f["status"] for r in report["results"] for f in r["files"]} == {"present"}
    assert b"already in place" in again.stderr and weights.stat().st_ino == inode
    # Same size, other bytes: only --verify-existing sees it, and puts the bundle's bytes back.
    weights.write_bytes(blob(2 * MB, "rot"))
    plain = zoofind("import", str(bundle), "--json")
    assert json.loads(plain.stdout)["placed_bytes"] == 0
    checked = zoofind("import", str(bundle), "--verify-existing", "--json")
    assert checked.returncode == 0, checked.stderr
    statuses = {f["path"]: f["status"] for r in json.loads(checked.stdout)["results"] for f in r["files"]}
    assert statuses == {"config.json": "verified", "model.safetensors": "replaced", "resnet18-f37072fd.pth": "verified"}
    assert weights.read_bytes() == data["model.safetensors"]


def test_an_existing_ref_is_never_moved_back(caches, tmp_path: Path) -> None:
    lock = write_lock(tmp_path, seed_hf(REPO, {"config.json": b"{}"}))
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(lock), str(bundle)).returncode == 0
    wipe(caches)
    newer = "f" * 40
    seed_hf(REPO, {"config.json": b'{"newer": true}'}, commit=newer)
    ran = zoofind("import", str(bundle))
    assert ran.returncode == 0, ran.stderr
    refs = hub_cache() / f"models--{REPO.replace('/', '--')}" / "refs" / "main"
    assert refs.read_text() == newer
    assert b"refs/main here points at ffffffffffff" in ran.stderr and b"left as it is" in ran.stderr
    commit = lockfile.read(lock).models[0].commit
    assert (hub_cache() / f"models--{REPO.replace('/', '--')}" / "snapshots" / commit / "config.json").read_bytes() == b"{}"


# -- export failures ---------------------------------------------------------------------------
def test_export_of_a_model_missing_from_the_cache_names_it_and_the_next_step(caches, tmp_path: Path) -> None:
    model = seed_hf(REPO, {"config.json": b"{}", "model.safetensors": blob(MB, "m")})
    lock = write_lock(tmp_path, model, seed_torch("resnet18-f37072fd.pth", b"x" * 100))
    (checkpoints() / "resnet18-f37072fd.pth").unlink()
    ran = zoofind("export", "--lock", str(lock), str(tmp_path / "out.tar"))
    assert ran.returncode == 1
    err = ran.stderr.decode()
    assert "torchvision:resnet18.IMAGENET1K_V1: resnet18-f37072fd.pth is not in the cache" in err
    assert f"zoofind pull --lock {lock}" in err and "Traceback" not in err
    assert not (tmp_path / "out.tar").exists() and not list(tmp_path.glob(".zoofind-tmp-*"))


def test_export_of_a_cached_file_with_other_bytes_fails_and_writes_no_bundle(caches, tmp_path: Path) -> None:
    lock = write_lock(tmp_path, seed_hf(REPO, {"config.json": b"{}", "model.safetensors": blob(MB, "m")}))
    next(hub_cache().rglob("blobs/" + sha(blob(MB, "m")))).write_bytes(blob(MB, "other"))
    for out in ("out.tar", "out/"):
        ran = zoofind("export", "--lock", str(lock), str(tmp_path / out))
        assert ran.returncode == 1, ran.stderr
        assert b"model.safetensors" in ran.stderr and b"do not match" in ran.stderr
        assert not (tmp_path / out).exists()
    assert not list(tmp_path.glob(".zoofind-tmp-*"))
    # To a pipe: the tar stops without its end blocks, and the importer refuses what came.
    ran = zoofind("export", "--lock", str(lock), "-")
    assert ran.returncode == 1 and ran.stdout.startswith(b"zoofind-bundle.toml")
    wipe(caches)
    got = zoofind("import", "-", stdin=ran.stdout)
    assert got.returncode == 1, got.stderr
    assert not list(hub_cache().rglob("model.safetensors"))


def test_export_usage_errors(caches, tmp_path: Path) -> None:
    lock = write_lock(tmp_path, seed_torch("resnet18-f37072fd.pth", b"x" * 100))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    for args, says in (
        (("export", "--lock", str(lock), str(tmp_path / "full")), b"is not empty"),
        (("export", "--lock", str(lock), str(tmp_path / "x.tar.gz")), b"plain tar"),
        (("export", "--lock", str(lock), "-", "--json"), b"stdout carries the bundle"),
        (("export", "--lock", str(tmp_path / "nope.lock"), str(tmp_path / "x.tar")), b"no lock file"),
    ):
        ran = zoofind(*args)
        assert ran.returncode == 2, (args, ran.stderr)
        assert says in ran.stderr and b"Traceback" not in ran.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    kaggle = tmp_path / "kaggle.lock"
    # kagglehub names its folders by the version: an entry without one has no place to go.
    kaggle.write_text('schema = 1\n[[models]]\nid = "kaggle:google/gemma/pyTorch/2b"\n'
                      f'[[models.files]]\npath = "model.bin"\nsize = 1\nsha256 = "{"0" * 64}"\n')
    ran = zoofind("export", "--lock", str(kaggle), str(tmp_path / "k.tar"))
    assert ran.returncode == 2 and b"needs its version" in ran.stderr


# -- hostile and damaged bundles --------------------------------------------------------------
@pytest.fixture
def small(caches, tmp_path: Path):
    """A one-checkpoint lock and its manifest; the caches left empty for the import."""
    data = blob(200_000, "small")
    model = seed_torch("resnet18-f37072fd.pth", data)
    lock = Lock((model,), "0.1.0")
    wipe(caches)
    return lock, data


def member(tar: tarfile.TarFile, name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **kw) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, len(data) if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0, 0o644
    for k, v in kw.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data) if info.size else None)


def hand_made(path: Path, lock: Lock, members: list[tuple]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        member(tar, MANIFEST, manifest_text(lock).encode())
        for m in members:
            member(tar, *m[:2], *m[2:3], **(m[3] if len(m) > 3 else {}))
    return path


def nothing_written(caches: list[Path], tmp_path: Path) -> None:
    assert [p for p in files_under(*caches) if ".zoofind-lock-" not in p.name and ".locks" not in p.parts] == []
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/zoofind-escaped.txt").exists()


HOSTILE = {
    "dotdot": lambda d, s: [("../escaped.txt", d)],
    "dotdot-inside": lambda d, s: [(f"blobs/../../escaped-{s}", d)],
    "absolute": lambda d, s: [("/tmp/zoofind-escaped.txt", d)],
    "symlink": lambda d, s: [(f"blobs/{s}", b"", tarfile.SYMTYPE, {"linkname": "/etc/passwd"})],
    "hardlink": lambda d, s: [(f"blobs/{s}", b"", tarfile.LNKTYPE, {"linkname": "../../outside.txt"})],
    "device": lambda d, s: [(f"blobs/{s}", b"", tarfile.CHRTYPE, {"devmajor": 1, "devminor": 5})],
    "fifo": lambda d, s: [(f"blobs/{s}", b"", tarfile.FIFOTYPE)],
    "folder": lambda d, s: [("blobs", b"", tarfile.DIRTYPE), (f"blobs/{s}", d)],
    "duplicate": lambda d, s: [(f"blobs/{s}", d), (f"blobs/{s}", d)],
    "unknown name": lambda d, s: [("README.md", b"hello"), (f"blobs/{s}", d)],
    "not in the manifest": lambda d, s: [(f"blobs/{s}", d), (f"blobs/{'e' * 64}", b"extra")],
    "no member": lambda d, s: [],
    "wrong size": lambda d, s: [(f"blobs/{s}", d + b"more")],
}
SAYS = {"dotdot": "outside", "dotdot-inside": "outside", "absolute": "absolute", "symlink": "symbolic link",
        "hardlink": "hard link", "device": "device", "fifo": "FIFO", "folder": "a folder", "duplicate": "comes twice",
        "unknown name": "not part of a bundle", "not in the manifest": "not in the manifest", "no member": "does not hold",
        "wrong size": "the manifest says"}


@pytest.mark.parametrize("via", ["file", "stdin"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_bundles_are_refused_and_nothing_of_them_is_written(small, caches, tmp_path: Path, kind: str, via: str) -> None:
    lock, data = small
    bundle = hand_made(tmp_path / "evil.tar", lock, HOSTILE[kind](data, sha(data)))
    ran = zoofind("import", str(bundle)) if via == "file" else zoofind("import", "-", stdin=bundle.read_bytes())
    assert ran.returncode == 1, ran.stderr
    err = ran.stderr.decode()
    assert SAYS[kind] in err and "Traceback" not in err, err
    if kind != "no member":
        assert "refused" in err
    if via == "file" or kind in ("dotdot", "dotdot-inside", "absolute", "symlink", "hardlink", "device", "fifo", "folder", "unknown name"):
        nothing_written(caches, tmp_path)
    assert not (checkpoints() / "resnet18-f37072fd.pth").exists() or kind in ("duplicate", "not in the manifest")


def test_a_tar_that_is_not_a_bundle_is_refused(small, caches, tmp_path: Path) -> None:
    lock, data = small
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        member(tar, f"blobs/{sha(data)}", data)
        member(tar, MANIFEST, manifest_text(lock).encode())
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    newer = hand_made(tmp_path / "newer.tar", lock, [(f"blobs/{sha(data)}", data)])
    text = manifest_text(lock).replace(f"bundle = {BUNDLE_VERSION}\n", "bundle = 99\n")
    with tarfile.open(newer, "w") as tar:
        member(tar, MANIFEST, text.encode())
    for path, says in ((other, b"not a zoofind bundle"), (tmp_path / "junk.tar", b"not a readable bundle"),
                       (newer, b"newer zoofind"), (tmp_path / "missing.tar", b"no bundle")):
        ran = zoofind("import", str(path))
        assert ran.returncode == (2 if path.name == "missing.tar" else 1), ran.stderr
        assert says in ran.stderr and b"Traceback" not in ran.stderr
    nothing_written(caches, tmp_path)


def test_a_corrupted_member_places_nothing_of_its_model_and_names_the_file(caches, tmp_path: Path) -> None:
    weights = blob(2 * MB, "weights")
    lock = write_lock(tmp_path, seed_hf(REPO, {"config.json": b"{}", "model.safetensors": weights}),
                      seed_torch("resnet18-f37072fd.pth", blob(MB, "ok")))
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(lock), str(bundle)).returncode == 0
    raw = bytearray(bundle.read_bytes())
    at = raw.find(weights[:64])
    raw[at + 1000] ^= 0xFF  # one flipped byte, same size: only the hash tells
    bundle.write_bytes(bytes(raw))
    wipe(caches)
    ran = zoofind("import", str(bundle), "--json")
    assert ran.returncode == 1
    err = ran.stderr.decode()
    assert f"hf:{REPO}: model.safetensors (bundle member blobs/{sha(weights)})" in err and "do not match" in err
    results = {r["id"]: r for r in json.loads(ran.stdout)["results"]}
    assert not results[f"hf:{REPO}"]["ok"] and results["torchvision:resnet18.IMAGENET1K_V1"]["ok"]
    repo = hub_cache() / f"models--{REPO.replace('/', '--')}"
    assert not (repo / "blobs" / sha(weights)).exists() and not (repo / "refs").exists()
    assert not list(repo.glob("snapshots/*")) and not list(repo.rglob(".zoofind-tmp-*"))
    assert (checkpoints() / "resnet18-f37072fd.pth").read_bytes() == blob(MB, "ok")  # the other model is whole


def test_folder_bundles_are_read_without_following_links(small, caches, tmp_path: Path) -> None:
    lock, data = small
    folder = tmp_path / "bundle"
    (folder / "blobs").mkdir(parents=True)
    (folder / MANIFEST).write_text(manifest_text(lock))
    secret = tmp_path / "secret.bin"
    secret.write_bytes(data)  # the right bytes even: a link is refused whatever it points at
    os.symlink(secret, folder / "blobs" / sha(data))
    ran = zoofind("import", str(folder))
    assert ran.returncode == 1 and b"symbolic link" in ran.stderr and b"refused" in ran.stderr
    (folder / "blobs" / sha(data)).unlink()
    (folder / "blobs" / sha(data)).write_bytes(data)
    (folder / "notes.txt").write_text("mine")
    ran = zoofind("import", str(folder))
    assert ran.returncode == 1 and b"notes.txt" in ran.stderr
    nothing_written(caches, tmp_path)
    (folder / "notes.txt").unlink()
    ran = zoofind("import", str(folder))
    assert ran.returncode == 0, ran.stderr
    assert (checkpoints() / "resnet18-f37072fd.pth").read_bytes() == data


def test_a_compressed_bundle_is_read_as_a_stream(small, caches, tmp_path: Path) -> None:
    lock, data = small
    bundle = hand_made(tmp_path / "b.tar", lock, [(f"blobs/{sha(data)}", data)])
    (tmp_path / "b.tar.gz").write_bytes(gzip.compress(bundle.read_bytes()))
    ran = zoofind("import", str(tmp_path / "b.tar.gz"))
    assert ran.returncode == 0, ran.stderr
    assert (checkpoints() / "resnet18-f37072fd.pth").read_bytes() == data


# -- interrupted imports ----------------------------------------------------------------------
def _start_slow_import(tmp_path: Path, caches: list[Path]) -> tuple[subprocess.Popen[bytes], Path, bytes, Path]:
    """An import from a pipe fed 60% of a bundle whose big member is being written when it returns."""
    weights = blob(32 * MB, "big")
    lock = write_lock(tmp_path, seed_hf(REPO, {"config.json": b"{}", "model.safetensors": weights}))
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(lock), str(bundle)).returncode == 0
    wipe(caches)
    proc = popen("import", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    raw = bundle.read_bytes()
    def feed() -> None:
        with contextlib.suppress(BrokenPipeError):  # the import is killed while the pipe is full
            proc.stdin.write(raw[: int(len(raw) * 0.6)])
            proc.stdin.flush()

    threading.Thread(target=feed, daemon=True).start()
    blobs = hub_cache() / f"models--{REPO.replace('/', '--')}" / "blobs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = [p for p in blobs.glob(".zoofind-tmp-*") if p.stat().st_size > 4 * MB] if blobs.is_dir() else []
        if temps:
            break
        time.sleep(0.02)
    assert temps, proc.stderr.read1() if proc.poll() is not None else "no temporary file appeared"
    return proc, bundle, weights, blobs


def test_kill_9_mid_import_leaves_nothing_at_a_final_path_and_a_rerun_completes(caches, tmp_path: Path) -> None:
    proc, bundle, weights, blobs = _start_slow_import(tmp_path, caches)
    proc.kill()
    proc.wait(timeout=30)
    repo = blobs.parent
    assert not (blobs / sha(weights)).exists()
    assert not (repo / "refs").exists() and not list(repo.glob("snapshots/*"))
    (stray,) = [p for p in blobs.iterdir() if p.name.startswith(".zoofind-tmp-")]
    # `cache prune` knows it for a stray (once it is a day old).
    old = time.time() - 2 * 86400
    os.utime(stray, (old, old))
    from zoofind.core.context import Context
    from zoofind.ops.inventory import plan_prune

    assert str(stray) in {p for r in plan_prune(Context.from_env(offline=True), max_size=10**15) for p in r.paths}
    again = zoofind("import", str(bundle))
    assert again.returncode == 0, again.stderr
    snap = Path(again.stdout.decode().split("\t")[1].strip())
    assert (snap / "model.safetensors").read_bytes() == weights and (repo / "refs" / "main").read_text() == snap.name


def test_ctrl_c_mid_import_exits_130_and_removes_its_temporary_file(caches, tmp_path: Path) -> None:
    proc, bundle, weights, blobs = _start_slow_import(tmp_path, caches)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert not (blobs / sha(weights)).exists() and not list(blobs.glob(".zoofind-tmp-*"))


def test_import_waits_for_the_lock_a_pull_of_the_same_file_holds(small, caches, tmp_path: Path) -> None:
    from zoofind.caches.torch_hub import lock_path
    from zoofind.fetch.locks import lock_for

    lock, data = small
    bundle = hand_made(tmp_path / "b.tar", lock, [(f"blobs/{sha(data)}", data)])
    target = checkpoints() / "resnet18-f37072fd.pth"
    held = lock_for(lock_path(target))
    held.acquire()
    try:
        proc = popen("import", str(bundle), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert proc.poll() is None and not target.exists()  # waiting, as a second pull would
    finally:
        held.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert target.read_bytes() == data


# -- the Python API and --help ------------------------------------------------------------------
def test_python_api_returns_typed_reports_and_reports_progress(caches, tmp_path: Path) -> None:
    from zoofind.ops.bundle import ExportReport, ImportReport

    model = seed_torch("resnet18-f37072fd.pth", blob(MB, "api"))
    events: list = []
    out = io.BytesIO()
    exported = export_bundle(Lock((model,), "0.1.0"), out, progress=events.append)
    assert isinstance(exported, ExportReport) and exported.bundle == "-" and exported.members == 1
    assert {e.kind for e in events} >= {"start", "advance", "done"}
    wipe(caches)
    events.clear()
    imported = import_bundle(io.BytesIO(out.getvalue()), progress=events.append)
    assert isinstance(imported, ImportReport) and imported.exit_code == 0 and imported.placed_bytes == MB
    (m,) = imported.models
    assert m.ok and m.path == str(checkpoints() / "resnet18-f37072fd.pth") and m.files[0].status == "placed"
    assert sum(e.advanced for e in events if e.kind == "advance") == MB
    with pytest.raises(AttributeError):
        m.path = "elsewhere"  # frozen


def test_help_shows_examples() -> None:
    for command, example in (("export", "zoofind export --lock zoofind.lock - | ssh node zoofind import -"),
                             ("import", "zoofind import models.tar")):
        ran = zoofind(command, "--help")
        assert ran.returncode == 0, ran.stderr
        text = ran.stdout.decode()
        assert "Examples:" in text and example in text


def test_a_stream_cut_short_fails_cleanly_and_places_nothing_of_the_cut_file(caches, tmp_path: Path) -> None:
    lock = write_lock(tmp_path, seed_torch("resnet18-f37072fd.pth", blob(3 * MB, "cut")))
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(lock), str(bundle)).returncode == 0
    wipe(caches)
    raw = bundle.read_bytes()
    for cut in (raw[: len(raw) // 2], raw[:700]):
        ran = zoofind("import", "-", stdin=cut)
        assert ran.returncode == 1, ran.stderr
        assert b"Traceback" not in ran.stderr and b"unexpected error" not in ran.stderr
        assert not checkpoints().exists() or [p.name for p in checkpoints().iterdir() if ".zoofind-lock-" not in p.name] == []
    (tmp_path / "cut.tar").write_bytes(raw[: len(raw) // 2])
    ran = zoofind("import", str(tmp_path / "cut.tar"))
    assert ran.returncode == 1 and b"truncated" in ran.stderr, ran.stderr


def seed_tfhub(files: dict[str, bytes]) -> LockedModel:
    d = module_dir()
    for rel, data in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    return LockedModel(f"tfhub:{HANDLE}", None, None, tuple(LockedFile(r, len(b), sha(b)) for r, b in files.items()))


def test_a_tfhub_module_already_here_but_different_is_left_alone_and_named(caches, tmp_path: Path) -> None:
    files = {"saved_model.pb": b"pb" * 100, "variables/variables.index": b"ix"}
    lock = write_lock(tmp_path, seed_tfhub(files))
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(lock), str(bundle)).returncode == 0
    wipe(caches)
    ran = zoofind("import", str(bundle))
    assert ran.returncode == 0, ran.stderr
    assert {p.relative_to(module_dir()).as_posix(): p.read_bytes() for p in module_dir().rglob("*") if p.is_file()} == files
    (module_dir() / "variables" / "variables.index").write_bytes(b"xx")  # same size, other bytes
    assert zoofind("import", str(bundle)).returncode == 0  # sizes agree: left as it is
    ran = zoofind("import", str(bundle), "--verify-existing")
    assert ran.returncode == 1
    assert b"differs from the bundle" in ran.stderr and f"zoofind cache rm tfhub:{HANDLE}".encode() in ran.stderr
    assert (module_dir() / "variables" / "variables.index").read_bytes() == b"xx"  # someone's folder: never half-replaced
    assert not list(module_dir().parent.glob("*.tmp"))


def test_a_lock_written_after_import_pins_the_same_tfhub_archive(caches, tmp_path: Path) -> None:
    """lock -> export -> import on fresh caches -> lock --offline there: the same [models.archive]."""
    first, second = tmp_path / "first.lock", tmp_path / "second.lock"
    with TfhubServer() as tfhub:
        archive = tfhub.add_model(HANDLE)
        ran = zoofind("lock", f"tfhub:{HANDLE}", "-o", str(first), env={"ZOOFIND_TFHUB_ENDPOINT": tfhub.url})
        assert ran.returncode == 0, ran.stderr
    bundle = tmp_path / "b.tar"
    assert zoofind("export", "--lock", str(first), str(bundle)).returncode == 0
    wipe(caches)
    ran = zoofind("import", str(bundle))
    assert ran.returncode == 0, ran.stderr
    ran = zoofind("lock", f"tfhub:{HANDLE}", "--offline", "-o", str(second))
    assert ran.returncode == 0, ran.stderr
    (before,), (after,) = lockfile.read(first).models, lockfile.read(second).models
    assert before.archive == after.archive == LockedArchive(len(archive), sha(archive))
    assert after.files == before.files
    # One descriptor, written the same way by pull and import.
    descriptor = module_dir().with_name(module_dir().name + ".descriptor.txt").read_text()
    assert f"Archive sha256: {sha(archive)}\nArchive size: {len(archive)}" in descriptor


def test_export_reads_the_shared_tier_and_copy_makes_copies(caches, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "lab-models"
    ckpt = shared / "torch" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    data = blob(100_000, "lab")
    (ckpt / "resnet18-f37072fd.pth").write_bytes(data)
    monkeypatch.setenv("ZOOFIND_SHARED_CACHE", str(shared))
    model = LockedModel("torchvision:resnet18.IMAGENET1K_V1", None, None, (LockedFile("resnet18-f37072fd.pth", len(data), sha(data)),))
    lock = write_lock(tmp_path, model)
    ran = zoofind("export", "--lock", str(lock), str(tmp_path / "out") + "/", "--copy", "--json")
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["copied"] == 1 and report["linked"] == 0 and b"copies" in ran.stderr
    assert report["results"][0]["files"][0]["location"] == str(ckpt / "resnet18-f37072fd.pth")
    copy = tmp_path / "out" / "blobs" / sha(data)
    assert copy.read_bytes() == data and not os.path.samefile(copy, ckpt / "resnet18-f37072fd.pth")
