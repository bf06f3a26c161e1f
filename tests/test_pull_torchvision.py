"""`zoofind pull torchvision:...` from a download.pytorch.org-style server (tests/servers/files_server.py),
refereed by torch.hub and torchvision themselves with no network.

Real checkpoint names carry the first digits of the real file's SHA-256 (resnet18-f37072fd.pth),
which no test file can match; the quantized checkpoints' names carry none
(resnet18_fbgemm_16fa66dd.pth: no ``-<hex>.`` for torch.hub's HASH_REGEX), so a real, randomly
initialised quantized ResNet-18 state dict stands in for the real file there.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.tls import https, make_ca

QUANTIZED = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"
QUANTIZED_PATH = "/models/quantized/resnet18_fbgemm_16fa66dd.pth"
QUANTIZED_URL = "https://download.pytorch.org/models/quantized/resnet18_fbgemm_16fa66dd.pth"


@pytest.fixture(scope="module")
def quantized_state_dict(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("weights") / "q.pth"
    code = (
        "import torch, warnings; warnings.simplefilter('ignore')\n"
        "from torchvision.models.quantization import resnet18\n"
        "torch.manual_seed(0)\n"
        f"torch.save(resnet18(weights=None, quantize=True).state_dict(), {str(out)!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    return out.read_bytes()


@pytest.fixture
def pytorch_org(quantized_state_dict: bytes, monkeypatch: pytest.MonkeyPatch):
    files = {QUANTIZED_PATH: quantized_state_dict, "/models/resnet18-f37072fd.pth": b"not the real resnet18 " * 100}
    with FileServer(files, missing_status=403) as srv:
        monkeypatch.setenv("ZOOFIND_TORCHVISION_ENDPOINT", srv.url + "/models")
        monkeypatch.setenv("TORCH_HOME", str(Path(os.environ["HOME"]) / "torch-home"))
        yield srv


def offline_referee(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run torch/torchvision code in a fresh interpreter whose every request would fail
    (download.pytorch.org is unreachable here, and the proxy points nowhere)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {}), "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})


def checkpoints() -> Path:
    return Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"


def test_pull_places_the_checkpoint_where_torch_hub_and_torchvision_load_it_offline(pytorch_org, cli, quantized_state_dict) -> None:
    ran = cli("pull", QUANTIZED, "--json")
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    target = checkpoints() / "resnet18_fbgemm_16fa66dd.pth"
    assert res["path"] == str(target) and target.read_bytes() == quantized_state_dict
    (f,) = res["files"]
    assert f["status"] == "downloaded" and f["sha256"] == hashlib.sha256(quantized_state_dict).hexdigest()
    assert f["pickle"] is True and res["framework"] == "pytorch" and "torchvision" in res["packages"]
    pytorch_org.clear()
    code = (
        "import torch, torchvision, warnings; warnings.simplefilter('ignore')\n"
        f"sd = torch.hub.load_state_dict_from_url({QUANTIZED_URL!r}, check_hash=True)\n"
        "m = torchvision.models.get_model('quantized_resnet18', weights='DEFAULT', quantize=True)\n"
        "print(len(sd), type(m).__name__)\n"
    )
    check = offline_referee(code)
    assert check.returncode == 0, check.stderr[-2000:]
    assert check.stdout.split()[1] == "QuantizableResNet"
    assert pytorch_org.requests == []


def test_a_checkpoint_whose_hash_does_not_match_its_name_is_refused(pytorch_org, cli) -> None:
    ran = cli("pull", "torchvision:resnet18")
    assert ran.code == 1
    assert "resnet18-f37072fd.pth" in ran.stderr and "f37072fd" in ran.stderr and "deleted" in ran.stderr
    assert not (checkpoints() / "resnet18-f37072fd.pth").exists()
    assert [p.name for p in checkpoints().iterdir() if not p.name.startswith(".zoofind-lock-")] == []


def test_a_cached_checkpoint_pulls_offline_with_no_request(pytorch_org, cli) -> None:
    assert cli("pull", QUANTIZED).code == 0
    pytorch_org.clear()
    ran = cli("pull", QUANTIZED, "--offline")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"{QUANTIZED}\t{checkpoints() / 'resnet18_fbgemm_16fa66dd.pth'}\n"
    assert pytorch_org.requests == []
    missing = cli("pull", "torchvision:resnet50", "--offline")
    assert missing.code == 1 and "checkpoint folder" in missing.stderr and pytorch_org.requests == []


def test_torchvision_ids_have_no_revisions(pytorch_org, cli) -> None:
    ran = cli("pull", "torchvision:resnet50@v2")
    assert ran.code == 2 and "IMAGENET1K_V2" in ran.stderr
    assert pytorch_org.requests == []


def test_a_bare_name_the_catalog_knows_once_is_accepted_and_an_ambiguous_one_lists_candidates(pytorch_org, cli, tmp_path) -> None:
    dry = cli("pull", "quantized_resnet18", "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    assert json.loads(dry.stdout)["results"][0]["id"] == QUANTIZED and pytorch_org.requests == []
    # Several weights of one builder: the builder's DEFAULT weights.
    default = cli("pull", "wide_resnet50_2", "--dry-run", "--json")
    assert json.loads(default.stdout)["results"][0]["id"] == "torchvision:wide_resnet50_2.IMAGENET1K_V2"
    # A name two hubs give a model (torchvision's resnet50 builder, Keras's ResNet50) is ambiguous.
    both = cli("pull", "resnet50", "--dry-run")
    assert both.code == 2 and "torchvision:resnet50.IMAGENET1K_V2" in both.stderr and "keras:ResNet50" in both.stderr
    (tmp_path / "mine.toml").write_text(
        '[[entry]]\nid = "hf:lab-a/cellseg"\nkind = "model"\nname = "cellseg"\nreliability = "verified_usage"\n\n'
        '[[entry]]\nid = "hf:lab-b/cellseg"\nkind = "model"\nname = "cellseg"\nreliability = "verified_usage"\n'
    )
    ambiguous = cli("pull", "cellseg", env={"ZOOFIND_CATALOG_DIR": str(tmp_path)})
    assert ambiguous.code == 2 and "ambiguous" in ambiguous.stderr, ambiguous.stderr
    assert "hf:lab-a/cellseg" in ambiguous.stderr and "hf:lab-b/cellseg" in ambiguous.stderr
    unknown = cli("pull", "no-such-model-anywhere")
    assert unknown.code == 2 and "zoofind search" in unknown.stderr


def test_ctrl_c_mid_pull_exits_130_keeps_the_partial_and_the_next_pull_continues(pytorch_org, quantized_state_dict) -> None:
    import signal
    import time

    pytorch_org.rate_bps = 1_000_000  # ~12 s for the 11.8 MB checkpoint
    script = Path(sys.executable).with_name("zoofind")
    proc = subprocess.Popen([str(script), "pull", QUANTIZED], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while pytorch_org.bytes_sent < 3_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["zoofind: error: interrupted"] and out == ""
    target = checkpoints() / "resnet18_fbgemm_16fa66dd.pth"
    assert not target.exists()
    partial = checkpoints() / ".zoofind-partial-resnet18_fbgemm_16fa66dd.pth"
    assert partial.exists()
    sent = pytorch_org.bytes_sent
    pytorch_org.rate_bps = None
    again = subprocess.run([str(script), "pull", QUANTIZED], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert target.read_bytes() == quantized_state_dict and not partial.exists()
    assert pytorch_org.bytes_sent - sent <= len(quantized_state_dict) - 2_000_000


@pytest.fixture
def tls_ca(tmp_path: Path):
    """A test CA (trustme) that the child zoofind trusts through SSL_CERT_FILE, as users point it at a lab's CA."""
    return make_ca(tmp_path)


def test_https_mirrors_work_and_a_redirect_down_to_plain_http_is_refused(tls_ca, cli, quantized_state_dict) -> None:
    ca, pem = tls_ca
    with FileServer({"/x.pth": quantized_state_dict}) as plain:
        files = {QUANTIZED_PATH: quantized_state_dict}
        with https(FileServer(files, redirects={"/models/resnet18-f37072fd.pth": plain.url + "/x.pth"}), ca) as srv:
            env = {"SSL_CERT_FILE": str(pem), "ZOOFIND_TORCHVISION_ENDPOINT": f"https://localhost:{srv.httpd.server_port}/models",
                   "TORCH_HOME": str(Path(os.environ["HOME"]) / "tls-torch")}
            ok = cli("pull", QUANTIZED, env=env)
            assert ok.code == 0, ok.stderr
            down = cli("pull", "torchvision:resnet18", env=env)
            assert down.code == 1 and "plain http" in down.stderr, down.stderr
            assert plain.requests == []


def test_a_checkpoint_under_its_real_name_passes_the_hash_check_and_get_model_loads_it(cli, monkeypatch, tmp_path) -> None:
    """tests/servers/torch_fixture.py makes squeezenet1_1-b8a52dc0.pth: a real state dict whose sha256 starts b8a52dc0."""
    from servers.torch_fixture import checkpoint

    name, data = checkpoint("squeezenet1_1")
    with FileServer({f"/models/{name}": data}) as srv:
        env = {"ZOOFIND_TORCHVISION_ENDPOINT": srv.url + "/models", "TORCH_HOME": str(tmp_path / "torch")}
        ran = cli("pull", "torchvision:squeezenet1_1", env=env)
        assert ran.code == 0, ran.stderr
        assert ran.stdout == f"torchvision:squeezenet1_1.IMAGENET1K_V1\t{tmp_path / 'torch' / 'hub' / 'checkpoints' / name}\n"
        srv.clear()
        code = (
            "import torch, torchvision\n"
            f"sd = torch.hub.load_state_dict_from_url('https://download.pytorch.org/models/{name}', check_hash=True)\n"
            "m = torchvision.models.get_model('squeezenet1_1', weights='DEFAULT')\n"
            "print(type(m).__name__)\n"
        )
        check = offline_referee(code, env)
        assert check.returncode == 0, check.stderr[-2000:]
        assert check.stdout.strip() == "SqueezeNet" and srv.requests == []
