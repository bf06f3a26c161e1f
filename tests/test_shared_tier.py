"""The read-only shared tier (ZOOFIND_SHARED_CACHE): an admin fills one root with zoofind itself
(`XDG_CACHE_HOME=<root> zoofind pull ...` against the local Hub, torchvision and tfhub.dev servers),
the root is made read-only, and users with empty caches pull from it: no file body is downloaded,
huggingface_hub, torch.hub and tensorflow_hub's folder rule find the files in the users' own caches,
and the shared tier is byte-for-byte, time-for-time as it was.

Tests run as root, whom `chmod a-w` does not stop: every test therefore also compares a snapshot of
the whole tier (each entry's kind, mode, size, inode, mtime, ctime, link target and content hash;
not atime, which reading sets) before and after, and one test mounts the tier as a read-only tmpfs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers.files_server import FileServer
from servers.hf_server import HubServer
from servers.tfhub_server import TfhubServer

REPO = "zoofind-lab/shared-tiny"
HANDLE = "google/yamnet/1"
MB = 1024 * 1024
FILES = {
    "config.json": b'{"model_type": "esm", "hidden_size": 8}\n',
    "tokenizer/vocab.txt": b"<cls>\n<pad>\nA\nC\nD\n",
    "model.safetensors": hashlib.shake_256(b"shared-st").digest(MB + 17),
}
SQUEEZENET = "torchvision:squeezenet1_1"
#: Variables a developer's shell may hold that would point a child zoofind elsewhere.
LEAKY = ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TORCH_HOME", "TFHUB_CACHE_DIR", "HF_TOKEN", "HF_HUB_OFFLINE",
         "ZOOFIND_OFFLINE", "ZOOFIND_CACHE_DIR", "ZOOFIND_SHARED_CACHE", "XDG_CACHE_HOME", "ZOOFIND_CATALOG_DIR")


def zoofind(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real entry point with exactly ``env`` on top of a clean copy of this environment."""
    full = {k: v for k, v in os.environ.items() if k not in LEAKY}
    full.update(env)
    script = Path(sys.executable).with_name("zoofind")
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=full, timeout=timeout)


def module_name(handle: str) -> str:
    return hashlib.sha1(f"https://tfhub.dev/{handle}".encode()).hexdigest()


@dataclass
class Lab:
    hub: HubServer
    torch: FileServer
    tfhub: TfhubServer
    root: Path  # the shared tier, filled and read-only
    checkpoint: str  # squeezenet's file name
    checkpoint_bytes: bytes
    archive: bytes
    fill: subprocess.CompletedProcess[str]

    @property
    def endpoints(self) -> dict[str, str]:
        return {"HF_ENDPOINT": self.hub.url, "ZOOFIND_TORCHVISION_ENDPOINT": self.torch.url + "/models",
                "ZOOFIND_TFHUB_ENDPOINT": self.tfhub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}

    def clear(self) -> None:
        for srv in (self.hub, self.torch, self.tfhub):
            srv.clear()

    def body_bytes(self) -> int:
        """Bytes of file bodies the three servers sent since ``clear``."""
        return sum(self.hub.bytes_by_key.values()) + sum(self.torch.bytes_by_key.values()) + sum(self.tfhub.bytes_by_key.values())


def fill(root: Path, lab_env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    """The admin's one command: XDG_CACHE_HOME names the shared root; nothing else is set."""
    return zoofind("pull", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", "--json",
                   env={**lab_env, "HOME": str(home), "XDG_CACHE_HOME": str(root)})


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from servers.torch_fixture import checkpoint

    name, data = checkpoint("squeezenet1_1")
    base = tmp_path_factory.mktemp("lab")
    (base / "admin").mkdir()
    with HubServer() as hub, FileServer({f"/models/{name}": data}) as torch_srv, TfhubServer() as tfhub:
        hub.add_repo(REPO, FILES, library_name="transformers", pipeline_tag="fill-mask")
        archive = tfhub.add_model(HANDLE)
        lab = Lab(hub, torch_srv, tfhub, base / "models", name, data, archive, None)  # type: ignore[arg-type]
        lab.fill = fill(lab.root, lab.endpoints, base / "admin")
        read_only(lab.root)
        lab.clear()
        yield lab
        writable(lab.root)


def read_only(root: Path) -> None:
    subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)


def writable(root: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)


def state(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry below ``root`` (and root itself): kind and mode, size, inode, mtime, ctime, link target, content hash."""
    out: dict[str, tuple[Any, ...]] = {}
    for where, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            p = os.path.normpath(os.path.join(where, name))
            st = os.lstat(p)
            link = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
            digest = hashlib.sha256(Path(p).read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, link, digest)
    return out


def user_env(lab: Lab, *roots: Path | str) -> dict[str, str]:
    return {**lab.endpoints, "ZOOFIND_SHARED_CACHE": ":".join(map(str, roots))}


def hub_cache() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def checkpoints() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "torch" / "hub" / "checkpoints"


def tfhub_cache() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "tfhub_modules"


def blob_name(rel: str) -> str:
    data = FILES[rel]
    return hashlib.sha256(data).hexdigest() if rel.endswith(".safetensors") else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# -- the admin's fill ---------------------------------------------------------------------
def test_one_xdg_cache_home_lays_out_all_three_caches_of_a_shared_root(lab: Lab) -> None:
    assert lab.fill.returncode == 0, lab.fill.stderr
    commit = lab.hub.repo(REPO).branches["main"]
    repo = lab.root / "huggingface" / "hub" / "models--zoofind-lab--shared-tiny"
    assert (repo / "refs" / "main").read_text() == commit
    assert sorted(p.relative_to(repo / "snapshots" / commit).as_posix() for p in (repo / "snapshots" / commit).rglob("*")
                  if not p.is_dir()) == sorted(FILES)
    assert (lab.root / "torch" / "hub" / "checkpoints" / lab.checkpoint).read_bytes() == lab.checkpoint_bytes
    module = lab.root / "tfhub_modules" / module_name(HANDLE)
    assert (module / "saved_model.pb").is_file()
    assert (module.with_name(module.name + ".descriptor.txt")).read_text().startswith(f"Module: https://tfhub.dev/{HANDLE}\n")
    # What else the one command leaves in the root: zoofind's own answer cache, nothing half-done.
    assert sorted(p.name for p in lab.root.iterdir()) == ["huggingface", "tfhub_modules", "torch", "zoofind"]
    leftovers = [p for p in lab.root.rglob("*") if p.name.startswith((".zoofind-partial-", ".zoofind-tmp-"))]
    assert leftovers == []


# -- a user pulls -------------------------------------------------------------------------
def test_a_user_with_an_empty_cache_gets_every_file_from_the_tier_with_no_download(lab: Lab, cli) -> None:
    before = state(lab.root)
    lab.clear()
    ran = cli("pull", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", "--json", env=user_env(lab, lab.root))
    assert ran.code == 0, ran.stderr
    assert lab.body_bytes() == 0
    assert not any("/resolve/" in r.path or r.path.startswith("/repos/") for r in lab.hub.requests)
    assert lab.torch.requests == [] and lab.tfhub.log("/storage/") == []
    hf, tv, tf = json.loads(ran.stdout)["results"]
    assert hf["fetched_bytes"] == tv["fetched_bytes"] == tf["fetched_bytes"] == 0
    assert {f["path"]: f["status"] for f in hf["files"]} == dict.fromkeys(FILES, "shared")
    assert [f["status"] for f in tv["files"]] == [f["status"] for f in tf["files"]] == ["shared"]
    assert tv["files"][0]["sha256"] == hashlib.sha256(lab.checkpoint_bytes).hexdigest()

    # Hub: blobs/<etag> are absolute links into the tier; snapshots link to blobs as usual.
    commit = lab.hub.repo(REPO).branches["main"]
    snap = hub_cache() / "models--zoofind-lab--shared-tiny" / "snapshots" / commit
    assert hf["path"] == str(snap)
    shared_blobs = lab.root / "huggingface" / "hub" / "models--zoofind-lab--shared-tiny" / "blobs"
    for rel, data in FILES.items():
        link = snap / rel
        assert link.is_symlink() and not os.path.isabs(os.readlink(link)) and link.read_bytes() == data
        blob = hub_cache() / "models--zoofind-lab--shared-tiny" / "blobs" / blob_name(rel)
        assert blob.is_symlink() and os.readlink(blob) == str(shared_blobs / blob_name(rel))
    # torch.hub: the checkpoint is a link to the tier's file.
    target = checkpoints() / lab.checkpoint
    assert tv["path"] == str(target) and os.readlink(target) == str(lab.root / "torch" / "hub" / "checkpoints" / lab.checkpoint)
    # TF Hub: the module folder (and its descriptor) link to the tier's folder.
    module = tfhub_cache() / module_name(HANDLE)
    assert tf["path"] == str(module) and os.readlink(module) == str(lab.root / "tfhub_modules" / module_name(HANDLE))
    assert state(lab.root) == before

    in_place = cli("pull", f"hf:{REPO}", env=user_env(lab, lab.root))  # all in place now: nothing linked again
    assert "already in the cache" in in_place.stderr and "shared tier" not in in_place.stderr
    again = cli("pull", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", env=user_env(lab, lab.root))
    assert again.code == 0 and again.stderr.count("already in the cache") == 3, again.stderr
    assert lab.body_bytes() == 0 and state(lab.root) == before


def test_the_frameworks_load_what_the_tier_gave(lab: Lab, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", env=user_env(lab, lab.root))
    assert ran.code == 0, ran.stderr
    before = state(lab.root)
    lab.clear()
    proxy = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_XET": "1"}
    hub_check = subprocess.run([sys.executable, "-c", (
        "import huggingface_hub as h, json, warnings\n"
        f"p = h.snapshot_download({REPO!r}, local_files_only=True)\n"
        f"f = h.hf_hub_download({REPO!r}, 'model.safetensors', local_files_only=True)\n"
        "info = h.scan_cache_dir()\n"
        f"repo = [r for r in info.repos if r.repo_id == {REPO!r}][0]\n"
        "import hashlib\n"
        "print(json.dumps({'p': p, 'st': hashlib.sha256(open(f, 'rb').read()).hexdigest(), 'warnings': [str(w) for w in info.warnings],"
        " 'size': repo.size_on_disk, 'refs': sorted(r for rev in repo.revisions for r in rev.refs)}))")],
        capture_output=True, text=True, timeout=120, env={**os.environ, **proxy})
    assert hub_check.returncode == 0, hub_check.stderr
    seen = json.loads(hub_check.stdout)
    assert seen["warnings"] == [] and seen["refs"] == ["main"] and seen["size"] == sum(map(len, FILES.values()))
    assert seen["st"] == blob_name("model.safetensors") and Path(seen["p"]).parent.parent == hub_cache() / "models--zoofind-lab--shared-tiny"
    torch_check = subprocess.run([sys.executable, "-c", (
        "import torch, torchvision\n"
        f"sd = torch.hub.load_state_dict_from_url('https://download.pytorch.org/models/{lab.checkpoint}', check_hash=True)\n"
        "m = torchvision.models.get_model('squeezenet1_1', weights='DEFAULT')\n"
        "print(type(m).__name__, len(sd))\n")], capture_output=True, text=True, timeout=300, env={**os.environ, **proxy})
    assert torch_check.returncode == 0, torch_check.stderr[-2000:]
    assert torch_check.stdout.split()[0] == "SqueezeNet"
    # tensorflow_hub's rule (resolver.atomic_download): the folder named by the handle's sha1 exists and is
    # not empty, so it is used with no request; its files are the archive's.
    module = tfhub_cache() / module_name(HANDLE)
    assert module.exists() and os.listdir(module)
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(lab.archive)) as tar:
        for m in tar.getmembers():
            if m.isfile():
                assert (module / m.name).read_bytes() == tar.extractfile(m).read()  # type: ignore[union-attr]
    assert lab.body_bytes() == 0 and lab.torch.requests == [] and state(lab.root) == before


def test_a_damaged_shared_file_is_not_linked_and_is_downloaded_instead(lab: Lab, cli, tmp_path: Path) -> None:
    root = tmp_path / "damaged"
    shutil.copytree(lab.root, root, symlinks=True)
    writable(root)
    blob = root / "huggingface" / "hub" / "models--zoofind-lab--shared-tiny" / "blobs" / blob_name("model.safetensors")
    bad = bytearray(blob.read_bytes())
    bad[1000] ^= 0xFF  # same size, other bytes
    blob.write_bytes(bytes(bad))
    ckpt = root / "torch" / "hub" / "checkpoints" / lab.checkpoint
    bad_ckpt = bytearray(ckpt.read_bytes())
    bad_ckpt[-1] ^= 0xFF
    ckpt.write_bytes(bytes(bad_ckpt))
    read_only(root)
    before = state(root)
    lab.clear()
    ran = cli("pull", f"hf:{REPO}", SQUEEZENET, "--json", env=user_env(lab, root))
    assert ran.code == 0, ran.stderr
    hf, tv = json.loads(ran.stdout)["results"]
    assert {f["path"]: f["status"] for f in hf["files"]} == {"config.json": "shared", "tokenizer/vocab.txt": "shared",
                                                             "model.safetensors": "downloaded"}
    assert [f["status"] for f in tv["files"]] == ["downloaded"]
    assert any(str(blob) in n and "does not match its hash" in n for n in hf["notes"]), hf["notes"]
    assert any(lab.checkpoint in n and "does not match its hash" in n for n in tv["notes"]), tv["notes"]
    # Exactly the two damaged files came over the network, each once; the others were linked.
    assert lab.hub.bytes_by_key == {f"{REPO}/model.safetensors": len(FILES["model.safetensors"])}
    assert sum(lab.torch.bytes_by_key.values()) == len(lab.checkpoint_bytes)
    local_blob = hub_cache() / "models--zoofind-lab--shared-tiny" / "blobs" / blob_name("model.safetensors")
    assert not local_blob.is_symlink() and local_blob.read_bytes() == FILES["model.safetensors"]
    assert (hub_cache() / "models--zoofind-lab--shared-tiny" / "blobs" / blob_name("config.json")).is_symlink()
    local_ckpt = checkpoints() / lab.checkpoint
    assert not local_ckpt.is_symlink() and local_ckpt.read_bytes() == lab.checkpoint_bytes
    # The tier's damaged files are left exactly as they were: not ours to repair or delete.
    assert state(root) == before and blob.read_bytes() == bytes(bad)
    writable(root)


def test_roots_are_tried_in_order_and_a_missing_root_is_ignored(lab: Lab, cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty-root"
    (empty / "huggingface" / "hub").mkdir(parents=True)
    lab.clear()
    ran = cli("pull", f"hf:{REPO}", SQUEEZENET, env=user_env(lab, tmp_path / "not-mounted", empty, lab.root))
    assert ran.code == 0, ran.stderr
    assert lab.body_bytes() == 0
    blob = hub_cache() / "models--zoofind-lab--shared-tiny" / "blobs" / blob_name("model.safetensors")
    assert Path(os.readlink(blob)).is_relative_to(lab.root)
    assert Path(os.readlink(checkpoints() / lab.checkpoint)).is_relative_to(lab.root)
    assert not (tmp_path / "not-mounted").exists() and [p.name for p in empty.rglob("*")] == ["huggingface", "hub"]


def test_a_file_the_admin_removes_later_is_downloaded_on_the_next_pull(lab: Lab, cli, tmp_path: Path) -> None:
    root = tmp_path / "changing"
    shutil.copytree(lab.root, root, symlinks=True)
    writable(root)
    assert cli("pull", SQUEEZENET, env=user_env(lab, root)).code == 0
    (root / "torch" / "hub" / "checkpoints" / lab.checkpoint).unlink()  # the link in the user's cache dangles now
    lab.clear()
    ran = cli("pull", SQUEEZENET, env=user_env(lab, root))
    assert ran.code == 0, ran.stderr
    target = checkpoints() / lab.checkpoint
    assert not target.is_symlink() and target.read_bytes() == lab.checkpoint_bytes
    assert sum(lab.torch.bytes_by_key.values()) == len(lab.checkpoint_bytes)


def test_an_admin_refilling_a_root_that_is_also_shared_never_links_a_file_to_itself(lab: Lab, tmp_path: Path) -> None:
    root = tmp_path / "admin-root"
    shutil.copytree(lab.root, root, symlinks=True)
    writable(root)
    ckpt = root / "torch" / "hub" / "checkpoints" / lab.checkpoint
    ckpt.unlink()
    lab.clear()
    ran = fill(root, {**lab.endpoints, "ZOOFIND_SHARED_CACHE": str(root)}, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert not ckpt.is_symlink() and ckpt.read_bytes() == lab.checkpoint_bytes


def test_a_shared_module_without_its_descriptor_is_not_used(lab: Lab, cli, tmp_path: Path) -> None:
    root = tmp_path / "no-descriptor"
    shutil.copytree(lab.root, root, symlinks=True)
    writable(root)
    module = root / "tfhub_modules" / module_name(HANDLE)
    module.with_name(module.name + ".descriptor.txt").unlink()
    lab.clear()
    ran = cli("pull", f"tfhub:{HANDLE}", env=user_env(lab, root))
    assert ran.code == 0, ran.stderr
    local = tfhub_cache() / module_name(HANDLE)
    assert not local.is_symlink() and (local / "saved_model.pb").is_file()
    assert lab.tfhub.bytes_by_key == {HANDLE: len(lab.archive)}


# -- a read-only mount ---------------------------------------------------------------------
@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs, unmounted afterwards; skipped (with the reason) only where mounting is impossible."""
    where = tmp_path / "mnt"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "zoofind-shared-test", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); the chmod and snapshot checks above still ran")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_tier_on_a_read_only_mount_serves_users_and_is_never_written(lab: Lab, cli, tmpfs: Path, tmp_path: Path) -> None:
    lab.clear()
    filled = fill(tmpfs, lab.endpoints, tmp_path)
    assert filled.returncode == 0, filled.stderr
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with pytest.raises(OSError):
        (tmpfs / "probe").write_bytes(b"")  # even root cannot write now
    before = state(tmpfs)
    lab.clear()
    ran = cli("pull", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", env=user_env(lab, tmpfs))
    assert ran.code == 0, ran.stderr
    assert lab.body_bytes() == 0 and state(tmpfs) == before
    # Another file system: a hard link was never possible; the links are symlinks.
    assert os.readlink(checkpoints() / lab.checkpoint) == str(tmpfs / "torch" / "hub" / "checkpoints" / lab.checkpoint)


# -- the mapping ---------------------------------------------------------------------------
def test_candidates_map_each_local_cache_to_the_same_place_in_every_root(tmp_path: Path) -> None:
    from zoofind.caches import shared
    from zoofind.caches.torch_hub import PLACE as TORCH

    # Each hub declares its place where it lays its cache out: importing those modules is all it takes.
    from zoofind.hubs.hf.repo_cache import PLACE as HF
    from zoofind.hubs.tfhub.module_cache import PLACE as TFHUB

    assert (HF.inside, TORCH.inside, TFHUB.inside) == (("huggingface", "hub"), ("torch", "hub", "checkpoints"),
                                                       ("tfhub_modules",))
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "c"), "HF_HOME": str(tmp_path / "hf"),
           shared.ENV: f"{a}:{tmp_path / 'missing'}:{b}:{a}"}
    assert shared.roots(env) == (a, b)
    blob = tmp_path / "hf" / "hub" / "models--o--n" / "blobs" / ("0" * 64)
    assert shared.candidates(blob, env) == tuple(r / "huggingface" / "hub" / "models--o--n" / "blobs" / ("0" * 64) for r in (a, b))
    ckpt = tmp_path / "c" / "torch" / "hub" / "checkpoints" / "x-1234abcd.pth"
    assert shared.candidates(ckpt, env) == (a / "torch/hub/checkpoints/x-1234abcd.pth", b / "torch/hub/checkpoints/x-1234abcd.pth")
    assert shared.candidates(tmp_path / "c" / "tfhub_modules" / "ab", {**env, "TFHUB_CACHE_DIR": ""}) == (
        a / "tfhub_modules" / "ab", b / "tfhub_modules" / "ab")
    assert shared.candidates(tmp_path / "elsewhere" / "f", env) == ()
    # A local cache that is itself a shared root is never its own candidate.
    own = {**env, "XDG_CACHE_HOME": str(a)}
    assert shared.candidates(a / "torch/hub/checkpoints/x-1234abcd.pth", own) == (b / "torch/hub/checkpoints/x-1234abcd.pth",)
    assert shared.candidates(blob, {**env, shared.ENV: ""}) == ()
    # One cache inside another's folder (HF_HOME below TORCH_HOME): the innermost claims its paths.
    nested = {**env, "TORCH_HOME": str(tmp_path / "t"), "HF_HOME": str(tmp_path / "t" / "hub" / "checkpoints" / "hf")}
    inner = tmp_path / "t" / "hub" / "checkpoints" / "hf" / "hub" / "models--o--n" / "blobs" / "e"
    assert shared.candidates(inner, nested) == (a / "huggingface/hub/models--o--n/blobs/e", b / "huggingface/hub/models--o--n/blobs/e")
    # The generic folders of one place: each root's, and a tier's (a root that is the user's own cache left out).
    assert TORCH.shared(env) == (a / "torch/hub/checkpoints", b / "torch/hub/checkpoints")
    assert TORCH.tiered(own, "shared") == [b / "torch/hub/checkpoints"]
    assert TORCH.tiered(own, "local") == [a / "torch/hub/checkpoints"]



# -- the human summary ---------------------------------------------------------------------
def test_stderr_says_how_many_files_and_bytes_came_from_the_tier(lab: Lab, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", env=user_env(lab, lab.root))
    assert ran.code == 0, ran.stderr
    assert f"linked 3 file(s), {human_size(sum(map(len, FILES.values())))}, from the shared tier" in ran.stderr, ran.stderr


def human_size(n: int) -> str:
    from zoofind.core.units import human_bytes

    return human_bytes(n)


# -- offline -------------------------------------------------------------------------------
def test_offline_pulls_from_the_shared_tier_alone_with_zero_requests(lab: Lab, cli) -> None:
    before = state(lab.root)
    lab.clear()
    ran = cli("pull", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", "--offline", "--json", env=user_env(lab, lab.root))
    assert ran.code == 0, ran.stderr
    assert lab.hub.requests == [] and lab.torch.requests == [] and lab.tfhub.entries == []
    hf, tv, tf = json.loads(ran.stdout)["results"]
    assert {f["path"]: f["status"] for f in hf["files"]} == dict.fromkeys(FILES, "shared")
    assert {f["status"] for f in tv["files"]} == {f["status"] for f in tf["files"]} == {"shared"}
    commit = lab.hub.repo(REPO).branches["main"]
    snap = hub_cache() / "models--zoofind-lab--shared-tiny" / "snapshots" / commit
    assert hf["path"] == str(snap) and hf["commit"] == commit
    assert {f["path"]: f["blob"] for f in hf["files"]} == {rel: blob_name(rel) for rel in FILES}
    for rel, data in FILES.items():
        assert (snap / rel).read_bytes() == data and not os.path.isabs(os.readlink(snap / rel))
    assert (snap.parent.parent / "refs" / "main").read_text() == commit
    assert os.readlink(checkpoints() / lab.checkpoint) == str(lab.root / "torch" / "hub" / "checkpoints" / lab.checkpoint)
    assert (tfhub_cache() / module_name(HANDLE) / "saved_model.pb").is_file()
    check = subprocess.run([sys.executable, "-c", (
        "import huggingface_hub as h\n"
        f"print(h.snapshot_download({REPO!r}, local_files_only=True))\n"
        "print(len(h.scan_cache_dir().warnings))")], capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert check.stdout.split() == [str(snap), "0"], check.stderr
    assert state(lab.root) == before
    # Afterwards the user's own cache answers: nothing is linked again.
    again = cli("pull", f"hf:{REPO}", "--offline", "--json", env=user_env(lab, lab.root))
    assert {f["status"] for f in json.loads(again.stdout)["results"][0]["files"]} == {"cached"}


def test_offline_refuses_a_damaged_shared_revision_and_makes_none_of_it_visible(lab: Lab, cli, tmp_path: Path) -> None:
    root = tmp_path / "damaged"
    shutil.copytree(lab.root, root, symlinks=True)
    writable(root)
    blob = root / "huggingface" / "hub" / "models--zoofind-lab--shared-tiny" / "blobs" / blob_name("config.json")
    blob.write_bytes(blob.read_bytes().replace(b"esm", b"ESM"))
    ran = cli("pull", f"hf:{REPO}", "--offline", env=user_env(lab, root))
    assert ran.code == 1 and "config.json" in ran.stderr and "does not match its hash" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    repo = hub_cache() / "models--zoofind-lab--shared-tiny"
    assert not (repo / "refs" / "main").exists() and [p for p in (repo / "snapshots").rglob("*") if not p.is_dir()] == []
    missing = cli("pull", "hf:zoofind-lab/not-shared", "--offline", env=user_env(lab, root))
    assert missing.code == 1 and "nor in the shared tier" in missing.stderr


def test_dest_points_at_the_shared_files_with_symlinks_never_hard_links(lab: Lab, cli, tmp_path: Path) -> None:
    before = state(lab.root)
    out = tmp_path / "here"
    ran = cli("pull", SQUEEZENET, "--dest", str(out), env=user_env(lab, lab.root))
    assert ran.code == 0, ran.stderr
    placed = out / lab.checkpoint
    assert placed.is_symlink() and Path(os.readlink(placed)).is_relative_to(lab.root)
    assert placed.read_bytes() == lab.checkpoint_bytes and "symlinks into the shared tier" in ran.stderr
    assert state(lab.root) == before  # no new link count on the admin's file either


def test_a_locked_pull_takes_every_locked_file_from_the_tier(lab: Lab, cli, tmp_path: Path) -> None:
    before = state(lab.root)
    env = user_env(lab, lab.root)
    lock_file = tmp_path / "study.lock"
    assert cli("lock", f"hf:{REPO}", SQUEEZENET, f"tfhub:{HANDLE}", "-o", str(lock_file), env=env).code == 0
    for folder in (hub_cache(), checkpoints(), tfhub_cache()):
        shutil.rmtree(folder)
    lab.clear()
    ran = cli("pull", "--lock", str(lock_file), "--json", env=env)
    assert ran.code == 0, ran.stderr
    assert lab.body_bytes() == 0
    for result in json.loads(ran.stdout)["results"]:
        assert {f["status"] for f in result["files"]} == {"shared"}, result
    assert cli("pull", "--lock", str(lock_file), "--offline", env=env).code == 0
    assert state(lab.root) == before


# -- a plugin hub ----------------------------------------------------------------------------
def test_a_plugin_hub_that_declares_its_place_is_served_by_the_shared_tier(tmp_path: Path, hermetic: Path, cli) -> None:
    """tinyhub (tests/plugins) declares ``tinyhub/`` as its place in a cache home and nothing else:
    the admin's pull fills a root, a user's pull links every file from it after checking it, and
    ``cache ls`` lists the root's model in the shared tier and the user's as local with linked bytes."""
    from test_plugin_pull import FILES as TINY
    from test_plugin_pull import install

    index = {"models": [{"name": "axolotl", "description": "Axolotl limb regeneration stages",
                         "files": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                                   for p, b in TINY.items()]}]}
    served = {"/index.json": json.dumps(index).encode(), **{f"/files/axolotl/{p}": b for p, b in TINY.items()}}
    root = tmp_path / "lab"
    with FileServer(served, missing_status=404) as srv:
        env = {"PYTHONPATH": install(tmp_path), "TINYHUB_ENDPOINT": srv.url}
        filled = cli("pull", "tinyhub:axolotl", env={**env, "TINYHUB_HOME": str(root / "tinyhub")})
        assert filled.code == 0, filled.stderr
        before, fetched = state(root), {k: v for k, v in srv.bytes_by_key.items() if k.startswith("/files/")}
        assert sum(fetched.values()) == sum(map(len, TINY.values()))

        user = {**env, "ZOOFIND_SHARED_CACHE": str(root)}
        ran = cli("pull", "tinyhub:axolotl", "--json", env=user)
        assert ran.code == 0, ran.stderr
        assert {f["path"]: f["status"] for f in json.loads(ran.stdout)["results"][0]["files"]} == dict.fromkeys(TINY, "shared")
        assert {k: v for k, v in srv.bytes_by_key.items() if k.startswith("/files/")} == fetched  # no body fetched again
        mine = hermetic / ".cache" / "tinyhub" / "axolotl"
        for rel, data in TINY.items():
            assert os.readlink(mine / rel) == str(root / "tinyhub" / "axolotl" / rel) and (mine / rel).read_bytes() == data
        assert (mine / ".complete").is_file() and state(root) == before

        listed = cli("cache", "ls", "--source", "tinyhub", "--json", env=user)
        assert listed.code == 0, listed.stderr
        by_tier = {m["tier"]: m for m in json.loads(listed.stdout)["results"]}
        assert by_tier["shared"]["path"] == str(root / "tinyhub" / "axolotl")
        assert by_tier["local"]["path"] == str(mine) and by_tier["local"]["linked_size"] == sum(map(len, TINY.values()))
