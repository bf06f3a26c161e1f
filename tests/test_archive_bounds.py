"""Archives that inflate far beyond their size: TF Hub and Kaggle archives on `pull`, compressed (and
duplicating) bundles on `import`. Each is refused before it writes past its bound, naming the archive,
its size, the bound and how to raise it (ZOOFIND_MAX_EXTRACT); nothing is placed, little is written
(the disk use of the caches is sampled while the command runs)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from servers.kaggle_server import KaggleServer
from servers.tfhub_server import SAVED_MODEL, TfhubServer
from zoofind.core.units import human_bytes
from zoofind.fetch.archive import FLOOR, HEADROOM, RATIO, bound
from zoofind.ops import lockfile
from zoofind.ops.bundle import MANIFEST, manifest_text
from zoofind.ops.lockfile import Lock, LockedFile, LockedModel

MiB = 1024 * 1024
GiB = 1024 * MiB
TFHUB = "google/imagenet/mobilenet_v2_100_224/classification/5"
KAGGLE = "google/yamnet/tensorFlow2/yamnet/3"
CREDS = {"KAGGLE_API_TOKEN": "tok-good"}
BIG = "variables/variables.data-00000-of-00001"
_SCRIPT = Path(sys.executable).with_name("zoofind")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "zoofind"]


def zeros_tar(out: io.IOBase, files: dict[str, bytes | int]) -> None:
    """A tar into ``out`` of ``files`` (bytes, or a number of zero bytes), written block by block."""
    chunk = bytes(4 * MiB)
    for name, data in files.items():
        info = tarfile.TarInfo(name)
        info.size, info.mode = (data if isinstance(data, int) else len(data)), 0o644
        out.write(info.tobuf(tarfile.GNU_FORMAT))
        if isinstance(data, int):
            for at in range(0, data, len(chunk)):
                out.write(chunk[: min(len(chunk), data - at)])
        else:
            out.write(data)
        out.write(b"\0" * (-info.size % 512))
    out.write(b"\0" * 1024)


def bomb(files: dict[str, bytes | int]) -> bytes:
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        zeros_tar(gz, files)
    return raw.getvalue()


@pytest.fixture(scope="module")
def gib_bomb() -> bytes:
    """The issue's case: a SavedModel of about 1 MB whose variables expand to 1 GiB."""
    return bomb({**{k: v for k, v in SAVED_MODEL.items() if k != BIG}, BIG: GiB})


def zoofind(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*COMMAND, *args], capture_output=True, input=stdin, env={**os.environ, **(env or {})},
                          timeout=300)


def disk_use(root: Path) -> int:
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                pass
    return total


class Peak:
    """The most disk ``root`` used while the block ran, sampled every few milliseconds."""

    def __init__(self, root: Path) -> None:
        self.root, self.most, self._stop = root, 0, threading.Event()

    def __enter__(self) -> Peak:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.most = max(self.most, disk_use(self.root))
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.most = max(self.most, disk_use(self.root))


@pytest.fixture
def tfhub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with TfhubServer() as srv:
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", srv.url)
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
        yield srv


@pytest.fixture
def kaggle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with KaggleServer(token=CREDS["KAGGLE_API_TOKEN"]) as srv:
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", srv.url)
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
        yield srv


def leftovers(root: Path) -> list[str]:
    """What is left in a cache but zoofind's (empty) lock files."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not p.name.startswith(".zoofind-lock-"))


def assert_refusal(stderr: bytes, what: str, size: int, most: int) -> None:
    text = stderr.decode()
    assert "Traceback" not in text
    assert what in text and "refused" in text, text
    assert f"({human_bytes(size)})" in text and f"its bound of {human_bytes(most)}" in text, text
    assert "ZOOFIND_MAX_EXTRACT=" in text, text


def test_the_default_bound() -> None:
    assert bound(10**6) == RATIO * 10**6  # 1 MB may expand to 100 MB
    assert bound(1000) == FLOOR  # any archive to 64 MiB
    assert bound(10**10) == 10**10 + HEADROOM  # 10 GB: at most 32 GiB more, not 1 TB
    assert bound(10**10, 5) == 5  # ZOOFIND_MAX_EXTRACT says


def test_a_1_mb_tfhub_archive_that_expands_to_1_gib_is_refused_before_anything_is_written(tfhub, gib_bomb,
                                                                                            tmp_path) -> None:
    tfhub.add_model(TFHUB, archive=gib_bomb)
    cache = tmp_path / "tfhub"
    cache.mkdir()
    with Peak(cache) as peak:
        ran = zoofind("pull", f"tfhub:{TFHUB}")
    assert ran.returncode == 1, ran.stderr
    assert_refusal(ran.stderr, f"tfhub:{TFHUB}", len(gib_bomb), RATIO * len(gib_bomb))
    # Nothing placed: no module, no temporary folder, no archive left.
    assert leftovers(cache) == [] and not [p for p in cache.iterdir() if p.is_dir()]
    # Little written: the archive itself (about 1 MB) while it was checked, never the 1 GiB.
    assert peak.most < len(gib_bomb) + 2 * MiB, peak.most


def test_zoofind_max_extract_lets_an_archive_expand_further(tfhub, tmp_path) -> None:
    archive = bomb({**SAVED_MODEL, BIG: 96 * MiB})  # about 100 KB: past the 64 MiB floor
    tfhub.add_model(TFHUB, archive=archive)
    refused = zoofind("pull", f"tfhub:{TFHUB}")
    assert refused.returncode == 1 and b"the 64MiB any archive may expand to" in refused.stderr, refused.stderr
    ran = zoofind("pull", f"tfhub:{TFHUB}", env={"ZOOFIND_MAX_EXTRACT": "100MiB"})
    assert ran.returncode == 0, ran.stderr
    module = Path(ran.stdout.decode().split("\t")[1].strip())
    assert (module / BIG).stat().st_size == 96 * MiB
    # A lower bound than the default is honoured too, naming the variable.
    other = "google/other/1"
    tfhub.add_model(other, archive=bomb(dict(SAVED_MODEL)))
    low = zoofind("pull", f"tfhub:{other}", env={"ZOOFIND_MAX_EXTRACT": "10k"})
    assert low.returncode == 1 and b"(ZOOFIND_MAX_EXTRACT)" in low.stderr, low.stderr


def test_a_value_that_is_not_a_size_warns_and_the_default_bound_holds(tfhub) -> None:
    tfhub.add_model(TFHUB, archive=bomb({**SAVED_MODEL, BIG: 96 * MiB}))
    ran = zoofind("pull", f"tfhub:{TFHUB}", env={"ZOOFIND_MAX_EXTRACT": "lots"})
    assert ran.returncode == 1 and b"ZOOFIND_MAX_EXTRACT='lots' is not a size" in ran.stderr, ran.stderr
    assert b"refused" in ran.stderr


@pytest.mark.parametrize("form", ["tar.gz", "zip"])
def test_a_kaggle_archive_that_inflates_is_refused_and_nothing_is_installed(kaggle, tmp_path, form: str) -> None:
    many = {f"shards/part-{i:03d}.bin": b"x" * 10 for i in range(30)}
    if form == "zip":
        raw = io.BytesIO()
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in many.items():
                zf.writestr(name, data)
            with zf.open("shards/zeros.bin", "w", force_zip64=True) as f:
                for _ in range(64):
                    f.write(bytes(4 * MiB))
        archive = raw.getvalue()
    else:
        archive = bomb({**many, "shards/zeros.bin": 256 * MiB})
    kaggle.add_version(KAGGLE, many, archive=archive)
    cache = tmp_path / "kagglehub"
    cache.mkdir()
    with Peak(cache) as peak:
        ran = zoofind("pull", f"kaggle:{KAGGLE}", env=CREDS)
    assert ran.returncode == 1, ran.stderr
    assert_refusal(ran.stderr, f"kaggle:{KAGGLE}", len(archive), FLOOR)
    if form == "zip":
        assert b"expands to 268.4 MB, past" in ran.stderr and b"ZOOFIND_MAX_EXTRACT=257MiB" in ran.stderr
    assert leftovers(cache) == [], leftovers(cache)
    assert not any(p.name in ("3", "3.complete") for p in cache.rglob("*"))
    assert peak.most < len(archive) + 2 * MiB, peak.most


# -- bundles ------------------------------------------------------------------------------------
def zeros_bundle(path: Path, *, paths: tuple[str, ...] = (BIG,), size: int = 256 * MiB, compress: bool = True) -> None:
    """A bundle whose manifest (a valid lock) names a TF Hub module of zeros, each of ``paths`` the same
    ``size`` zero bytes, held once: gzip'd (a bomb) or plain (a manifest that multiplies one member)."""
    digest = hashlib.sha256()
    chunk = bytes(4 * MiB)
    for at in range(0, size, len(chunk)):
        digest.update(chunk[: min(len(chunk), size - at)])
    sha = digest.hexdigest()
    model = LockedModel(f"tfhub:{TFHUB}", None, None, tuple(LockedFile(p, size, sha) for p in paths))
    manifest = manifest_text(Lock((model,), "0.1.0")).encode()
    with (gzip.open(path, "wb", compresslevel=9) if compress else path.open("wb")) as out:
        zeros_tar(out, {MANIFEST: manifest, f"blobs/{sha}": size})


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "node-tfhub"
    cache.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    return cache


def test_a_compressed_bundle_that_inflates_is_refused_before_anything_is_written(fresh, tmp_path) -> None:
    bundle = tmp_path / "zeros.tar.gz"
    zeros_bundle(bundle)
    size = bundle.stat().st_size
    with Peak(fresh) as peak:
        ran = zoofind("import", str(bundle))
    assert ran.returncode == 1, ran.stderr
    assert_refusal(ran.stderr, str(bundle), size, FLOOR)
    assert b"expands to 268.4 MB, past" in ran.stderr and b"nothing was written" in ran.stderr
    assert leftovers(fresh) == [] and not list(fresh.iterdir())
    assert peak.most == 0
    # The same bytes as a bundle a user trusts: ZOOFIND_MAX_EXTRACT lets it through.
    ran = zoofind("import", str(bundle), "--json", env={"ZOOFIND_MAX_EXTRACT": "300MiB"})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["results"][0]["files"][0]["status"] == "placed"


def test_a_compressed_bundle_on_stdin_is_bound_by_what_was_read_so_far(fresh, tmp_path) -> None:
    bundle = tmp_path / "zeros.tar.gz"
    zeros_bundle(bundle)
    with Peak(fresh) as peak:
        ran = zoofind("import", "-", stdin=bundle.read_bytes())
    assert ran.returncode == 1, ran.stderr
    text = ran.stderr.decode()
    assert "stdin: the bundle (" in text and "read so far) expands to more than its bound of 67.1 MB" in text, text
    assert "ZOOFIND_MAX_EXTRACT=SIZE" in text and "Traceback" not in text
    assert leftovers(fresh) == [] and not list(fresh.iterdir())
    # Written before the refusal: at most the 64 MiB floor (and one block), removed since.
    assert peak.most <= FLOOR + 8 * MiB, peak.most


def test_a_plain_bundle_whose_manifest_multiplies_one_member_is_refused(fresh, tmp_path) -> None:
    bundle = tmp_path / "many.tar"
    zeros_bundle(bundle, paths=tuple(f"copy-{i:03d}.bin" for i in range(200)), size=MiB, compress=False)
    ran = zoofind("import", str(bundle))
    assert ran.returncode == 1, ran.stderr
    most = human_bytes(RATIO * bundle.stat().st_size)
    assert f"expands to 209.7 MB, past its bound of {most} (100 times its size)".encode() in ran.stderr, ran.stderr
    assert not list(fresh.iterdir())
    # A plain bundle holds its bytes already: ZOOFIND_MAX_EXTRACT below the default does not refuse one.
    plain = tmp_path / "plain.tar"
    zeros_bundle(plain, size=MiB, compress=False)
    ran = zoofind("import", str(plain), env={"ZOOFIND_MAX_EXTRACT": "1k"})
    assert ran.returncode == 0, ran.stderr
    assert lockfile.loads(
        tarfile.open(plain).extractfile(MANIFEST).read().decode()).models[0].files[0].size == MiB
