"""Last use, as `cache ls` shows it and `cache prune` evicts by: when zoofind (or the framework's own
downloader) placed the files, or a framework last read them; never an archive's own timestamps.

Real TF Hub and Kaggle archives carry their build dates (members dated years ago, TF Hub's with a
``./`` member that dates the module folder itself). Every archive here is dated 2001.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.kaggle_server import KaggleServer
from servers.tfhub_server import SAVED_MODEL, TfhubServer
from zoofind.ops import lockfile

#: 2001-09-09: the build date every archive here carries.
OLD = 1_000_000_000
MB = 1024 * 1024
TFHUB = "google/imagenet/mobilenet_v2_100_224/classification/5"
KAGGLE = "google/yamnet/tensorFlow2/yamnet/3"
#: More files than a listing page: Kaggle sends the version as one archive.
MANY = {f"shards/part-{i:03d}.bin": random.Random(i).randbytes(1000 + i) for i in range(30)}
QUANTIZED = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"
CREDS = {"KAGGLE_API_TOKEN": "tok-good"}


def dated_archive(files: dict[str, bytes], mtime: int = OLD, *, dot: bool = True) -> bytes:
    """A .tar.gz as real hubs build them: every member (and ``./``, the folder itself) dated ``mtime``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        folders = sorted({"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)})
        for name in (["."] if dot else []) + [f"./{d}" for d in folders]:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, mtime
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=OLD)


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


@pytest.fixture
def servers(hf_hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The four hubs, each serving one model; every cache under this test's home."""
    home = Path(os.environ["HOME"])
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(home / "tfhub"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(home / "kagglehub"))
    hf_hub.add_repo("lab/fresh", {"config.json": b"{}", "model.safetensors": blob(MB, "hf")})
    with FileServer({"/models/quantized/resnet18_fbgemm_16fa66dd.pth": blob(MB, "tv")}) as tv, \
            TfhubServer() as tfhub, KaggleServer(token=CREDS["KAGGLE_API_TOKEN"]) as kaggle:
        tfhub.add_model(TFHUB, archive=dated_archive(SAVED_MODEL))
        kaggle.add_version(KAGGLE, MANY, archive=dated_archive(MANY))
        monkeypatch.setenv("ZOOFIND_TORCHVISION_ENDPOINT", tv.url + "/models")
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", tfhub.url)
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", kaggle.url)
        yield tfhub


def listing(cli) -> list[dict]:
    ran = cli("cache", "ls", "--format", "json")
    assert ran.code == 0, ran.stderr
    return json.loads(ran.stdout)["results"]


def test_fresh_tfhub_and_kaggle_archives_dated_2001_survive_prune_unused_for_30d(servers, cli) -> None:
    started = time.time()
    assert cli("pull", f"tfhub:{TFHUB}").code == 0
    ran = cli("pull", f"kaggle:{KAGGLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    used = {m["id"]: m["last_used"] for m in listing(cli)}
    assert set(used) == {f"tfhub:{TFHUB}", f"kaggle:{KAGGLE}"}
    assert all(t >= started - 2 for t in used.values()), used
    # The placed files carry the time they were placed, not the archive's.
    module = Path(cli("cache", "path", f"tfhub:{TFHUB}").stdout.strip())
    assert all(p.stat().st_mtime >= started - 2 for p in [module, *module.rglob("*")])
    dry = cli("cache", "prune", "--unused-for", "30d", "--dry-run")
    assert dry.code == 0 and dry.stdout == "", dry.stdout
    assert cli("cache", "prune", "--unused-for", "30d", "--yes").code == 0
    assert {m["id"] for m in listing(cli)} == set(used)


def test_a_module_filled_by_tensorflow_hub_itself_counts_from_its_descriptor(servers, cli) -> None:
    """tensorflow_hub extracts with the archive's times and writes the descriptor after: that is when it was placed."""
    assert cli("pull", f"tfhub:{TFHUB}").code == 0
    module = Path(cli("cache", "path", f"tfhub:{TFHUB}").stdout.strip())
    for p in [module, *module.rglob("*")]:
        os.utime(p, (OLD, OLD))
    (used,) = [m["last_used"] for m in listing(cli)]
    assert used >= time.time() - 60
    descriptor = module.with_name(module.name + ".descriptor.txt")
    os.utime(descriptor, (OLD, OLD))
    (used,) = [m["last_used"] for m in listing(cli)]
    assert used == OLD


def test_lru_order_over_the_four_layouts_follows_the_order_of_the_pulls(servers, cli) -> None:
    order = ["hf:lab/fresh", QUANTIZED, f"tfhub:{TFHUB}", f"kaggle:{KAGGLE}"]
    for rid in order:
        ran = cli("pull", rid, env=CREDS)
        assert ran.code == 0, ran.stderr
        time.sleep(0.05)
    by_age = sorted(listing(cli), key=lambda m: m["last_used"])
    assert [m["id"] for m in by_age] == order
    ls = cli("cache", "ls", "--sort", "used", "--format", "ids")
    assert ls.stdout.split() == order
    sizes = {m["id"]: m["size"] for m in by_age}
    # A budget one byte short of all four: the oldest pull goes, and only it.
    budget = sum(sizes.values()) - 1
    dry = cli("cache", "prune", "--max-size", str(budget), "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "models--lab--fresh" in dry.stdout and "tfhub" not in dry.stdout and "kagglehub" not in dry.stdout
    assert cli("cache", "prune", "--max-size", str(budget), "--yes").code == 0
    assert [m["id"] for m in sorted(listing(cli), key=lambda m: m["last_used"])] == order[1:]
    # Then the next oldest, the checkpoint.
    assert cli("cache", "prune", "--max-size", str(budget - sizes["hf:lab/fresh"]), "--yes").code == 0
    assert [m["id"] for m in sorted(listing(cli), key=lambda m: m["last_used"])] == order[2:]


def test_an_imported_module_dated_2001_survives_prune(servers, cli, tmp_path: Path) -> None:
    """A bundle of a module pulled long ago (its files, the bundle's members, all dated 2001)."""
    lock = tmp_path / "study.lock"
    assert cli("lock", f"tfhub:{TFHUB}", "-o", str(lock)).code == 0
    bundle = tmp_path / "study.tar"
    assert cli("export", "--lock", str(lock), str(bundle)).code == 0
    old = tmp_path / "old.tar.gz"
    with tarfile.open(bundle) as src, tarfile.open(old, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            member.mtime = OLD
            dst.addfile(member, io.BytesIO(data))
    shutil.rmtree(os.environ["TFHUB_CACHE_DIR"])
    started = time.time()
    ran = cli("import", str(old))
    assert ran.code == 0, ran.stderr
    (m,) = listing(cli)
    assert m["id"] == f"tfhub:{TFHUB}" and m["last_used"] >= started - 2
    assert cli("cache", "prune", "--unused-for", "30d", "--yes").code == 0
    assert [m["id"] for m in listing(cli)] == [f"tfhub:{TFHUB}"]
    # And a lock written here pins the same archive as the first (see test_lock_after_import...).
    assert lockfile.read(lock).models[0].archive is not None
