"""The torchvision source: the bundled snapshot, or the installed registry read once and cached.

A FAKE torchvision 0.99.0 (a real package on PYTHONPATH with list_models / get_model_weights
/ get_model_builder and real Enum weights classes shaped like torchvision's) stands in for
"another version is installed"; importing it appends a line to a marker file, so the tests
can tell whether zoofind imported torchvision. Everything runs in subprocesses: the fake
must not meet the real torchvision in this interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from zoofind.core.context import Context
from zoofind.hubs.ids import parse_id
from zoofind.hubs.torchvision.installed import installed_torchvision
from zoofind.hubs.torchvision.source import TorchvisionSource, hash_prefix
from zoofind.models.files import FileEntry

FAKE_VERSION = "0.99.0"

_API = '''
import dataclasses
from enum import Enum
from typing import Any, Callable

BUILTIN_MODELS: dict = {}
WEIGHTS: dict = {}


@dataclasses.dataclass
class Weights:
    url: str
    transforms: Callable
    meta: dict


class WeightsEnum(Enum):
    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"


def register(name, module, weights_enum):
    def builder(*, weights=None, progress=True, **kwargs):
        raise RuntimeError("the fake torchvision builds no models")
    builder.__name__ = name
    builder.__module__ = module
    BUILTIN_MODELS[name] = builder
    if weights_enum is not None:
        WEIGHTS[name] = weights_enum


def list_models(module=None, include=None, exclude=None):
    return sorted(k for k, v in BUILTIN_MODELS.items() if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__)


def get_model_builder(name):
    try:
        return BUILTIN_MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model_weights(name):
    fn = get_model_builder(name) if isinstance(name, str) else name
    if fn.__name__ not in WEIGHTS:
        raise ValueError(f"The model {fn.__name__} has no weights")
    return WEIGHTS[fn.__name__]
'''

_MODELS = '''
from ._api import Weights, WeightsEnum, get_model_builder, get_model_weights, list_models, register

_COMMON = {"categories": ["cat", "dog"], "min_size": (1, 1), "recipe": "https://example.org/recipe"}


class ResNet200_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url="https://download.pytorch.org/models/resnet200-0a1b2c3d.pth",
        transforms=None,
        meta={**_COMMON, "num_params": 64669864, "_metrics": {"ImageNet-1K": {"acc@1": 79.5, "acc@5": 94.8}},
              "_ops": 15.2, "_file_size": 247.3, "_docs": "These weights reproduce the paper."},
    )
    IMAGENET1K_V2 = Weights(
        url="https://download.pytorch.org/models/resnet200-9f8e7d6c5b.pth",
        transforms=None,
        meta={**_COMMON, "num_params": 64669864, "_metrics": {"ImageNet-1K": {"acc@1": 81.9, "acc@5": 95.9}},
              "_ops": 15.2, "_file_size": 247.3, "_docs": "These weights improve upon the results of the original paper."},
    )
    DEFAULT = IMAGENET1K_V2


class ZooNet_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url="https://download.pytorch.org/models/zoonet_tiny-12345678.pth",
        transforms=None,
        meta={**_COMMON, "num_params": 5000000, "_metrics": {"ImageNet-1K": {"acc@1": 70.1, "acc@5": 90.0}},
              "_ops": 0.5, "_file_size": 20.0, "_docs": "A zoo-friendly tiny network."},
    )
    # a token zoofind's tables do not know: the lenient reader keeps the entry anyway
    LAION2B_V1 = Weights(
        url="https://download.pytorch.org/models/zoonet_tiny_laion-abcdef01.pth",
        transforms=None,
        meta={**_COMMON, "num_params": 5000000, "_docs": "Pretrained on a web-scale set."},
    )
    DEFAULT = IMAGENET1K_V1


register("resnet200", "torchvision.models.resnet", ResNet200_Weights)
register("zoonet_tiny", "torchvision.models.zoonet", ZooNet_Tiny_Weights)
register("untrained_net", "torchvision.models.untrained", None)

from . import detection, quantization, segmentation, video  # noqa: E402  (no optical_flow: lenient)
'''

_DETECTION = '''
from .._api import Weights, WeightsEnum, register


class FasterRCNN_ZooNet_Weights(WeightsEnum):
    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/fasterrcnn_zoonet-deadbeef.pth",
        transforms=None,
        meta={"categories": ["__background__", "person"], "min_size": (1, 1), "num_params": 19000000,
              "_metrics": {"COCO-val2017": {"box_map": 33.3}}, "_ops": 4.5, "_file_size": 74.0,
              "_docs": "Box MAPs are reported on COCO val2017."},
    )
    DEFAULT = COCO_V1


register("fasterrcnn_zoonet", "torchvision.models.detection.faster_rcnn", FasterRCNN_ZooNet_Weights)
'''

_INIT = '''
import os

__version__ = "{version}+cpu"

_marker = os.environ.get("FAKE_TV_MARKER")
if _marker:
    with open(_marker, "a", encoding="utf-8") as fh:
        fh.write("imported\\n")

from . import models  # noqa: E402
'''


def make_fake_torchvision(root: Path, version: str = FAKE_VERSION) -> Path:
    pkg = root / "torchvision"
    (pkg / "models" / "detection").mkdir(parents=True)
    (pkg / "__init__.py").write_text(_INIT.format(version=version))
    (pkg / "version.py").write_text(f"__version__ = '{version}+cpu'\n")
    (pkg / "models" / "__init__.py").write_text(_MODELS)
    (pkg / "models" / "_api.py").write_text(_API)
    (pkg / "models" / "detection" / "__init__.py").write_text(_DETECTION)
    for name in ("quantization", "segmentation", "video"):
        (pkg / "models" / f"{name}.py").write_text("")
    dist = root / f"torchvision-{version}+cpu.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torchvision\nVersion: {version}+cpu\n")
    return root


@pytest.fixture
def fake(tmp_path: Path) -> dict[str, str]:
    root = make_fake_torchvision(tmp_path / "fake-site")
    marker = tmp_path / "torchvision-imported.txt"
    return {"PYTHONPATH": str(root), "FAKE_TV_MARKER": str(marker), "_marker": str(marker), "_root": str(root)}


def _env(fake: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fake.items() if not k.startswith("_")}


def imports(fake: dict[str, str]) -> int:
    path = Path(fake["_marker"])
    return len(path.read_text().splitlines()) if path.exists() else 0


def py(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=60,
    )


def sources_of(body: dict) -> dict[str, dict]:
    return {s["name"]: s for s in body["sources"]}


# -- installed_torchvision ------------------------------------------------------------


def test_installed_torchvision_reads_dist_info_without_importing(fake) -> None:
    r = py(
        """
        import sys, time
        from zoofind.hubs.torchvision.installed import installed_torchvision
        t = time.perf_counter()
        for _ in range(50):
            v = installed_torchvision()
        ms = (time.perf_counter() - t) / 50 * 1000
        print(v, ms, "torchvision" in sys.modules, "importlib.metadata" in sys.modules)
        """,
        _env(fake),
    )
    assert r.returncode == 0, r.stderr
    version, ms, imported, metadata = r.stdout.split()
    assert version == FAKE_VERSION  # the local "+cpu" is stripped
    assert float(ms) < 5.0  # a directory scan, not an import (which takes seconds)
    assert imported == "False" and imports(fake) == 0


def test_installed_torchvision_of_the_real_install_is_public() -> None:
    v = installed_torchvision()
    # The venv ships torchvision 0.29.1(+cu130); without it there is nothing to compare.
    assert v is None or "+" not in v


def test_installed_torchvision_from_a_package_without_metadata(tmp_path: Path) -> None:
    root = make_fake_torchvision(tmp_path / "site", "0.42.0")
    for dist in root.glob("*.dist-info"):
        for f in dist.iterdir():
            f.unlink()
        dist.rmdir()
    code = "from zoofind.hubs.torchvision.installed import installed_torchvision; print(installed_torchvision())"
    r = py(code, {"PYTHONPATH": str(root)})
    assert r.stdout.strip() == "0.42.0", r.stderr


# -- another version installed: read once, cache, replace the snapshot -----------------


def test_other_version_reads_registry_once_then_serves_the_cache(cli, fake) -> None:
    first = cli("search", "zoonet", "--source", "torchvision", "--json", env=_env(fake))
    assert first.code == 0, first.stderr
    body = json.loads(first.stdout)
    ids = [r["id"] for r in body["results"]]
    assert "torchvision:zoonet_tiny.IMAGENET1K_V1" in ids
    assert "torchvision:zoonet_tiny.LAION2B_V1" in ids  # unknown token: kept, not fatal
    assert sources_of(body)["torchvision"]["status"] == "ok"
    assert sources_of(body)["torchvision"]["origin"] == "live"
    assert imports(fake) == 1

    cache = Path(os.environ["ZOOFIND_CACHE_DIR"]) / "torchvision" / f"registry-{FAKE_VERSION}.json"
    stored = json.loads(cache.read_text())
    assert stored["torchvision_version"] == FAKE_VERSION
    assert {e["id"] for e in stored["entries"]} == {
        "torchvision:resnet200.IMAGENET1K_V1", "torchvision:resnet200.IMAGENET1K_V2",
        "torchvision:zoonet_tiny.IMAGENET1K_V1", "torchvision:zoonet_tiny.LAION2B_V1",
        "torchvision:fasterrcnn_zoonet.COCO_V1",
    }
    det = next(e for e in stored["entries"] if e["id"] == "torchvision:fasterrcnn_zoonet.COCO_V1")
    assert det["tasks"] == ["object-detection"] and det["extra"]["tv_task"] == "detection"
    assert det["evidence"] == f"torchvision {FAKE_VERSION} registry"

    # Second run: the cached registry answers; torchvision is not imported again.
    second = cli("search", "resnet", "--source", "torchvision", "--json", env=_env(fake))
    assert second.code == 0, second.stderr
    body = json.loads(second.stdout)
    ids = [r["id"] for r in body["results"]]
    assert sources_of(body)["torchvision"]["origin"] == "cache"
    assert imports(fake) == 1
    # The installed registry replaces the 0.29.1 snapshot: its resnet200 is there, resnet50 is not.
    assert set(ids[:2]) == {"torchvision:resnet200.IMAGENET1K_V1", "torchvision:resnet200.IMAGENET1K_V2"}, ids
    assert all(i.startswith("torchvision:") for i in ids)
    assert not any(i.startswith("torchvision:resnet50.") for i in ids)


def test_cache_is_keyed_by_version(cli, fake, tmp_path: Path) -> None:
    assert cli("search", "zoonet", "--source", "torchvision", "--json", env=_env(fake)).code == 0
    other = make_fake_torchvision(tmp_path / "other-site", "0.98.0")
    r = cli("search", "zoonet", "--source", "torchvision", "--json", env={**_env(fake), "PYTHONPATH": str(other)})
    assert r.code == 0, r.stderr
    assert sources_of(json.loads(r.stdout))["torchvision"]["origin"] == "live"
    assert imports(fake) == 2  # a new version is read, not served from 0.99.0's file
    folder = Path(os.environ["ZOOFIND_CACHE_DIR"]) / "torchvision"
    assert sorted(p.name for p in folder.glob("registry-*.json")) == ["registry-0.98.0.json", "registry-0.99.0.json"]


def test_info_resolves_the_default_alias_against_the_installed_registry(cli, fake) -> None:
    r = cli("info", "torchvision:zoonet_tiny", "--json", env=_env(fake))
    assert r.code == 0, r.stderr
    rec = json.loads(r.stdout)["record"]
    assert rec["id"] == "torchvision:zoonet_tiny.IMAGENET1K_V1" and rec["extra"]["default"] is True
    assert rec["extra"]["url"] == "https://download.pytorch.org/models/zoonet_tiny-12345678.pth"

    miss = cli("info", "torchvision:zoonett", env=_env(fake))
    assert miss.code == 3
    assert "torchvision:zoonet_tiny" in miss.stderr and "0.99.0" in miss.stderr


def test_offline_without_a_stored_registry_keeps_the_snapshot_and_says_why(fake) -> None:
    r = py(
        """
        import json
        from zoofind.core.context import Context
        from zoofind.hubs import SearchQuery, get
        a = get("torchvision").search(SearchQuery(text="resnet"), Context.from_env(offline=True))
        print(json.dumps({"n": len(a.records), "origin": a.origin, "note": a.note}))
        """,
        _env(fake),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n"] == 0 and out["origin"] == "bundled"
    assert "0.29.1" in out["note"] and FAKE_VERSION in out["note"]
    assert imports(fake) == 0


def test_offline_with_a_stored_registry_uses_it(cli, fake) -> None:
    assert cli("search", "zoonet", "--source", "torchvision", env=_env(fake)).code == 0
    r = py(
        """
        import json
        from zoofind.core.context import Context
        from zoofind.hubs import SearchQuery, get
        a = get("torchvision").search(SearchQuery(text="resnet"), Context.from_env(offline=True))
        print(json.dumps({"n": len(a.records), "origin": a.origin, "replaces": get("torchvision").spec.replaces_snapshot}))
        """,
        _env(fake),
    )
    out = json.loads(r.stdout)
    assert out == {"n": 5, "origin": "cache", "replaces": True}
    assert imports(fake) == 1


def test_a_broken_install_is_a_source_error_while_the_snapshot_answers(cli, tmp_path: Path) -> None:
    root = make_fake_torchvision(tmp_path / "broken-site", "0.97.0")
    (root / "torchvision" / "models" / "__init__.py").write_text("raise ImportError('libtorch.so: cannot open shared object file')\n")
    r = cli("search", "resnet", "--source", "torchvision", "--json", env={"PYTHONPATH": str(root)})
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    rep = sources_of(body)["torchvision"]
    assert rep["status"] == "error" and "0.97.0" in rep["message"]
    assert body["results"] and body["results"][0]["id"].startswith("torchvision:resnet")  # the 0.29.1 snapshot


# -- the installed version is the snapshot's: nothing to read, nothing imported --------


@pytest.mark.skipif(installed_torchvision() != "0.29.1", reason="needs the real torchvision 0.29.1 installed")
def test_same_version_answers_from_the_snapshot_without_importing_torchvision() -> None:
    started = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "zoofind", "search", "resnet", "--source", "torchvision", "--json"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60,
    )
    elapsed = time.perf_counter() - started
    assert r.returncode == 0, r.stderr
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "torchvision" not in imported and "torch" not in imported
    body = json.loads(r.stdout)
    assert sources_of(body)["torchvision"]["origin"] == "bundled"
    assert body["results"][0]["id"].startswith("torchvision:resnet")
    assert "torchvision:resnet50.IMAGENET1K_V2" in [r["id"] for r in body["results"]]  # a 0.29.1 snapshot id
    assert not (Path(os.environ["ZOOFIND_CACHE_DIR"]) / "torchvision").exists()
    assert elapsed < 10


# -- in-process: the snapshot path (no fake on sys.path) -------------------------------


def test_files_give_the_checkpoint_and_its_hash_prefix(monkeypatch) -> None:
    src = TorchvisionSource()
    if installed_torchvision() not in (None, "0.29.1"):
        pytest.skip("another torchvision is installed here")
    (entry,) = src.files(parse_id("torchvision:resnet50"), Context.from_env())
    assert isinstance(entry, FileEntry)
    assert entry.url == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
    assert entry.path == "resnet50-11ad3fa6.pth" and entry.sha256_prefix == "11ad3fa6"
    monkeypatch.setenv("ZOOFIND_TORCHVISION_ENDPOINT", "http://127.0.0.1:9/mirror")
    (entry,) = src.files(parse_id("torchvision:resnet50.IMAGENET1K_V1"), Context.from_env())
    assert entry.url == "http://127.0.0.1:9/mirror/resnet50-0676ba61.pth"


def test_hash_prefix_follows_torch_hub() -> None:
    assert hash_prefix("alexnet-owt-7be5be79.pth") == "7be5be79"
    assert hash_prefix("raft_large_C_T_SKHT_V2-ff5fadd5.pth") == "ff5fadd5"
    assert hash_prefix("weights.pth") is None


def test_unknown_builder_hint_lists_close_names() -> None:
    from zoofind.core.errors import NotFoundError

    if installed_torchvision() not in (None, "0.29.1"):
        pytest.skip("another torchvision is installed here")
    src = TorchvisionSource()
    with pytest.raises(NotFoundError) as err:
        src.info(parse_id("torchvision:resnet51"), Context.from_env())
    assert "torchvision:resnet50" in (err.value.hint or "")
    with pytest.raises(NotFoundError) as err:
        src.info(parse_id("torchvision:resnet50.IMAGENET1K_V9"), Context.from_env())
    assert "IMAGENET1K_V1" in (err.value.hint or "") and "IMAGENET1K_V2" in (err.value.hint or "")


def test_status_reports_versions_and_probes_only_when_asked(monkeypatch) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("ZOOFIND_TORCHVISION_ENDPOINT", f"http://127.0.0.1:{server.server_port}/models/")
        src = TorchvisionSource()
        st = src.status(Context.from_env(), probe=False)
        assert st.reachable is None and hits == []
        details = dict(st.details)
        assert details["snapshot torchvision"] == "0.29.1"
        assert details["installed torchvision"] == (installed_torchvision() or "not installed")
        st = src.status(Context.from_env(timeout=2), probe=True)
        assert st.reachable is True and st.reason == "HTTP 403" and hits == ["/models/"]
    finally:
        server.shutdown()
        server.server_close()


def test_registry_read_pending_names_the_version_to_read(fake) -> None:
    code = ("from zoofind.core.context import Context; from zoofind.hubs.torchvision.source import registry_read_pending as p; "
            "print(p(Context.from_env()), p(Context.from_env(offline=True)))")
    r = py(code, _env(fake))
    assert r.stdout.split() == [FAKE_VERSION, "None"], r.stderr
    assert py(code).stdout.split() == (["None", "None"] if installed_torchvision() in (None, "0.29.1") else r.stdout.split())
