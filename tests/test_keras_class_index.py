"""ImageNet's class index beside a Keras application's weights: `zoofind pull keras:<app>` of weights with
ImageNet's classifier places ``imagenet_class_index.json`` in ``$KERAS_HOME/models`` (checked against Keras's md5),
so ``decode_predictions`` works with the network blocked; locks, bundles and ``cache`` carry and check it.

The storage server (test_keras's) serves the real file, made from keras_hub's table: its md5 is Keras's
``file_hash`` (c2c37ea5...), so Keras's own ``get_file`` accepts what zoofind placed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest

from test_keras import (  # noqa: F401 - h5, storage: test_keras's fixtures
    CLASS_INDEX, CLASS_INDEX_BYTES, MOBILENET, MOBILENET_FILE, carried, h5, keras_run, storage)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="keras is not installed")

NAME = "imagenet_class_index.json"
DECODE = ("import numpy as np\n"
          "from keras.applications import mobilenet\n"
          "p = np.zeros((1, 1000), dtype='float32'); p[0, 1] = 0.9; p[0, 2] = 0.1\n"
          "print(mobilenet.decode_predictions(p, top=2))\n")


def models() -> Path:
    return Path(os.environ["KERAS_HOME"]) / "models"


def test_the_served_file_is_the_one_keras_checks() -> None:
    assert hashlib.md5(CLASS_INDEX_BYTES).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"
    assert len(CLASS_INDEX_BYTES) == 35363 and json.loads(CLASS_INDEX_BYTES)["1"] == ["n01443537", "goldfish"]


def test_pull_places_the_class_index_and_decode_predictions_makes_no_request(storage, cli) -> None:
    blocked = keras_run(DECODE, KERAS_HOME=os.environ["KERAS_HOME"])
    assert blocked.returncode != 0 and "imagenet_class_index.json" in blocked.stderr  # what this fixes
    ran = cli("pull", MOBILENET, "--json")
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    assert res["path"] == str(models() / MOBILENET_FILE)  # what the framework loads is still the weights
    assert [f["path"] for f in res["files"]] == [MOBILENET_FILE, NAME]
    assert (models() / NAME).read_bytes() == CLASS_INDEX_BYTES
    assert [r.path for r in storage.requests if r.path == CLASS_INDEX] == [CLASS_INDEX]
    storage.clear()
    decoded = keras_run(DECODE, KERAS_HOME=os.environ["KERAS_HOME"])
    assert decoded.returncode == 0, decoded.stderr[-2000:]
    assert "'n01443537', 'goldfish'" in decoded.stdout and "great_white_shark" in decoded.stdout
    assert storage.requests == []
    # again: both present, nothing fetched
    assert cli("pull", MOBILENET).code == 0 and storage.requests == []


def test_weights_without_imagenets_top_do_not_bring_it(storage, cli) -> None:
    ran = cli("pull", "keras:TestNet/notop")  # a test entry: no include_top
    assert ran.code == 0, ran.stderr
    assert not (models() / NAME).exists() and all(r.path != CLASS_INDEX for r in storage.requests)
    dry = cli("pull", "keras:ResNet50/notop", "keras:ResNet50", "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    files = {r["id"]: [f["path"] for f in r["files"]] for r in json.loads(dry.stdout)["results"]}
    assert files["keras:ResNet50/notop"] == ["resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"]
    assert files["keras:ResNet50"] == ["resnet50_weights_tf_dim_ordering_tf_kernels.h5", NAME]


def test_a_class_index_keras_would_refuse_is_never_placed_and_a_cached_bad_one_is_replaced(storage, cli) -> None:
    bad = CLASS_INDEX_BYTES.replace(b"goldfish", b"goldfisH")  # same size, another md5
    storage.set_file(CLASS_INDEX, bad)
    ran = cli("pull", MOBILENET)
    assert ran.code == 1 and NAME in ran.stderr and "md5" in ran.stderr and "Traceback" not in ran.stderr
    assert not (models() / NAME).exists()
    storage.set_file(CLASS_INDEX, CLASS_INDEX_BYTES)
    (models() / NAME).write_bytes(bad)  # a download Keras left damaged: fetched again
    again = cli("pull", MOBILENET, "--json")
    assert again.code == 0, again.stderr
    assert (models() / NAME).read_bytes() == CLASS_INDEX_BYTES
    assert any(NAME in n and "fetched again" in n for n in json.loads(again.stdout)["results"][0]["notes"])
    verified = cli("cache", "verify", "--json")  # the class index is listed as file:<path>, checked by Keras's md5
    assert verified.code == 0 and NAME in verified.stdout, verified.stdout + verified.stderr
    (models() / NAME).write_bytes(bad)
    broken = cli("cache", "verify", "--json")
    assert broken.code == 1 and "md5" in broken.stdout, broken.stdout


def test_offline_lists_the_class_index_or_says_it_is_missing(storage, cli) -> None:
    assert cli("pull", MOBILENET).code == 0
    storage.clear()
    ran = cli("pull", MOBILENET, "--offline", "--json")
    assert ran.code == 0, ran.stderr
    assert [f["path"] for f in json.loads(ran.stdout)["results"][0]["files"]] == [MOBILENET_FILE, NAME]
    (models() / NAME).unlink()
    missing = cli("pull", MOBILENET, "--offline", "--json")
    assert missing.code == 0, missing.stderr  # the weights load; decoding would ask: a note says so
    assert any(NAME in n and "decode_predictions" in n for n in json.loads(missing.stdout)["results"][0]["notes"])
    assert storage.requests == []


def test_lock_pins_it_and_pull_lock_export_import_carry_it(storage, cli, tmp_path: Path, h5) -> None:
    lock = tmp_path / "zoofind.lock"
    assert cli("lock", MOBILENET, "-o", str(lock)).code == 0
    text = lock.read_text()
    assert NAME in text and hashlib.sha256(CLASS_INDEX_BYTES).hexdigest() in text
    (models() / NAME).unlink()
    assert cli("pull", "--lock", str(lock)).code == 0
    assert (models() / NAME).read_bytes() == CLASS_INDEX_BYTES
    storage.clear()
    assert cli("pull", "--lock", str(lock), "--offline").code == 0 and storage.requests == []
    other = carried(cli, lock, tmp_path)
    assert (other / "models" / NAME).read_bytes() == CLASS_INDEX_BYTES
    assert (other / "models" / MOBILENET_FILE).read_bytes() == h5[0]
    decoded = keras_run(DECODE, KERAS_HOME=str(other))
    assert decoded.returncode == 0 and "goldfish" in decoded.stdout, decoded.stderr[-2000:]
    assert storage.requests == []


def test_a_lock_written_before_the_class_index_still_pulls_and_brings_it(storage, cli, tmp_path: Path) -> None:
    lock = tmp_path / "zoofind.lock"
    assert cli("lock", MOBILENET, "-o", str(lock)).code == 0
    blocks = lock.read_text().split("[[models.files]]")
    lock.write_text("[[models.files]]".join(b for b in blocks if NAME not in b))  # the weights alone, as before
    assert NAME not in lock.read_text() and MOBILENET_FILE in lock.read_text()
    (models() / NAME).unlink()
    ran = cli("pull", "--lock", str(lock))
    assert ran.code == 0, ran.stderr
    assert (models() / NAME).read_bytes() == CLASS_INDEX_BYTES  # checked against Keras's md5, not the lock
