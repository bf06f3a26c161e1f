"""KerasHub presets (``keras:preset/<name>``): resolved to the Kaggle handle keras_hub names, pulled
from a local Kaggle API and storage host (tests/servers/kaggle_server.py) into kagglehub's cache, and
refereed by keras_hub itself: ``from_preset(name)`` loads them with the network blocked.

The preset served is a real one, made by keras_hub in the test set-up (a one-layer BertBackbone
saved with ``save_to_preset``), under the handle keras_hub 0.32 gives ``bert_tiny_en_uncased``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from servers.kaggle_server import KaggleServer
from test_keras import keras_run  # the referee's process: torch backend, the network blocked

SECRET = "tok-good"
CREDS = {"KAGGLE_API_TOKEN": SECRET}
PRESET = "bert_tiny_en_uncased"
RID = f"keras:preset/{PRESET}"
VARIATION = f"keras/bert/keras/{PRESET}"
HANDLE = f"{VARIATION}/3"  # keras_hub 0.32's bert_presets.py


@pytest.fixture(scope="module")
def preset(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], float]:
    """A preset folder keras_hub saved (config.json, metadata.json, model.weights.h5) and the sum of
    its token embeddings (to tell these weights from others)."""
    if importlib.util.find_spec("keras_hub") is None:
        pytest.skip("keras_hub is not installed (.ci/run installs it)")
    where = tmp_path_factory.mktemp("preset")
    done = keras_run(
        "import keras, keras_hub, numpy as np\n"
        "keras.utils.set_random_seed(3)\n"
        "b = keras_hub.models.BertBackbone(vocabulary_size=50, num_layers=1, num_heads=1, hidden_dim=8,\n"
        "                                  intermediate_dim=16, max_sequence_length=16)\n"
        f"b.save_to_preset({str(where / 'p')!r})\n"
        "print(float(np.asarray(b.token_embedding.embeddings).sum()))\n",
        KERAS_HOME=str(where / "home"))
    assert done.returncode == 0, done.stderr[-2000:]
    files = {p.name: p.read_bytes() for p in sorted((where / "p").iterdir())}
    assert {"config.json", "model.weights.h5"} <= set(files)
    return files, float(done.stdout.split()[-1])


@pytest.fixture
def kaggle(preset, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with KaggleServer(token=SECRET) as srv:
        srv.add_version(HANDLE, preset[0])
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", srv.url)
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
        yield srv


def version_dir() -> Path:
    return Path(os.environ["KAGGLEHUB_CACHE"]) / "models" / VARIATION / "3"


def from_preset_offline() -> subprocess.CompletedProcess[str]:
    assert not {"KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"} & set(os.environ)  # the referee has no credentials
    return keras_run(
        "import keras_hub, numpy as np\n"
        f"b = keras_hub.models.BertBackbone.from_preset({PRESET!r})\n"
        "print(float(np.asarray(b.token_embedding.embeddings).sum()))\n")


def test_info_shows_the_handle_keras_hub_loads_from(cli) -> None:
    ran = cli("info", RID, "--json")
    assert ran.code == 0, ran.stderr
    rec = json.loads(ran.stdout)["record"]
    assert rec["id"] == RID and rec["extra"]["handle"] == f"kaggle://{HANDLE}"
    assert rec["extra"]["call"].endswith(f'.from_preset("{PRESET}")') and rec["params"] == 4385920
    assert "fill-mask" in rec["tasks"]
    # a preset's name is spelled as keras_hub spells it; a lookup folds case
    assert json.loads(cli("info", "keras:preset/ESM2_T6_8M", "--json").stdout)["record"]["id"] == "keras:preset/esm2_t6_8M"


def test_list_frameworks_knows_keras_hub_and_lightning(cli) -> None:
    ran = cli("list-frameworks")
    assert ran.code == 0, ran.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in ran.stdout.splitlines()}
    assert rows["keras_hub"][1:3] == ["KerasHub", "keras-hub"] and rows["keras_hub"][-1] == "keras"
    assert int(rows["keras_hub"][4]) >= 500  # the presets of the bundled snapshot
    assert rows["pytorch-lightning"][1:3] == ["Lightning", "lightning"] and rows["pytorch-lightning"][-1] == "pytorch"
    assert json.loads(cli("info", RID, "--json").stdout)["record"]["libraries"] == ["keras_hub"]


def test_pull_lands_where_from_preset_loads_it_with_no_request(kaggle, cli, preset) -> None:
    ran = cli("pull", RID)  # no credentials: a public preset is asked for anonymously, as kagglehub does
    assert ran.code == 0, ran.stderr
    assert kaggle.requests and all("Authorization" not in c["headers"] for c in kaggle.requests)
    folder = version_dir()
    assert ran.stdout == f"kaggle:{HANDLE}\t{folder}\n"
    assert f"{RID} is kaggle:{HANDLE}" in ran.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == preset[0]
    # kagglehub's two kinds of marker: the version's, and each file's (what model_download(handle, path) reads)
    assert (folder.parent / "3.complete").is_file()
    assert sorted(p.name for p in (folder.parent / ".complete" / "3").iterdir()) == sorted(
        f"{n}.complete" for n in preset[0])
    loaded = from_preset_offline()
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert float(loaded.stdout.split()[-1]) == pytest.approx(preset[1])

    # offline, again: the cache answers with no request, and cache ls lists the version once
    before = kaggle.count
    again = cli("pull", RID, "--offline")
    assert again.code == 0 and again.stdout == ran.stdout, again.stderr
    assert kaggle.count == before
    ls = cli("cache", "ls", "--json")
    assert [m["id"] for m in json.loads(ls.stdout)["results"]] == [f"kaggle:{HANDLE}"]
    rm = cli("cache", "rm", f"kaggle:{HANDLE}", "--yes")
    assert rm.code == 0, rm.stderr
    assert not folder.exists() and not (folder.parent / ".complete" / "3").exists()


def test_a_version_kagglehub_downloaded_whole_gets_the_per_file_markers(kaggle, cli, preset) -> None:
    folder = version_dir()
    folder.mkdir(parents=True)
    for name, data in preset[0].items():
        (folder / name).write_bytes(data)
    (folder.parent / "3.complete").touch()  # what kagglehub's model_download(handle) leaves: no per-file markers
    assert from_preset_offline().returncode != 0
    ran = cli("pull", RID, "--offline")
    assert ran.code == 0, ran.stderr
    loaded = from_preset_offline()
    assert loaded.returncode == 0, loaded.stderr[-3000:]


def test_lock_pins_the_handle_and_pull_lock_restores_it(kaggle, cli, tmp_path, preset) -> None:
    lock = tmp_path / "zoofind.lock"
    ran = cli("lock", RID, "-o", str(lock), env=CREDS)
    assert ran.code == 0, ran.stderr
    text = lock.read_text()
    assert f"kaggle:{HANDLE}" in text and "model.weights.h5" in text
    assert cli("cache", "rm", f"kaggle:{HANDLE}", "--yes").code == 0
    assert cli("pull", "--lock", str(lock), env=CREDS).code == 0
    assert {p.name: p.read_bytes() for p in version_dir().iterdir()} == preset[0]
    assert (version_dir().parent / ".complete" / "3" / "model.weights.h5.complete").is_file()


def test_a_consent_gated_preset_without_credentials_says_sign_in_and_accept_its_terms(kaggle, cli, preset) -> None:
    gated = "keras/gemma2/keras/gemma2_2b_en/2"  # keras_hub 0.32's gemma_presets.py
    kaggle.add_version(gated, preset[0])
    kaggle.forbidden.add(gated)
    ran = cli("pull", "keras:preset/gemma2_2b_en")
    assert ran.code == 4, ran.stderr
    assert "accept them at https://www.kaggle.com/models/keras/gemma2" in ran.stderr and "sign in" in ran.stderr
    assert "Traceback" not in ran.stderr and kaggle.storage_requests() == []


def test_bad_preset_ids_say_what_to_do(kaggle, cli) -> None:
    unknown = cli("pull", "keras:preset/bert_tiny_en")
    assert unknown.code == 3 and "keras:preset/bert_tiny_en_uncased" in unknown.stderr, unknown.stderr
    pinned = cli("pull", f"{RID}@2", env=CREDS)
    assert pinned.code == 2 and f"kaggle:{HANDLE}" in pinned.stderr, pinned.stderr
    offline = cli("pull", RID, "--offline")
    assert offline.code != 0 and "kagglehub's cache" in offline.stderr and "Traceback" not in offline.stderr
    assert kaggle.count == 0
