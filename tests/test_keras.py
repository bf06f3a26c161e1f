"""`zoofind ... keras:<Application>` against a storage.googleapis.com-style server (tests/servers/files_server.py,
answering 404 NoSuchKey for a missing object as Cloud Storage does), refereed by Keras itself (torch backend) with the
socket blocked.

No real weights are reachable here. MobileNet's files have no hash in Keras's tables, so a real Keras MobileNet
(alpha 0.25, 128x128) saved as a legacy .h5 at set-up stands in under its real name, and
``keras.applications.MobileNet(..., weights="imagenet")`` loads it. Files Keras checks by hash are exercised through
a test catalog layer (``ZOOFIND_CATALOG_DIR``) whose entries carry the served file's md5 and sha256, which Keras's
own ``get_file`` then checks; the real ResNet50 entry (md5 of the real file) shows a wrong file refused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.files_server import FileServer

# Imported only in the referee's own processes, under the torch backend (its default backend needs TensorFlow).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="keras is not installed")

PREFIX = "/tensorflow/keras-applications"
#: keras.src.applications.imagenet_utils.CLASS_INDEX_PATH's path on the same storage host (another bucket)
CLASS_INDEX = "/download.tensorflow.org/data/imagenet_class_index.json"
#: the real file (md5 c2c37ea5..., Keras's file_hash), made from keras_hub's IMAGENET_NAMES with json.dumps
CLASS_INDEX_BYTES = (Path(__file__).parent / "servers" / "imagenet_class_index.json").read_bytes()
REAL = "https://storage.googleapis.com/tensorflow/keras-applications"
MOBILENET = "keras:MobileNet/alpha0.25/size128"
MOBILENET_FILE = "mobilenet_2_5_128_tf.h5"
BLOCK = ("import socket\n"
         "def _blocked(*a, **k): raise OSError('the test blocks the network')\n"
         "socket.socket.connect = _blocked; socket.create_connection = _blocked\n")


def keras_run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "KERAS_BACKEND": "torch", **env})


@pytest.fixture(scope="module")
def h5(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, float]:
    """A MobileNet alpha 0.25 128x128 with its top, saved by Keras as the legacy .h5 weights file
    get_file's callers load, and the sum of its first kernel (to tell these weights from others)."""
    where = tmp_path_factory.mktemp("keras")
    out = where / MOBILENET_FILE
    done = keras_run(
        "import h5py, keras, numpy as np\n"
        "from keras.src.legacy.saving import legacy_h5_format\n"
        "keras.utils.set_random_seed(7)\n"
        "m = keras.applications.MobileNet(alpha=0.25, input_shape=(128, 128, 3), weights=None)\n"
        f"with h5py.File({str(out)!r}, 'w') as f: legacy_h5_format.save_weights_to_hdf5_group(f, m)\n"
        "print(float(np.asarray(m.get_layer('conv1').kernel).sum()))\n",
        KERAS_HOME=str(where / "home"))
    assert done.returncode == 0, done.stderr[-2000:]
    return out.read_bytes(), float(done.stdout.split()[-1])


@pytest.fixture
def storage(h5: tuple[bytes, float], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    data = h5[0]
    files = {f"{PREFIX}/mobilenet/{MOBILENET_FILE}": data,
             f"{PREFIX}/testnet/testnet_md5.h5": data, f"{PREFIX}/testnet/testnet_sha256.h5": data,
             f"{PREFIX}/resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5": b"not the real resnet50 " * 64,
             CLASS_INDEX: CLASS_INDEX_BYTES}
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "testnet.toml").write_text("\n".join(
        f'[[entry]]\nid = "keras:{ref}"\nkind = "model"\nname = "{ref}"\nreliability = "generated"\n'
        f'frameworks = ["keras"]\n[entry.extra]\napplication = "TestNet"\nfile = "{name}"\n'
        f'url = "{REAL}/testnet/{name}"\nfile_hash = "{digest}"\n'
        for ref, name, digest in (("TestNet", "testnet_md5.h5", hashlib.md5(data).hexdigest()),
                                  ("TestNet/notop", "testnet_sha256.h5", hashlib.sha256(data).hexdigest()))))
    with FileServer(files, missing_status=404) as srv:
        monkeypatch.setenv("ZOOFIND_KERAS_ENDPOINT", srv.url + PREFIX)
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
        monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(layer))
        yield srv


def models() -> Path:
    return Path(os.environ["KERAS_HOME"]) / "models"


def placed() -> list[str]:
    return sorted(p.name for p in models().iterdir() if not p.name.startswith(".")) if models().is_dir() else []


def test_pull_places_mobilenet_where_keras_loads_it_with_no_request(storage, cli, h5) -> None:
    ran = cli("pull", "keras:mobilenet/SIZE128/alpha0.25", "--json")
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    target = models() / MOBILENET_FILE
    assert res["id"] == MOBILENET and res["path"] == str(target) and target.read_bytes() == h5[0]
    assert res["files"][0]["sha256"] == hashlib.sha256(h5[0]).hexdigest()
    assert any("no hash" in n for n in res["notes"]), res["notes"]
    storage.clear()
    check = keras_run("import keras, numpy as np\n"
                      "m = keras.applications.MobileNet(alpha=0.25, input_shape=(128, 128, 3), weights='imagenet')\n"
                      "print(float(np.asarray(m.get_layer('conv1').kernel).sum()))\n")
    assert check.returncode == 0, check.stderr[-2000:]
    assert float(check.stdout.split()[-1]) == pytest.approx(h5[1])
    assert storage.requests == []


@pytest.mark.parametrize("rid,name", [("keras:TestNet", "testnet_md5.h5"), ("keras:TestNet/notop", "testnet_sha256.h5")])
def test_a_file_keras_checks_by_hash_passes_keras_own_check_offline(storage, cli, h5, rid, name) -> None:
    ran = cli("pull", rid)
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"{rid}\t{models() / name}\n"
    storage.clear()
    digest = (hashlib.md5 if "md5" in name else hashlib.sha256)(h5[0]).hexdigest()
    check = keras_run("import keras\n"
                      f"print(keras.utils.get_file({name!r}, {REAL + '/testnet/' + name!r}, cache_subdir='models', "
                      f"file_hash={digest!r}))\n")
    assert check.returncode == 0, check.stderr[-2000:]
    assert check.stdout.split()[-1] == str(models() / name) and storage.requests == []


def test_bytes_that_fail_keras_hash_are_never_placed(storage, cli) -> None:
    ran = cli("pull", "keras:ResNet50")
    assert ran.code == 1
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in ran.stderr and "md5" in ran.stderr
    assert "deleted" in ran.stderr and "Traceback" not in ran.stderr
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" not in placed()  # (the class index is good bytes)


def test_a_truncated_body_is_retried_and_a_short_file_never_placed(storage, cli, h5) -> None:
    path = f"{PREFIX}/testnet/testnet_md5.h5"
    storage.set_file(path, h5[0][: len(h5[0]) // 2])  # a cut-short upload: Keras's md5 says so
    ran = cli("pull", "keras:TestNet")
    assert ran.code == 1 and "md5" in ran.stderr and placed() == []
    storage.set_file(path, h5[0])
    storage.drop_after, storage.drop_times = 4096, 1  # the connection drops once mid-body: resumed
    ran = cli("pull", "keras:TestNet", "--json")
    assert ran.code == 0, ran.stderr
    assert (models() / "testnet_md5.h5").read_bytes() == h5[0]


def test_a_redirect_is_followed(storage, cli, h5) -> None:
    storage.remove_file(f"{PREFIX}/mobilenet/{MOBILENET_FILE}")
    storage.set_file(f"/moved/{MOBILENET_FILE}", h5[0])
    storage.redirects[f"{PREFIX}/mobilenet/{MOBILENET_FILE}"] = f"/moved/{MOBILENET_FILE}"
    ran = cli("pull", MOBILENET)
    assert ran.code == 0, ran.stderr
    assert (models() / MOBILENET_FILE).read_bytes() == h5[0]


def test_a_cached_file_keras_would_refuse_is_fetched_again(storage, cli, h5) -> None:
    models().mkdir(parents=True)
    (models() / "testnet_md5.h5").write_bytes(h5[0][:1000])  # what a killed Keras download leaves
    ran = cli("pull", "keras:TestNet", "--json")
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    assert any("fetched again" in n for n in res["notes"])
    assert (models() / "testnet_md5.h5").read_bytes() == h5[0]


def test_offline_answers_from_keras_folder_with_no_request(storage, cli) -> None:
    missing = cli("pull", MOBILENET, "--offline")
    assert missing.code == 1 and "Keras's folder" in missing.stderr and storage.requests == []
    assert cli("pull", MOBILENET).code == 0
    storage.clear()
    ran = cli("pull", MOBILENET, "--offline")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"{MOBILENET}\t{models() / MOBILENET_FILE}\n" and storage.requests == []


def test_lock_pull_lock_export_import_and_cache_commands(storage, cli, tmp_path, h5) -> None:
    lock = tmp_path / "zoofind.lock"
    assert cli("lock", MOBILENET, "keras:TestNet", "-o", str(lock)).code == 0
    text = lock.read_text()
    assert hashlib.sha256(h5[0]).hexdigest() in text and MOBILENET_FILE in text
    ls = cli("cache", "ls", "--json")
    assert ls.code == 0, ls.stderr
    ids = {m["id"] for m in json.loads(ls.stdout)["results"]}
    assert {MOBILENET, "keras:TestNet"} <= ids
    assert cli("cache", "verify", "keras:TestNet").code == 0
    (models() / "testnet_md5.h5").write_bytes(h5[0][:-1] + b"!")
    bad = cli("cache", "verify", "keras:TestNet")
    assert bad.code == 1 and "md5" in (bad.stdout + bad.stderr)
    # pull --lock refuses the changed file, names it, and keeps it for the user to look at
    relock = cli("pull", "--lock", str(lock))
    assert relock.code == 1 and "testnet_md5.h5" in relock.stderr
    assert cli("cache", "rm", "keras:TestNet", "--yes").code == 0
    assert not (models() / "testnet_md5.h5").exists()
    assert cli("pull", "--lock", str(lock)).code == 0
    assert cli("cache", "path", MOBILENET).stdout.strip() == str(models() / MOBILENET_FILE)
    other = carried(cli, lock, tmp_path)
    assert (other / "models" / MOBILENET_FILE).read_bytes() == h5[0]


def carried(cli, lock: Path, tmp_path: Path) -> Path:
    """``export`` of the lock's files and ``import`` of them into another Keras home, which is returned."""
    bundle = tmp_path / "bundle.tar"
    exported = cli("export", "--lock", str(lock), str(bundle))
    assert exported.code == 0, exported.stderr
    other = tmp_path / "other-keras"
    imported = cli("import", str(bundle), env={"KERAS_HOME": str(other)})
    assert imported.code == 0, imported.stderr
    return other


def test_ids_variants_and_hints(storage, cli) -> None:
    bad = cli("info", "keras:MobileNet/alpha0.3")
    assert bad.code == 3 or bad.code == 1
    assert "keras:MobileNet" in bad.stderr and "Traceback" not in bad.stderr
    typo = cli("info", "keras:ResNet5O")
    assert "did you mean" in typo.stderr and "keras:ResNet50" in typo.stderr
    option = cli("info", "keras:ResNet50/nohead")
    assert option.code == 2 and "notop" in option.stderr
    rev = cli("pull", "keras:ResNet50@v2")
    assert rev.code == 2 and "no revisions" in rev.stderr and storage.requests == []
    same = cli("info", "keras:MobileNet/alpha1.0/size224", "--json")
    assert same.code == 0 and json.loads(same.stdout)["record"]["id"] == "keras:MobileNet"


def test_a_read_only_keras_home_is_refused_with_what_to_do(storage, cli, tmp_path) -> None:
    where = tmp_path / "ro"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "zoofind-keras-test", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here ({mounted.stderr.strip()})")
    try:
        ran = cli("pull", MOBILENET, env={"KERAS_HOME": str(where)})
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
    assert ran.code == 1 and "/tmp/.keras" in ran.stderr and "KERAS_HOME" in ran.stderr
    assert "Traceback" not in ran.stderr and storage.requests == []
