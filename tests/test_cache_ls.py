"""`zoofind cache ls` and `zoofind cache path`: one view of the framework caches, whoever filled them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.tfhub_server import TfhubServer
from zoofind.core.errors import UsageError
from zoofind.ops.inventory import parse_age, parse_size

MB = 1024 * 1024
QUANTIZED = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


@pytest.fixture
def filled(hf_hub, monkeypatch: pytest.MonkeyPatch, cli):
    """A Hub repo pulled at two revisions sharing a blob, one fetched by huggingface_hub itself,
    a torchvision checkpoint and a TF Hub module."""
    weights = blob(2 * MB, "w")
    first = hf_hub.add_repo("lab/two-revs", {"config.json": b'{"v": 1}', "model.safetensors": weights}, tags=["v1"])
    hf_hub.add_repo("lab/two-revs", {"config.json": b'{"v": 2}'})
    hf_hub.add_repo("lab/by-hf", {"config.json": b"{}", "model.safetensors": blob(MB, "hf")})
    assert cli("pull", "hf:lab/two-revs@v1").code == 0
    assert cli("pull", "hf:lab/two-revs").code == 0
    done = subprocess.run([sys.executable, "-c", "import huggingface_hub as h; h.snapshot_download('lab/by-hf')"],
                          env={**os.environ, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("TORCH_HOME", str(Path(os.environ["HOME"]) / "torch"))
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(Path(os.environ["HOME"]) / "tfhub"))
    with FileServer({"/models/quantized/resnet18_fbgemm_16fa66dd.pth": blob(3 * MB, "tv")}) as tv, TfhubServer() as tfhub:
        tfhub.add_model("google/yamnet/1")
        env = {"ZOOFIND_TORCHVISION_ENDPOINT": tv.url + "/models", "ZOOFIND_TFHUB_ENDPOINT": tfhub.url}
        assert cli("pull", QUANTIZED, "tfhub:google/yamnet/1", env=env).code == 0
    return first


def listing(cli, *args: str) -> dict:
    ran = cli("cache", "ls", "--json", *args)
    assert ran.code == 0, ran.stderr
    return json.loads(ran.stdout)


def test_cache_ls_shows_every_cache_with_sizes_counted_as_huggingface_hub_counts_them(filled, cli) -> None:
    data = listing(cli)
    by_id = {m["id"]: m for m in data["results"]}
    assert set(by_id) == {"hf:lab/two-revs", "hf:lab/by-hf", QUANTIZED, "tfhub:google/yamnet/1"}
    two = by_id["hf:lab/two-revs"]
    assert len(two["revisions"]) == 2 and any(r.startswith(filled) and "v1" in r for r in two["revisions"])
    assert two["path"].endswith("/snapshots/" + next(r.split()[0] for r in two["revisions"] if "main" in r))
    check = subprocess.run(
        [sys.executable, "-c", "import huggingface_hub as h, json; i = h.scan_cache_dir(); "
         "print(json.dumps({r.repo_id: r.size_on_disk for r in i.repos}), len(i.warnings))"],
        capture_output=True, text=True, timeout=120)
    sizes, warnings = check.stdout.rsplit(" ", 1)
    assert json.loads(sizes) == {"lab/two-revs": two["size"], "lab/by-hf": by_id["hf:lab/by-hf"]["size"]}
    assert warnings.strip() == "0"
    # The 2 MB weights shared by both revisions count once.
    assert two["size"] < 2 * MB + 100
    assert by_id[QUANTIZED]["size"] == 3 * MB and by_id[QUANTIZED]["path"].endswith("resnet18_fbgemm_16fa66dd.pth")
    assert data["total_bytes"] == sum(m["size"] for m in data["results"])


def test_filters_sorting_and_formats(filled, cli) -> None:
    big = listing(cli, "--larger-than", "2.5MB")["results"]
    assert [m["id"] for m in big] == [QUANTIZED]
    # The two-revision repo is 2 MiB of weights plus its configs: above 2MiB, below 2.1MiB.
    assert [m["id"] for m in listing(cli, "--larger-than", "2MiB")["results"]] == [QUANTIZED, "hf:lab/two-revs"]
    assert [m["id"] for m in listing(cli, "--larger-than", "2.1MiB")["results"]] == [QUANTIZED]
    assert [m["id"] for m in listing(cli, "--source", "tfhub")["results"]] == ["tfhub:google/yamnet/1"]
    by_id = [m["id"] for m in listing(cli, "--sort", "id")["results"]]
    assert by_id == sorted(by_id)
    assert listing(cli, "--unused-for", "1d")["results"] == []
    ids = cli("cache", "ls", "--format", "ids")
    assert sorted(ids.stdout.split()) == sorted(by_id)
    tsv = cli("cache", "ls", "-s", "torchvision")
    assert tsv.stdout.split("\t")[0] == QUANTIZED and tsv.stdout.count("\n") == 1
    bad = cli("cache", "ls", "--larger-than", "big")
    assert bad.code == 2 and "not a size" in bad.stderr


def test_least_recently_used_first(filled, cli) -> None:
    old = time.time() - 40 * 86400
    for p in Path(os.environ["TORCH_HOME"]).rglob("*.pth"):
        os.utime(p, (old, old))
    data = listing(cli, "--sort", "used")["results"]
    assert data[0]["id"] == QUANTIZED
    assert [m["id"] for m in listing(cli, "--unused-for", "30d")["results"]] == [QUANTIZED]


def test_cache_path_prints_what_the_framework_loads(filled, cli) -> None:
    ran = cli("cache", "path", "hf:lab/two-revs@v1")
    assert ran.code == 0 and ran.stdout.strip().endswith(f"/snapshots/{filled}")
    assert (Path(ran.stdout.strip()) / "config.json").read_bytes() == b'{"v": 1}'
    tv = cli("cache", "path", "torchvision:quantized_resnet18")
    assert tv.code == 0 and tv.stdout.strip().endswith("resnet18_fbgemm_16fa66dd.pth")
    missing = cli("cache", "path", "hf:lab/not-here")
    assert missing.code == 3 and "zoofind pull hf:lab/not-here" in missing.stderr


def test_sizes_and_ages_accept_decimal_and_binary_units() -> None:
    assert parse_size("50M") == 50_000_000 and parse_size("1G") == 10**9 and parse_size("1GB") == 10**9
    assert parse_size("50MiB") == 50 * MB and parse_size("1GiB") == 1024**3 and parse_size("1500") == 1500
    assert parse_age("30d") == 30 * 86400 and parse_age("2w") == 14 * 86400 and parse_age("90m") == 5400
    for bad in ("", "G", "1X", "-1G"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_kagglehubs_cache_is_listed_when_a_version_is_complete(cli, tmp_path: Path) -> None:
    root = tmp_path / "kh"
    folder = root / "models" / "google" / "yamnet" / "tensorFlow2" / "yamnet" / "1"
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"x" * 1000)
    half = root / "models" / "google" / "other" / "tensorFlow2" / "default" / "2"
    half.mkdir(parents=True)  # no .complete marker: kagglehub itself would not use it
    (folder.parent / "1.complete").touch()
    ran = cli("cache", "ls", "--json", "-s", "kaggle", env={"KAGGLEHUB_CACHE": str(root)})
    (m,) = json.loads(ran.stdout)["results"]
    assert m["id"] == "kaggle:google/yamnet/tensorFlow2/yamnet/1" and m["size"] == 1000 and m["path"] == str(folder)


def test_cache_verify_finds_damaged_and_missing_files_by_path(filled, cli) -> None:
    ok = cli("cache", "verify")
    assert ok.code == 0 and ok.stdout == "" and "all good" in ok.stderr
    hub = Path(os.environ["HF_HOME"]) / "hub" / "models--lab--two-revs"
    weights = next(p for p in (hub / "blobs").iterdir() if len(p.name) == 64)
    with weights.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00garbage\x00")
    config = next(hub.glob("snapshots/*/config.json"))
    os.unlink(config.resolve())
    bad = cli("cache", "verify", "hf:lab/two-revs")
    assert bad.code == 1
    lines = sorted(bad.stdout.splitlines())
    assert any(line.endswith("model.safetensors\tsha256 mismatch") for line in lines)
    assert any(line.endswith("config.json\tmissing") for line in lines)
    assert all(line.startswith("hf:lab/two-revs\t") for line in lines)
    assert cli("cache", "verify", QUANTIZED).code == 0
    assert cli("cache", "verify", "hf:lab/nothing").code == 3


def test_cache_rm_of_one_revision_keeps_blobs_main_still_uses(filled, cli) -> None:
    hub = Path(os.environ["HF_HOME"]) / "hub" / "models--lab--two-revs"
    weights = next(p for p in (hub / "blobs").iterdir() if len(p.name) == 64)
    dry = cli("cache", "rm", f"hf:lab/two-revs@{filled}", "--dry-run")
    assert dry.code == 0 and str(hub / "snapshots" / filled) in dry.stdout
    assert str(weights) not in dry.stdout  # main links to the same weights
    assert (hub / "snapshots" / filled).exists()
    refused = cli("cache", "rm", "hf:lab/two-revs@v1")
    assert refused.code == 2 and "--yes" in refused.stderr
    ran = cli("cache", "rm", "hf:lab/two-revs@v1", "--yes")
    assert ran.code == 0, ran.stderr
    assert not (hub / "snapshots" / filled).exists() and not (hub / "refs" / "tags" / "v1").exists() and not (hub / "refs" / "v1").exists()
    assert weights.exists()
    assert cli("cache", "verify", "hf:lab/two-revs").code == 0
    (main,) = [r for r in listing(cli, "-s", "hf")["results"] if r["id"] == "hf:lab/two-revs"][0]["revisions"]
    assert "main" in main


def test_cache_rm_of_whole_models_from_stdin(filled, cli) -> None:
    ids = cli("cache", "ls", "--format", "ids", "--source", "torchvision").stdout
    ran = cli("cache", "rm", "-", "--yes", stdin=ids + "tfhub:google/yamnet/1\n")
    assert ran.code == 0, ran.stderr
    left = {m["id"] for m in listing(cli)["results"]}
    assert left == {"hf:lab/two-revs", "hf:lab/by-hf"}
    assert not list(Path(os.environ["TFHUB_CACHE_DIR"]).glob("*.descriptor.txt"))
    whole = cli("cache", "rm", "hf:lab/by-hf", "--yes")
    assert whole.code == 0 and not (Path(os.environ["HF_HOME"]) / "hub" / "models--lab--by-hf").exists()
    assert cli("cache", "rm", "hf:lab/by-hf", "--yes").code == 3


def test_prune_evicts_the_least_recently_used_not_the_largest(filled, cli) -> None:
    now = time.time()
    ages = {QUANTIZED: 50, "hf:lab/by-hf": 40, "tfhub:google/yamnet/1": 30, "hf:lab/two-revs": 1}
    for m in listing(cli)["results"]:
        t = now - ages[m["id"]] * 86400
        for p in [Path(m["path"]), *Path(m["path"]).parent.parent.rglob("*")] if m["source"] == "hf" else [Path(m["path"]), *Path(m["path"]).rglob("*")]:
            os.utime(p, (t, t), follow_symlinks=False)
            if p.is_symlink():
                os.utime(p.resolve(), (t, t))
    sizes = {m["id"]: m["size"] for m in listing(cli)["results"]}
    # A budget between the sizes: only the least recently used (the 3 MB checkpoint) must go.
    budget = sum(sizes.values()) - sizes[QUANTIZED] + 1000
    dry = cli("cache", "prune", "--max-size", str(budget), "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "resnet18_fbgemm_16fa66dd.pth" in dry.stdout and "by-hf" not in dry.stdout
    assert cli("cache", "prune", "--max-size", str(budget), "--yes").code == 0
    assert {m["id"] for m in listing(cli)["results"]} == set(sizes) - {QUANTIZED}
    assert cli("cache", "prune", "--unused-for", "35d", "--yes").code == 0
    assert {m["id"] for m in listing(cli)["results"]} == {"tfhub:google/yamnet/1", "hf:lab/two-revs"}
    assert cli("cache", "prune").code == 2


def test_prune_cleans_partials_older_than_a_day(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    old, fresh = folder / ".zoofind-partial-a.pth", folder / ".zoofind-partial-b.pth"
    for p in (old, fresh):
        p.write_bytes(b"x" * 100)
    t = time.time() - 2 * 86400
    os.utime(old, (t, t))
    assert cli("cache", "prune", "--unused-for", "365d", "--yes").code == 0
    assert not old.exists() and fresh.exists()


# -- huggingface_hub's cache-wide Xet store ---------------------------------------------------------
#: huggingface_hub's own download path (file_download.py: try_link_from_shared_store,
#: publish_blob_to_shared_store, the snapshot links), run in a referee process. The test Hub
#: speaks no Xet protocol (CAS), so only the transfer itself (``file_download.xet_get``) is
#: replaced by a copy of the file's bytes; every cache write is huggingface_hub's.
HF_XET_DOWNLOAD = r'''
import os, shutil, sys
import huggingface_hub.file_download as fd
def xet_get(*, incomplete_path, xet_file_data, **_):
    shutil.copyfile(os.path.join(os.environ["XET_BODIES"], xet_file_data.file_hash), incomplete_path)
fd.xet_get = xet_get
from huggingface_hub import snapshot_download
for repo in sys.argv[1:]:
    snapshot_download(repo)
'''

REFEREE = r'''
import json, sys
import huggingface_hub as h
info = h.scan_cache_dir()
loads = {}
for repo in info.repos:
    try:
        h.snapshot_download(repo.repo_id, local_files_only=True)
        loads[repo.repo_id] = True
    except Exception as exc:
        loads[repo.repo_id] = repr(exc)
print(json.dumps({"sizes": {r.repo_id: r.size_on_disk for r in info.repos}, "total": info.size_on_disk,
                  "warnings": [str(w) for w in info.warnings], "loads": loads}))
'''


def referee() -> dict:
    """What huggingface_hub itself sees in the hub cache: per-repo sizes, the total, warnings, what loads offline."""
    done = subprocess.run([sys.executable, "-c", REFEREE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def xet_cache(hf_hub, tmp_path: Path) -> Path:
    """lab/a and lab/b hold the same Xet file (one store blob, linked from both); lab/c one of its own."""
    shared_weights, own = blob(300_000, "xet-shared"), blob(200_000, "xet-own")
    hf_hub.add_repo("lab/a", {"config.json": b'{"a": 1}', "model.safetensors": shared_weights}, xet={"model.safetensors"})
    hf_hub.add_repo("lab/b", {"config.json": b'{"b": 1}', "model.safetensors": shared_weights}, xet={"model.safetensors"})
    hf_hub.add_repo("lab/c", {"config.json": b'{"c": 1}', "model.safetensors": own}, xet={"model.safetensors"})
    bodies = tmp_path / "xet-bodies"
    bodies.mkdir()
    for repo, data in (("lab/a", shared_weights), ("lab/c", own)):
        (bodies / hf_hub.file(repo, "model.safetensors").xet_hash).write_bytes(data)
    env = {**os.environ, "XET_BODIES": str(bodies), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_DISABLE_XET", None)
    done = subprocess.run([sys.executable, "-c", HF_XET_DOWNLOAD, "lab/a", "lab/b", "lab/c"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    hub = Path(os.environ["HF_HOME"]) / "hub"
    xet_hash = hf_hub.file("lab/a", "model.safetensors").xet_hash
    payload = hub / "blobs" / xet_hash[:2] / xet_hash
    assert payload.is_file() and (hub / "models--lab--b" / "blobs" / hf_hub.file("lab/b", "model.safetensors").sha256).is_symlink()
    return payload


def test_xet_store_blobs_are_counted_once_in_totals_as_huggingface_hub_counts_them(xet_cache: Path, cli) -> None:
    data = listing(cli, "-s", "hf")
    seen = referee()
    assert seen["warnings"] == []
    assert {m["id"]: m["size"] for m in data["results"]} == {f"hf:{r}": s for r, s in seen["sizes"].items()}
    # Each repo counts the 300 kB blob (as scan_cache_dir's per-repo size does); the total counts it once.
    assert data["total_bytes"] == seen["total"] < sum(m["size"] for m in data["results"])
    ran = cli("cache", "ls", "-s", "hf")
    assert "a blob several repos share counted once" in ran.stderr
    # Blobs are checked by their repo entry's name (the LFS sha256), not by the store's name for them.
    ok = cli("cache", "verify")
    assert ok.code == 0, ok.stdout + ok.stderr


def test_rm_never_deletes_a_store_blob_another_repo_links_to(xet_cache: Path, cli) -> None:
    both = cli("cache", "rm", "hf:lab/a", "hf:lab/b", "--dry-run")
    assert both.code == 0 and both.stdout.count(str(xet_cache)) == 1  # goes once, with the last repo linking to it
    alone = cli("cache", "rm", "hf:lab/a", "--dry-run")
    # Only its own files would go (config.json, huggingface_hub's tree listing), not the 300 kB lab/b still links to.
    assert str(xet_cache) not in alone.stdout and re.search(r"hf:lab/a: \d{1,3} B", alone.stderr), alone.stderr
    assert cli("cache", "rm", "hf:lab/a", "--yes").code == 0
    assert xet_cache.is_file()
    seen = referee()
    assert seen["warnings"] == [] and seen["loads"] == {"lab/b": True, "lab/c": True}
    assert cli("cache", "verify", "hf:lab/b").code == 0
    manifest = xet_cache.with_name(xet_cache.name + ".refs")
    assert "models--lab--a" not in manifest.read_text() and "models--lab--b" in manifest.read_text()
    dry = cli("cache", "rm", "hf:lab/b", "--dry-run")
    assert str(xet_cache) in dry.stdout and "hf:lab/b: 300.5 kB" in dry.stderr, dry.stderr
    assert cli("cache", "rm", "hf:lab/b", "--yes").code == 0
    assert not xet_cache.exists() and not manifest.exists()
    seen = referee()
    assert seen["warnings"] == [] and seen["loads"] == {"lab/c": True}


def test_prune_budget_counts_a_store_blob_once(xet_cache: Path, cli) -> None:
    whole = listing(cli)["total_bytes"]
    assert whole == 300_000 + 200_000 + 24  # the shared blob once, the other, three 8-byte configs
    dry = cli("cache", "prune", "--max-size", "0", "--dry-run")
    freed = re.search(r"would free ([\d.]+) kB", dry.stderr)
    # The blobs, plus huggingface_hub's small tree listings (not in a repo's size, but deleted with it).
    assert dry.code == 0 and freed and 500.0 <= float(freed[1]) < 502, dry.stderr
    assert cli("cache", "prune", "--max-size", "0", "--yes").code == 0
    assert listing(cli)["results"] == [] and not xet_cache.exists()
    assert referee()["warnings"] == []


# -- the shared tier ----------------------------------------------------------------------------------
def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every path below ``root`` with its size and modification time (links not followed)."""
    return {str(p): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in [root, *root.rglob("*")]}


@pytest.fixture
def shared_tier(hf_hub, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shared root filled as an admin fills one (zoofind pull into a cache home), and a local
    cache holding one model of its own and links into the root as ``caches/shared.py`` makes them."""
    root = tmp_path / "shared"
    hf_hub.add_repo("lab/everyone", {"config.json": b'{"e": 1}', "model.safetensors": blob(2 * MB, "everyone")})
    hf_hub.add_repo("lab/admin-only", {"config.json": b'{"o": 1}', "model.safetensors": blob(MB, "admin")})
    hf_hub.add_repo("lab/mine", {"config.json": b'{"m": 1}', "model.safetensors": blob(MB // 2, "mine")})
    admin = {"HF_HOME": str(root / "huggingface"), "TORCH_HOME": str(root / "torch"), "TFHUB_CACHE_DIR": str(root / "tfhub_modules")}
    with FileServer({"/models/quantized/resnet18_fbgemm_16fa66dd.pth": blob(3 * MB, "tv")}) as tv, TfhubServer() as tfhub:
        tfhub.add_model("google/yamnet/1")
        endpoints = {"ZOOFIND_TORCHVISION_ENDPOINT": tv.url + "/models", "ZOOFIND_TFHUB_ENDPOINT": tfhub.url}
        ran = cli("pull", "hf:lab/everyone", "hf:lab/admin-only", QUANTIZED, "tfhub:google/yamnet/1", env={**admin, **endpoints})
        assert ran.code == 0, ran.stderr
    assert cli("pull", "hf:lab/mine").code == 0
    # hf:lab/everyone in the user's cache: blobs/<etag> are absolute links to the shared blobs.
    from zoofind.hubs.hf.repo_cache import RepoCache

    there = RepoCache(root / "huggingface" / "hub", "lab/everyone")
    here = RepoCache(Path(os.environ["HF_HOME"]) / "hub", "lab/everyone")
    commit = there.commit_of("main")
    assert commit
    here.snapshot(commit).mkdir(parents=True)
    for f in there.snapshot(commit).iterdir():
        etag = Path(os.readlink(f)).name
        here.blob(etag).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(there.blob(etag).absolute(), here.blob(etag))
        here.link(commit, f.name, etag)
    here.write_ref("main", commit)
    # tfhub:google/yamnet/1 too: the module folder and its descriptor are links to the shared ones.
    local_tfhub = Path(os.environ["HOME"]) / "tfhub"
    local_tfhub.mkdir()
    for p in (root / "tfhub_modules").iterdir():
        if not p.name.startswith("."):
            os.symlink(p.absolute(), local_tfhub / p.name)
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(local_tfhub))
    monkeypatch.setenv("TORCH_HOME", str(Path(os.environ["HOME"]) / "torch"))
    monkeypatch.setenv("ZOOFIND_SHARED_CACHE", str(root))
    return root


def test_cache_ls_shows_which_tier_holds_what(shared_tier: Path, cli) -> None:
    data = listing(cli)
    rows = {(m["id"], m["tier"]): m for m in data["results"]}
    assert set(rows) == {("hf:lab/mine", "local"), ("hf:lab/everyone", "local"), ("tfhub:google/yamnet/1", "local"),
                         ("hf:lab/everyone", "shared"), ("hf:lab/admin-only", "shared"), (QUANTIZED, "shared"),
                         ("tfhub:google/yamnet/1", "shared")}
    everyone_local, everyone_shared = rows["hf:lab/everyone", "local"], rows["hf:lab/everyone", "shared"]
    # The local copy is links only: no bytes of its own, the shared bytes in linked_size.
    assert everyone_local["size"] == 0 and everyone_local["linked_size"] == everyone_shared["size"] > 2 * MB
    assert rows["tfhub:google/yamnet/1", "local"]["size"] == 0 and rows["tfhub:google/yamnet/1", "local"]["linked_size"] > 0
    assert rows["hf:lab/mine", "local"]["size"] > MB // 2 and rows["hf:lab/mine", "local"]["linked_size"] == 0
    assert everyone_shared["linked_size"] == 0 and everyone_shared["cache"] == str(shared_tier / "huggingface" / "hub")
    assert data["total_bytes"] == sum(m["size"] for m in data["results"])
    tsv = cli("cache", "ls", "--sort", "id").stdout.splitlines()
    assert {tuple(line.split("\t")[i] for i in (0, 5)) for line in tsv} == set(rows)  # the tier is the sixth column
    assert {m["id"] for m in listing(cli, "--tier", "local")["results"]} == {"hf:lab/mine", "hf:lab/everyone", "tfhub:google/yamnet/1"}
    assert cli("cache", "ls", "--tier", "elsewhere").code == 2
    note = cli("cache", "ls").stderr
    assert "in the shared tier" in note and "link to" in note
    assert cli("cache", "path", "hf:lab/everyone").stdout.startswith(os.environ["HF_HOME"])  # the local entry first
    assert cli("cache", "path", "hf:lab/admin-only").stdout.startswith(str(shared_tier))
    assert cli("cache", "path", "hf:lab/admin-only@main").stdout.startswith(str(shared_tier))


def test_rm_and_prune_never_touch_the_shared_tier(shared_tier: Path, cli) -> None:
    before = tree_state(shared_tier)
    refused = cli("cache", "rm", "hf:lab/admin-only", "--yes")
    assert refused.code == 4 and "only in the shared tier" in refused.stderr and "Traceback" not in refused.stderr
    assert cli("cache", "rm", QUANTIZED, "--yes").code == 4
    dry = cli("cache", "rm", "hf:lab/everyone", "tfhub:google/yamnet/1", "--dry-run")
    # Only the user's own links and the ref (40 bytes: a commit) would go.
    assert dry.code == 0 and str(shared_tier) not in dry.stdout and "would free 40 B" in dry.stderr, dry.stdout
    assert cli("cache", "rm", "hf:lab/everyone", "tfhub:google/yamnet/1", "--yes").code == 0
    assert not (Path(os.environ["HF_HOME"]) / "hub" / "models--lab--everyone").exists()
    assert not any(Path(os.environ["TFHUB_CACHE_DIR"]).iterdir())
    assert tree_state(shared_tier) == before
    assert cli("cache", "prune", "--max-size", "0", "--yes").code == 0
    assert tree_state(shared_tier) == before
    left = {(m["id"], m["tier"]) for m in listing(cli)["results"]}
    assert left == {("hf:lab/everyone", "shared"), ("hf:lab/admin-only", "shared"), (QUANTIZED, "shared"),
                    ("tfhub:google/yamnet/1", "shared")}


def test_prune_budget_leaves_the_shared_tier_out(shared_tier: Path, cli) -> None:
    mine = next(m for m in listing(cli)["results"] if m["id"] == "hf:lab/mine")
    # The local caches hold only hf:lab/mine's bytes: a budget just above them evicts nothing.
    dry = cli("cache", "prune", "--max-size", str(mine["size"] + 1), "--dry-run")
    assert dry.code == 0 and dry.stdout == "", dry.stdout


def test_verify_checks_the_shared_files_a_local_model_links_to(shared_tier: Path, cli) -> None:
    ok = cli("cache", "verify")
    assert ok.code == 0, ok.stdout
    shared_weights = next((shared_tier / "huggingface" / "hub" / "models--lab--everyone" / "blobs").glob("?" * 64))
    with shared_weights.open("r+b") as fh:
        fh.write(b"\x00bad\x00")
    bad = cli("cache", "verify")
    assert bad.code == 1
    (line,) = bad.stdout.splitlines()
    assert line.startswith("hf:lab/everyone\t" + os.environ["HF_HOME"]) and line.endswith("model.safetensors\tsha256 mismatch")
    # Named, the shared entry is checked only when there is no local one; --tier shared entries are named to verify them.
    assert cli("cache", "verify", "hf:lab/admin-only").code == 0


# -- rm and prune beside a running pull; rm stopped half-way -------------------------------------------
HOLD_LOCK = r'''
import sys, time
from pathlib import Path
from zoofind.fetch.locks import lock_for
lock = lock_for(Path(sys.argv[1]))
lock.acquire(timeout=0)
print("held", flush=True)
time.sleep(600)
'''


@contextlib.contextmanager
def lock_held(path: Path):
    """A pull's download lock on ``path``, held by another process (killed with -9 on exit)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_rm_and_prune_skip_a_model_a_pull_is_writing_and_break_a_dead_pulls_lock(filled, cli) -> None:
    from zoofind.caches.torch_hub import checkpoints, lock_path
    from zoofind.hubs.hf.repo_cache import RepoCache

    checkpoint = next(checkpoints(os.environ).iterdir())
    with lock_held(lock_path(checkpoint)):
        busy = cli("cache", "rm", QUANTIZED, "--yes")
        assert busy.code == 1 and "in use by a pull" in busy.stderr and checkpoint.exists()
    hub = Path(os.environ["HF_HOME"]) / "hub"
    repo = RepoCache(hub, "lab/two-revs")
    with lock_held(repo.lock("0" * 64)) as pull:
        busy = cli("cache", "rm", "hf:lab/two-revs", "hf:lab/by-hf", "--yes")
        assert busy.code == 1
        assert f"kept hf:lab/two-revs: in use by a pull (host {socket.gethostname()}" in busy.stderr and f"pid {pull.pid})" in busy.stderr
        assert repo.root.exists() and not (hub / "models--lab--by-hf").exists()  # the other one went
        pruned = cli("cache", "prune", "--max-size", "0", "--yes")
        assert pruned.code == 1 and "kept hf:lab/two-revs: in use by a pull" in pruned.stderr
    # Its owner is dead now (kill -9): the lock is broken as a pull breaks it, and the removal goes ahead.
    assert cli("cache", "rm", "hf:lab/two-revs", "--yes").code == 0
    assert not repo.root.exists() and not repo.lock("0" * 64).exists()
    assert referee()["warnings"] == []


def test_a_pull_placing_a_model_a_removal_took_fails_cleanly(tmp_path: Path) -> None:
    from zoofind.hubs.hf.repo_cache import RemovedWhilePlacing, RepoCache

    repo = RepoCache(tmp_path / "hub", "lab/x")
    commit = "a" * 40
    for etag in ("1" * 40, "2" * 40):
        repo.blob(etag).parent.mkdir(parents=True, exist_ok=True)
        repo.blob(etag).write_bytes(etag.encode())
    repo.link(commit, "one.json", "1" * 40)
    os.unlink(repo.blob("2" * 40))  # what `cache rm` did after the download put it there
    with pytest.raises(RemovedWhilePlacing, match="removed from the cache"):
        repo.link(commit, "sub/two.json", "2" * 40)
    assert not repo.snapshot(commit).exists() and (repo.root / "snapshots").is_dir()  # its own links taken back
    again = RepoCache(tmp_path / "hub", "lab/x")
    again.link(commit, "one.json", "1" * 40)
    os.unlink(repo.blob("1" * 40))
    with pytest.raises(RemovedWhilePlacing):
        again.write_ref("main", commit)
    assert not (repo.root / "refs" / "main").exists() and not repo.snapshot(commit).exists()


INTERRUPTED_RM = r'''
import json, os, shutil, sys
from pathlib import Path

template, work, spec = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
budget = {"left": None}

def hook(event, args):
    # Ctrl-C at the n-th deletion in the cache (locks aside): every point a removal can stop at.
    if budget["left"] is None or event not in ("os.remove", "os.rmdir", "shutil.rmtree", "os.rename"):
        return
    path = os.fspath(args[0])
    if isinstance(path, str) and path.startswith(str(work)) and "/.locks/" not in path:
        budget["left"] -= 1
        if budget["left"] < 0:
            budget["left"] = None
            raise KeyboardInterrupt

sys.addaudithook(hook)
import huggingface_hub as h
import zoofind

out, n = [], 0
while True:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(template, work, symlinks=True)
    plan = zoofind.plan_cache_removal([spec])
    budget["left"] = n
    try:
        zoofind.remove_from_cache(plan)
        finished = True
    except KeyboardInterrupt:
        finished = False
    budget["left"] = None
    info = h.scan_cache_dir(work)
    broken = []
    for repo in info.repos:
        for rev in repo.revisions:
            for ref in rev.refs:
                snap = h.snapshot_download(repo.repo_id, revision=ref, cache_dir=work, local_files_only=True)
                broken += [f for f in Path(snap).rglob("*") if not f.exists()]
    bad = [p.path for r in zoofind.verify_cache() for p in r.problems]
    out.append({"step": n, "finished": finished, "warnings": [str(w) for w in info.warnings], "broken": list(map(str, broken)), "bad": bad})
    if finished:
        break
    n += 1
print(json.dumps(out))
'''


@pytest.mark.parametrize("spec", ["hf:lab/two-revs", "hf:lab/two-revs@v1"])
def test_rm_stopped_at_any_point_leaves_a_consistent_cache(filled, spec: str, tmp_path: Path) -> None:
    template, work = tmp_path / "template", tmp_path / "work"
    shutil.copytree(Path(os.environ["HF_HOME"]) / "hub", template, symlinks=True)
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_RM, str(template), str(work), spec], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_CACHE": str(work), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    assert len(steps) > 3 and steps[-1]["finished"]
    for s in steps:
        assert s["warnings"] == [] and s["broken"] == [] and s["bad"] == [], s


def test_rm_of_a_xet_linked_repo_stopped_at_any_point_leaves_a_consistent_cache(xet_cache: Path, tmp_path: Path) -> None:
    template, work = tmp_path / "template", tmp_path / "work"
    shutil.copytree(Path(os.environ["HF_HOME"]) / "hub", template, symlinks=True)
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_RM, str(template), str(work), "hf:lab/b"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_CACHE": str(work), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    assert steps[-1]["finished"]
    for s in steps:
        assert s["warnings"] == [] and s["broken"] == [] and s["bad"] == [], s
