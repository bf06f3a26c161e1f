"""`zoofind cache ls` and `zoofind cache path`: one view of the framework caches, whoever filled them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.tfhub_server import TfhubServer
from zoofind.errors import UsageError
from zoofind.inventory import parse_age, parse_size

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
