"""A small but valid bioimage.io model (rdf.yaml 0.5 as bioimageio.spec 0.5.14 validates it) served by
tests/servers/hypha_server.py, with one weights file on another host (by URL, with its sha256)."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml

from servers.hypha_server import HyphaServer, Model


def npy(shape: tuple[int, ...], seed: int) -> bytes:
    """A float32 array in NumPy's .npy format 1.0 (written by hand: the tests need no numpy)."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    count = 1
    for n in shape:
        count *= n
    values = random.Random(seed)
    data = struct.pack(f"<{count}f", *(values.random() for _ in range(count)))
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


ARCH = b"import torch\n\nclass Tiny(torch.nn.Module):\n    def forward(self, x):\n        return x\n"
FILES = {
    "weights.pt": bytes(range(256)) * 300,
    "weights.onnx": b"onnx" * 5000,
    "tiny.py": ARCH,
    "test_input.npy": npy((1, 1, 16, 16), 1),
    "test_output.npy": npy((1, 1, 16, 16), 2),
    "README.md": b"# Tiny nuclei\n\nA tiny model for tests.\n",
    "cover.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
}
STATE_DICT = b"state" * 4000


def description(remote_url: str) -> dict[str, Any]:
    axes = [{"type": "batch"}, {"type": "channel", "channel_names": ["raw"]},
            {"id": "y", "type": "space", "size": 16}, {"id": "x", "type": "space", "size": 16}]
    return {
        "format_version": "0.5.4", "type": "model", "name": "Tiny nuclei U-Net",
        "description": "Nucleus segmentation for fluorescence microscopy, tiny test model",
        "authors": [{"name": "Constantin Pape;@bioimage-io", "affiliation": "EMBL Heidelberg"}],
        "cite": [{"text": "Ronneberger et al. U-Net, MICCAI 2015", "doi": "10.1007/978-3-319-24574-4_28"}],
        "license": "MIT", "tags": ["unet2d", "nucleus", "segmentation", "fluorescence-light-microscopy"],
        "covers": ["cover.png"], "documentation": "README.md",
        "inputs": [{"id": "raw", "axes": axes,
                    "test_tensor": {"source": "test_input.npy", "sha256": sha(FILES["test_input.npy"])}}],
        "outputs": [{"id": "prob", "axes": copy.deepcopy(axes),
                     "test_tensor": {"source": "test_output.npy", "sha256": sha(FILES["test_output.npy"])}}],
        "timestamp": "2024-01-01T00:00:00",
        "weights": {
            "pytorch_state_dict": {"source": remote_url, "sha256": sha(STATE_DICT),
                                   "architecture": {"source": "tiny.py", "sha256": sha(ARCH), "callable": "Tiny"},
                                   "pytorch_version": "2.1"},
            "torchscript": {"source": "weights.pt", "sha256": sha(FILES["weights.pt"]),
                            "parent": "pytorch_state_dict", "pytorch_version": "2.1"},
            "onnx": {"source": "weights.onnx", "sha256": sha(FILES["weights.onnx"]), "parent": "pytorch_state_dict",
                     "opset_version": 15},
        },
    }


def model(rdf: dict[str, Any], files: dict[str, bytes] | None = None, **kw: Any) -> Model:
    body = yaml.safe_dump(rdf, sort_keys=False).encode()
    return Model({"v0": {"rdf.yaml": body, **(files if files is not None else FILES)}}, manifest=rdf, **kw)


class Zoo:
    def __init__(self, server: HyphaServer, env: dict[str, str], root: Path) -> None:
        self.server, self.env, self.root = server, env, root
        self.remote = f"{server.url}/elsewhere/state.pt"

    def folder(self, alias: str = "tiny-nuclei", version: str = "v0") -> Path:
        return self.root / "packages" / alias / version

    def manifest(self, alias: str = "tiny-nuclei", version: str = "v0") -> dict[str, Any]:
        return json.loads((self.folder(alias, version) / ".zoofind-package.json").read_text())


@pytest.fixture
def zoo(hermetic, monkeypatch):
    monkeypatch.delenv("BIOIMAGEIO_CACHE_PATH", raising=False)
    monkeypatch.delenv("ZOOFIND_BIOIMAGEIO_ENDPOINT", raising=False)
    with HyphaServer({}, extra_files={"/elsewhere/state.pt": STATE_DICT}) as server:
        remote = f"{server.url}/elsewhere/state.pt"
        server.models["tiny-nuclei"] = model(description(remote), download_count=42)
        other = description(remote)
        other.update(name="Cell denoiser", description="Denoising of cells in light-sheet images", tags=["denoising"])
        server.models["calm-otter"] = model(other, created_at=1800000000)
        root = hermetic / ".cache" / "bioimageio"
        env = {"ZOOFIND_BIOIMAGEIO_ENDPOINT": server.url}
        monkeypatch.setenv("ZOOFIND_BIOIMAGEIO_ENDPOINT", server.url)
        yield Zoo(server, env, root)
