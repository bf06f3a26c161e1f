"""The frameworks and libraries a model may need, and what is installed here.

One table: each entry names the pip packages to install, the import name, the
framework it sits on and a home page. ``info`` and ``list-frameworks`` read it; the
catalog validator checks that every ``libraries`` value is a key here.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.pull import Requirement


@dataclass(frozen=True)
class Library:
    key: str
    name: str
    pip: tuple[str, ...]
    module: str
    # Distribution whose version we report; differs from the import name for many.
    dist: str
    framework: str | None  # the base framework it runs on (None: it is one)
    url: str
    is_framework: bool = False
    #: The tag the Hugging Face Hub files models of this library or framework under
    #: (``filter=`` in its API), None when the Hub has none.
    hub_tag: str | None = None
    #: The hub tag also means something else (``esm`` is a transformers model type too,
    #: ``gguf`` a file format): it does not by itself say the model uses this library.
    ambiguous_tag: bool = False
    #: A front end whose weights show the framework it runs on (Flax weights are JAX weights).
    shows_framework: bool = False


def _lib(
    key: str,
    name: str,
    pip: str | tuple[str, ...],
    module: str,
    framework: str | None,
    url: str,
    dist: str | None = None,
    is_framework: bool = False,
    hub: str | None = None,
    ambiguous_tag: bool = False,
    shows_framework: bool = False,
) -> Library:
    pips = (pip,) if isinstance(pip, str) else pip
    return Library(key, name, pips, module, dist or pips[0], framework, url, is_framework, hub, ambiguous_tag,
                   shows_framework)


LIBRARIES: dict[str, Library] = {
    lib.key: lib
    for lib in (
        _lib("pytorch", "PyTorch", "torch", "torch", None, "https://pytorch.org", is_framework=True, hub="pytorch"),
        _lib("tensorflow", "TensorFlow", "tensorflow", "tensorflow", None, "https://www.tensorflow.org",
             is_framework=True, hub="tf"),
        _lib("jax", "JAX", ("jax", "jaxlib"), "jax", None, "https://github.com/jax-ml/jax", is_framework=True,
             hub="jax"),
        _lib("keras", "Keras", "keras", "keras", None, "https://keras.io", is_framework=True, hub="keras"),
        _lib("onnx", "ONNX Runtime", "onnxruntime", "onnxruntime", None, "https://onnxruntime.ai", is_framework=True,
             hub="onnx"),
        _lib("tflite", "LiteRT (TensorFlow Lite)", "ai-edge-litert", "ai_edge_litert", None,
             "https://ai.google.dev/edge/litert", is_framework=True, hub="tflite"),
        _lib("tfjs", "TensorFlow.js (converter)", "tensorflowjs", "tensorflowjs", None, "https://www.tensorflow.org/js",
             is_framework=True, hub="tfjs"),
        _lib("mxnet", "Apache MXNet", "mxnet", "mxnet", None, "https://mxnet.apache.org", is_framework=True),
        _lib("chainer", "Chainer", "chainer", "chainer", None, "https://chainer.org", is_framework=True),
        _lib("scikit-learn", "scikit-learn", "scikit-learn", "sklearn", None, "https://scikit-learn.org",
             is_framework=True, hub="scikit-learn"),
        _lib("torchvision", "torchvision", "torchvision", "torchvision", "pytorch",
             "https://pytorch.org/vision/stable/models.html"),
        _lib("transformers", "Transformers", "transformers", "transformers", "pytorch",
             "https://huggingface.co/docs/transformers", hub="transformers"),
        _lib("timm", "timm", "timm", "timm", "pytorch", "https://huggingface.co/docs/timm", hub="timm"),
        _lib("diffusers", "Diffusers", "diffusers", "diffusers", "pytorch", "https://huggingface.co/docs/diffusers",
             hub="diffusers"),
        _lib("sentence-transformers", "Sentence Transformers", "sentence-transformers", "sentence_transformers",
             "pytorch", "https://sbert.net", hub="sentence-transformers"),
        _lib("open_clip", "OpenCLIP", "open_clip_torch", "open_clip", "pytorch",
             "https://github.com/mlfoundations/open_clip", hub="open_clip"),
        _lib("peft", "PEFT", "peft", "peft", "pytorch", "https://huggingface.co/docs/peft", hub="peft"),
        _lib("flax", "Flax", "flax", "flax", "jax", "https://github.com/google/flax", hub="jax", shows_framework=True),
        _lib("tensorflow_hub", "TensorFlow Hub", "tensorflow-hub", "tensorflow_hub", "tensorflow",
             "https://www.tensorflow.org/hub"),
        _lib("tensorflow_text", "TensorFlow Text", "tensorflow-text", "tensorflow_text", "tensorflow",
             "https://www.tensorflow.org/text"),
        _lib("keras_hub", "KerasHub", "keras-hub", "keras_hub", "keras", "https://keras.io/keras_hub/",
             hub="keras-hub"),
        _lib("kagglehub", "kagglehub", "kagglehub", "kagglehub", None, "https://github.com/Kaggle/kagglehub"),
        _lib("fair-esm", "fair-esm (ESM)", "fair-esm", "esm", "pytorch", "https://github.com/facebookresearch/esm"),
        _lib("esm", "esm (EvolutionaryScale)", "esm", "esm", "pytorch", "https://github.com/evolutionaryscale/esm",
             hub="esm", ambiguous_tag=True),
        _lib("torch_geometric", "PyTorch Geometric", "torch_geometric", "torch_geometric", "pytorch",
             "https://github.com/pyg-team/pytorch_geometric"),
        _lib("terratorch", "TerraTorch", "terratorch", "terratorch", "pytorch", "https://github.com/IBM/terratorch"),
        _lib("microsoft-aurora", "Aurora", "microsoft-aurora", "aurora", "pytorch",
             "https://github.com/microsoft/aurora"),
        _lib("speechbrain", "SpeechBrain", "speechbrain", "speechbrain", "pytorch", "https://speechbrain.github.io",
             hub="speechbrain"),
        _lib("nemo", "NVIDIA NeMo", "nemo_toolkit", "nemo", "pytorch", "https://github.com/NVIDIA/NeMo", hub="nemo"),
        _lib("fastai", "fastai", "fastai", "fastai", "pytorch", "https://docs.fast.ai", hub="fastai"),
        _lib("pytorch-lightning", "Lightning", "lightning", "lightning", "pytorch", "https://lightning.ai"),
        # Science libraries that fetch (or ship) their own pretrained weights: catalog/science.toml.
        _lib("cellpose", "Cellpose", "cellpose", "cellpose", "pytorch", "https://github.com/MouseLand/cellpose"),
        _lib("stardist", "StarDist", "stardist", "stardist", "tensorflow", "https://github.com/stardist/stardist"),
        _lib("n2v", "Noise2Void (n2v)", "n2v", "n2v", "tensorflow", "https://github.com/juglab/n2v"),
        _lib("careamics", "CAREamics", "careamics", "careamics", "pytorch", "https://github.com/CAREamics/careamics"),
        _lib("monai", "MONAI", "monai", "monai", "pytorch", "https://monai.io", hub="monai"),
        _lib("totalsegmentator", "TotalSegmentator", "totalsegmentator", "totalsegmentator", "pytorch",
             "https://github.com/wasserth/TotalSegmentator"),
        _lib("mace", "MACE", "mace-torch", "mace", "pytorch", "https://github.com/ACEsuit/mace"),
        _lib("chgnet", "CHGNet", "chgnet", "chgnet", "pytorch", "https://github.com/CederGroupHub/chgnet"),
        _lib("matgl", "MatGL", "matgl", "matgl", "pytorch", "https://github.com/materialsvirtuallab/matgl"),
        _lib("mattersim", "MatterSim", "mattersim", "mattersim", "pytorch", "https://github.com/microsoft/mattersim"),
        _lib("orb-models", "Orb", "orb-models", "orb_models", "pytorch",
             "https://github.com/orbital-materials/orb-models"),
        _lib("sevenn", "SevenNet", "sevenn", "sevenn", "pytorch", "https://github.com/MDIL-SNU/SevenNet"),
        _lib("scgpt", "scGPT", "scgpt", "scgpt", "pytorch", "https://github.com/bowang-lab/scGPT"),
        _lib("deeplabcut", "DeepLabCut", "deeplabcut", "deeplabcut", "pytorch",
             "https://github.com/DeepLabCut/DeepLabCut", hub="deeplabcut"),
        _lib("kilosort", "Kilosort", "kilosort", "kilosort", "pytorch", "https://github.com/MouseLand/Kilosort"),
        _lib("weaver-core", "weaver", "weaver-core", "weaver", "pytorch", "https://github.com/hqucms/weaver-core"),
        _lib("gguf", "llama.cpp / GGUF", "llama-cpp-python", "llama_cpp", None, "https://github.com/ggml-org/llama.cpp",
             hub="gguf", ambiguous_tag=True),
    )
}

#: Hugging Face ``library_name`` values and tags that differ from our keys.
ALIASES: dict[str, str] = {
    "torch": "pytorch",
    "tf": "tensorflow",
    "tf-keras": "keras",
    "onnxruntime": "onnx",
    "tensorflow-hub": "tensorflow_hub",
    "tensorflow-text": "tensorflow_text",
    "sentence_transformers": "sentence-transformers",
    "open-clip": "open_clip",
    "openclip": "open_clip",
    "tensorflowjs": "tfjs",
    "tf-lite": "tflite",
    "tensorflow-lite": "tflite",
    "litert": "tflite",
    "pyg": "torch_geometric",
    "lightning": "pytorch-lightning",
    "pytorch_lightning": "pytorch-lightning",
    "keras-hub": "keras_hub",
    "keras-nlp": "keras_hub",  # KerasHub's name before 0.18
    "keras_nlp": "keras_hub",
    "sklearn": "scikit-learn",
    "scikitlearn": "scikit-learn",  # Kaggle's scikitLearn (and MODEL_FRAMEWORK_SCIKIT_LEARN)
    "coral": "tflite",  # Coral Edge TPU models are TF Lite files compiled for the Edge TPU
    "tensorflow1": "tensorflow",
    "tensorflow2": "tensorflow",
}

FRAMEWORK_KEYS: tuple[str, ...] = tuple(k for k, v in LIBRARIES.items() if v.is_framework)


def canonical(name: str) -> str:
    """Map a user's or a hub's spelling to our key (case-insensitive)."""
    low = name.strip().lower()
    return ALIASES.get(low, low)


def framework_of(name: str) -> str | None:
    """The framework a tag, library name or weights format shows: a framework's own key or
    alias (``tf`` -> tensorflow), or a front end whose weights are its framework's (flax -> jax)."""
    lib = LIBRARIES.get(canonical(name))
    if lib is None:
        return None
    if lib.is_framework:
        return lib.key
    return lib.framework if lib.shows_framework else None


def library_of_tag(tag: str) -> str | None:
    """The library a hub tag names unambiguously (``timm``), else None."""
    lib = LIBRARIES.get(canonical(tag))
    if lib is None or lib.is_framework or lib.ambiguous_tag or lib.shows_framework or lib.hub_tag is None:
        return None
    return lib.key


def hub_tag(name: str) -> str | None:
    """The Hugging Face Hub tag a user's ``--framework`` value is filed under, if any."""
    lib = LIBRARIES.get(canonical(name))
    return lib.hub_tag if lib else None


def requirements(libraries: Iterable[str], frameworks: Iterable[str], packages: Iterable[str] = ()) -> tuple[str, ...]:
    """Pip requirements for a model, base framework first, without duplicates."""
    out: list[str] = []
    keys = [canonical(k) for k in libraries]
    bases = [canonical(f) for f in frameworks]
    for key in keys:
        lib = LIBRARIES.get(key)
        if lib and lib.framework and lib.framework not in bases and not bases:
            bases.append(lib.framework)
    for key in [*bases[:1], *keys]:
        lib = LIBRARIES.get(key)
        for pip in lib.pip if lib else ():
            if pip not in out:
                out.append(pip)
    for pkg in packages:
        if pkg not in out:
            out.append(pkg)
    return tuple(out)


def installed_version(key: str) -> str | None:
    """Version of the library's distribution installed in this interpreter, or None."""
    lib = LIBRARIES.get(canonical(key))
    return dist_version(lib.dist) if lib is not None else None


def dist_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (pip's name, any spelling), or None.

    Read from the ``<name>-<version>.dist-info`` folder names on ``sys.path`` (the first of
    a name wins, as for imports), without importlib.metadata: importing it and walking every
    distribution's metadata costs 60-130 ms beside a torch install, more than a cached
    ``pull --offline`` may take. Distributions with only ``.egg-info`` metadata fall back to
    importlib.metadata. A test checks the two agree.
    """
    key = _normalised_dist(name)
    versions = _dist_versions()
    if key not in versions:
        return None
    if versions[key]:
        return versions[key]
    # lazy: importlib.metadata (~25 ms) only for an .egg-info, whose version is inside: off pull/info/cite start-up
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _dist_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if folder.endswith(".dist-info") and "-" in folder:
                dist, version = folder[: -len(".dist-info")].rsplit("-", 1)
                out.setdefault(_normalised_dist(dist), version)
            elif folder.endswith(".egg-info"):
                out.setdefault(_normalised_dist(folder[: -len(".egg-info")].split("-", 1)[0]), None)
    return out


def _normalised_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class FrameworkRow:
    library: Library
    installed: str | None
    models: int


def check_requirements(packages: Iterable[str]) -> tuple[Requirement, ...]:
    # lazy: the pull plan's models only for a pull: live sources map records with this module on search
    from ..models.pull import Requirement

    return tuple(Requirement(pkg, dist_version(pkg)) for pkg in packages)


def install_command(reqs: Iterable[Requirement]) -> str | None:
    missing = [r.package for r in reqs if r.installed is None]
    return "pip install " + " ".join(missing) if missing else None


def framework_rows(records: Iterable[object], *, installed_only: bool = False) -> tuple[FrameworkRow, ...]:
    """Every known framework and library with its installed version and catalog usage."""
    counts: dict[str, int] = {}
    for rec in records:
        keys = {canonical(k) for k in (*getattr(rec, "frameworks", ()), *getattr(rec, "libraries", ()))}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    rows = []
    for key, lib in LIBRARIES.items():
        version = installed_version(key)
        if installed_only and version is None:
            continue
        rows.append(FrameworkRow(lib, version, counts.get(key, 0)))
    return tuple(rows)


# -- weights formats ---------------------------------------------------------------------
#: File name endings -> weights format. Pickle covers PyTorch's .bin/.pt/.pth and Lightning's .ckpt.
WEIGHT_SUFFIXES = (
    (".safetensors", "safetensors"), (".gguf", "gguf"), (".onnx", "onnx"), (".onnx_data", "onnx"),
    (".msgpack", "flax"), (".h5", "tf"), (".keras", "keras"), (".tflite", "tflite"),
    (".bin", "pickle"), (".pt", "pickle"), (".pth", "pickle"), (".ckpt", "pickle"),
)
#: Pickles that are training state, not weights.
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt", "rng_state")
#: Preference when one repo ships several formats (for the download size).
FORMAT_ORDER = ("safetensors", "pickle", "tf", "flax", "onnx", "gguf", "keras", "tflite")


def weights_formats(filenames: Sequence[str]) -> tuple[str, ...]:
    found = {fmt for name in filenames if (fmt := weights_format_of(name))}
    return tuple(f for f in FORMAT_ORDER if f in found)


#: The same table by the name's last extension (each suffix is one ``.ext``): one look-up a file,
#: as a repo of 200,000 files asks for each.
_BY_EXTENSION = {suffix[1:]: fmt for suffix, fmt in WEIGHT_SUFFIXES}


def weights_format_of(path: str) -> str | None:
    ext = path.rpartition(".")[2].lower()  # the extension alone first: most files have none of the table's
    fmt = _BY_EXTENSION.get(ext)
    if fmt is None:
        return "tf" if ext == "pb" and path.rpartition("/")[2].lower() == "saved_model.pb" else None
    name = path.rpartition("/")[2].lower()
    if "." not in name or name.startswith(NOT_WEIGHTS) or name.startswith("openvino"):
        return None
    return fmt
