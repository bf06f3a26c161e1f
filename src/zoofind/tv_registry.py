"""The installed torchvision's model registry, as catalog entries.

``collect()`` reads the real registry (``torchvision.models.list_models`` and each
builder's weights enum) into the dicts ``catalog/torchvision.toml`` holds; it imports
torchvision, which costs seconds. ``scripts/build_torchvision.py`` writes the bundled
snapshot with it and the torchvision source reads a different installed version with it,
so one implementation serves both.

``installed_version()`` finds the installed torchvision without importing it (nor
importlib.metadata): it scans ``sys.path`` for ``torchvision-<version>.dist-info``.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Re-exported: the installed-version probe lives apart so search skips the tables below.
from .tv_installed import installed_version, tv_version_string  # noqa: F401

#: torchvision.models submodule -> our tv_task; builders in none of them are classification.
TASK_MODULES: tuple[tuple[str, str], ...] = (
    ("quantization", "quantized"),
    ("detection", "detection"),
    ("segmentation", "segmentation"),
    ("video", "video"),
    ("optical_flow", "optical_flow"),
)

TASK_WORDS = {
    "classification": "classification",
    "quantized": "quantized",
    "detection": "detection",
    "segmentation": "segmentation",
    "video": "video",
    "optical_flow": "optical flow",
}

TASK_PHRASES = {
    "classification": "Image classification",
    "quantized": "Image classification",
    "detection": "Object detection",
    "segmentation": "Semantic segmentation",
    "video": "Video classification",
    "optical_flow": "Optical flow",
}

#: tokens of a weights member name (split on "_") -> training data sets
DATASET_TOKENS: dict[str, tuple[str, ...]] = {
    "IMAGENET1K": ("ImageNet-1K",),
    "IMAGENET22K": ("ImageNet-22K",),
    "SWAG": ("IG-3.6B",),  # SWAG pretraining: Instagram hashtag data (IG-3.6B)
    "COCO": ("COCO",),
    "KINETICS400": ("Kinetics-400",),
    "C": ("FlyingChairs",),
    "T": ("FlyingThings3D",),
    "SKHT": ("Sintel", "KITTI", "HD1K", "FlyingThings3D"),
    "K": ("KITTI",),
}
#: tokens that name no data set
NON_DATASET_TOKENS = {"V1", "V2", "E2E", "LINEAR", "FBGEMM", "QNNPACK", "WITH", "VOC", "LABELS", "LEGACY", "FEATURES"}

#: last component of the builder's module -> architecture family
MODULE_FAMILY: dict[str, tuple[str, ...]] = {
    "alexnet": ("alexnet",),
    "convnext": ("convnext",),
    "densenet": ("densenet",),
    "efficientnet": ("efficientnet",),
    "googlenet": ("googlenet", "inception"),
    "inception": ("inception",),
    "maxvit": ("maxvit", "transformer"),
    "mnasnet": ("mnasnet",),
    "mobilenetv2": ("mobilenet",),
    "mobilenetv3": ("mobilenet",),
    "regnet": ("regnet",),
    "resnet": ("resnet",),
    "shufflenetv2": ("shufflenet",),
    "squeezenet": ("squeezenet",),
    "swin_transformer": ("swin", "transformer"),
    "vgg": ("vgg",),
    "vision_transformer": ("vit", "transformer"),
    "faster_rcnn": ("faster-rcnn",),
    "fcos": ("fcos",),
    "keypoint_rcnn": ("keypoint-rcnn",),
    "mask_rcnn": ("mask-rcnn",),
    "retinanet": ("retinanet",),
    "ssd": ("ssd",),
    "ssdlite": ("ssdlite",),
    "deeplabv3": ("deeplabv3",),
    "fcn": ("fcn",),
    "lraspp": ("lraspp",),
    "mvit": ("mvit", "transformer"),
    "s3d": ("s3d",),
    "raft": ("raft",),
}

# ---------------------------------------------------------------------------- names

_HEADS = {
    "fasterrcnn": "Faster R-CNN",
    "fcos": "FCOS",
    "keypointrcnn": "Keypoint R-CNN",
    "maskrcnn": "Mask R-CNN",
    "retinanet": "RetinaNet",
    "ssd300": "SSD300",
    "ssdlite320": "SSDlite320",
    "deeplabv3": "DeepLabV3",
    "fcn": "FCN",
    "lraspp": "LR-ASPP",
}

_SIMPLE = {
    "alexnet": "AlexNet",
    "googlenet": "GoogLeNet",
    "inception_v3": "Inception v3",
    "mobilenet_v2": "MobileNetV2",
    "mobilenet_v3_large": "MobileNetV3-Large",
    "mobilenet_v3_small": "MobileNetV3-Small",
    "mobilenet_v3_large_320": "MobileNetV3-Large 320",
    "s3d": "S3D",
    "r2plus1d_18": "R(2+1)D-18",
    "raft_large": "RAFT Large",
    "raft_small": "RAFT Small",
}

_PATTERNS: tuple[tuple[str, Any], ...] = (
    (r"convnext_(\w+)", lambda m: f"ConvNeXt {m[1].title()}"),
    (r"densenet(\d+)", lambda m: f"DenseNet-{m[1]}"),
    (r"efficientnet_b(\d)", lambda m: f"EfficientNet-B{m[1]}"),
    (r"efficientnet_v2_(\w)", lambda m: f"EfficientNetV2-{m[1].upper()}"),
    (r"maxvit_(\w)", lambda m: f"MaxViT-{m[1].upper()}"),
    (r"mnasnet(\d)_(\d+)", lambda m: f"MNASNet {m[1]}.{m[2]}"),
    (r"regnet_([xy])_(\w+)", lambda m: f"RegNet{m[1].upper()}-{m[2].replace('_', '.').upper()}"),
    (r"resnet(\d+)", lambda m: f"ResNet-{m[1]}"),
    (r"resnext(\d+)_(\w+)", lambda m: f"ResNeXt-{m[1]} {m[2]}"),
    (r"wide_resnet(\d+)_(\d)", lambda m: f"Wide ResNet-{m[1]}-{m[2]}"),
    (r"shufflenet_v2_x(\d)_(\d)", lambda m: f"ShuffleNetV2 x{m[1]}.{m[2]}"),
    (r"squeezenet(\d)_(\d)", lambda m: f"SqueezeNet {m[1]}.{m[2]}"),
    (r"swin_v2_(\w)", lambda m: f"Swin-V2-{m[1].upper()}"),
    (r"swin_(\w)", lambda m: f"Swin-{m[1].upper()}"),
    (r"swin3d_(\w)", lambda m: f"Swin3D-{m[1].upper()}"),
    (r"vgg(\d+)(_bn)?", lambda m: f"VGG-{m[1]}" + (" BN" if m[2] else "")),
    (r"vit_(\w)_(\d+)", lambda m: f"ViT-{m[1].upper()}/{m[2]}"),
    (r"mvit_(v\d)_(\w)", lambda m: f"MViT-{m[1].upper()}-{m[2].upper()}"),
    (r"(r3d|mc3)_(\d+)", lambda m: f"{m[1].upper()}-{m[2]}"),
)


def display_name(builder: str) -> str:
    """Human name of a builder: resnet50 -> ResNet-50, quantized_resnet50 -> Quantized ResNet-50."""
    if builder.startswith("quantized_"):
        return "Quantized " + display_name(builder[len("quantized_"):])
    if builder in _SIMPLE:
        return _SIMPLE[builder]
    head, _, rest = builder.partition("_")
    if head in _HEADS and rest:
        suffix = ""
        if rest.endswith("_v2"):
            rest, suffix = rest[: -len("_v2")], " v2"
        fpn = ""
        if rest.endswith("_fpn"):
            rest, fpn = rest[: -len("_fpn")], " FPN"
        return f"{_HEADS[head]} {display_name(rest)}{fpn}{suffix}"
    for pattern, fmt in _PATTERNS:
        m = re.fullmatch(pattern, builder)
        if m:
            return fmt(m)
    return builder


# ---------------------------------------------------------------------------- helpers


def clean_docs(text: str, unquantized: str | None = None) -> str:
    """Plain text from the reST of a weights' ``_docs``."""
    text = re.sub(r"`([^`<]+?)\s*<[^>]+>`_+", r"\1", text)  # `label <url>`_
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?(\w+)`", r"\1", text)  # :class:`~a.b.C`
    text = re.sub(r"`+([^`]+)`+", r"\1", text)
    text = " ".join(text.split())
    if unquantized:
        text = text.replace("the unquantized weights listed below", f"the unquantized weights {unquantized}")
    # Sentences that point at other parts of torchvision's docs page say nothing here.
    sentences = [s for s in re.split(r"(?<=\.)\s+", text) if "described above" not in s]
    text = " ".join(sentences).strip()
    if text and not text.endswith("."):
        text += "."
    return text


def datasets_for(member: str, strict: bool = True) -> list[str]:
    """Training data sets named by a weights member; ``strict`` fails on unknown tokens.

    The snapshot script is strict (a new token must be mapped before the snapshot is
    regenerated); reading another installed version is lenient (unknown tokens are left out).
    """
    out: list[str] = []
    for token in member.split("_"):
        if token in DATASET_TOKENS:
            for ds in DATASET_TOKENS[token]:
                if ds not in out:
                    out.append(ds)
        elif token not in NON_DATASET_TOKENS and strict:
            raise ValueError(f"unknown token {token!r} in weights name {member!r}: extend DATASET_TOKENS")
    if "SWAG" in member.split("_"):  # pretrained on IG-3.6B, then fine-tuned / probed on ImageNet-1K
        out.sort(key=lambda ds: ds != DATASET_TOKENS["SWAG"][0])
    if not out and strict:
        raise ValueError(f"no data set known for weights {member!r}")
    return out


def architecture_for(builder: str, module: str) -> list[str]:
    base = builder[len("quantized_"):] if builder.startswith("quantized_") else builder
    leaf = module.rsplit(".", 1)[-1]
    out: list[str] = []
    if ".video." in module and leaf == "resnet":
        out.append(base.split("_")[0])  # r3d, mc3, r2plus1d
    elif ".video." in module and leaf == "swin_transformer":
        out.append("swin3d")
    if base.startswith("resnext"):
        out.append("resnext")
    elif base.startswith("wide_resnet"):
        out.append("wide-resnet")
    out.extend(MODULE_FAMILY.get(leaf, (leaf.replace("_", "-"),)))
    # Backbones of detection and segmentation models.
    if ".detection." in module or ".segmentation." in module:
        for token, family in (("resnet", "resnet"), ("mobilenet", "mobilenet"), ("vgg", "vgg"), ("fpn", "fpn")):
            if token in base:
                out.append(family)
    seen: list[str] = []
    for a in out:
        if a not in seen:
            seen.append(a)
    return seen


def _number(v: Any) -> int | float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None  # vgg16.IMAGENET1K_FEATURES reports nan accuracies
    return v


def metrics_for(meta: dict) -> dict[str, dict[str, int | float]]:
    out: dict[str, dict[str, int | float]] = {}
    for ds, values in (meta.get("_metrics") or {}).items():
        clean = {str(k): n for k, v in values.items() if (n := _number(v)) is not None}
        if clean:
            out[str(ds)] = clean
    return out


def _headline(metrics: dict[str, dict[str, int | float]]) -> str:
    if not metrics:
        return ""
    ds, values = next(iter(metrics.items()))
    name, value = next(iter(values.items()))
    return f"{ds} {name} {value}"


# ---------------------------------------------------------------------------- collect


def _entry(
    builder: str, module: str, tv_task: str, enum_cls: Any, member: Any, default: Any, version: str, strict: bool = True
) -> dict:
    meta = dict(member.meta)
    enum_name = enum_cls.__name__
    display = display_name(builder)
    datasets = datasets_for(member.name, strict)
    metrics = metrics_for(meta)

    if tv_task == "detection" and builder.startswith("keypointrcnn"):
        tasks = ["keypoint-detection"]
        phrase = "Person keypoint detection"
    elif tv_task == "detection" and builder.startswith("maskrcnn"):
        tasks = ["object-detection", "image-segmentation"]
        phrase = "Object detection and instance segmentation"
    else:
        tasks = {
            "classification": ["image-classification"],
            "quantized": ["image-classification"],
            "detection": ["object-detection"],
            "segmentation": ["image-segmentation"],
            "video": ["video-classification"],
            "optical_flow": ["optical-flow"],
        }[tv_task]
        phrase = TASK_PHRASES[tv_task]
    if member.name.endswith("FEATURES"):  # vgg16: only the convolutional trunk is valid
        tasks = ["feature-extraction"]
        phrase = "Feature extraction"

    unquantized = meta.get("unquantized")
    unquantized_name = f"{type(unquantized).__name__}.{unquantized.name}" if unquantized is not None else None
    docs = clean_docs(str(meta.get("_docs") or ""), unquantized_name)
    headline = _headline(metrics)
    description = f"{phrase} weights for {display}"
    if meta.get("backend"):
        description += f", {meta['backend']} backend"
    description += (f" ({headline})" if headline else "") + "."
    if docs:
        description += " " + docs

    tags: list[str] = [builder, enum_name]
    if tasks != ["feature-extraction"]:
        tags.append(TASK_WORDS[tv_task])
    if tv_task == "quantized":
        tags += ["classification", "int8"]
    if builder.startswith("maskrcnn"):
        tags.append("instance segmentation")
    if tv_task == "segmentation":
        tags.append("semantic segmentation")
    if builder.startswith("keypointrcnn"):
        tags += ["keypoints", "human pose"]
    tokens = member.name.split("_")
    tags += [t for tok, t in (("IMAGENET1K", "imagenet"), ("IMAGENET22K", "imagenet-22k"), ("COCO", "coco"),
                              ("KINETICS400", "kinetics"), ("SWAG", "swag"), ("FBGEMM", "fbgemm"),
                              ("QNNPACK", "qnnpack")) if tok in tokens]
    if "VOC" in tokens:
        tags.append("pascal voc")
    if "FEATURES" in tokens:
        tags.append("feature extraction")
    if tv_task == "optical_flow":
        tags += [d.lower() for d in datasets]
    tags = list(dict.fromkeys(tags))

    extra: dict[str, Any] = {
        "builder": builder,
        "weights_enum": enum_name,
        "weights": member.name,
        "default": member is default,
        "tv_task": tv_task,
        "url": member.url,
    }
    if _number(meta.get("num_params")) is not None:
        extra["num_params"] = int(meta["num_params"])
    if metrics:
        extra["metrics"] = metrics
    if _number(meta.get("_ops")) is not None:
        extra["gflops"] = meta["_ops"]
    if _number(meta.get("_file_size")) is not None:
        extra["file_size_mb"] = meta["_file_size"]
    if meta.get("recipe"):
        extra["recipe"] = str(meta["recipe"])
    if meta.get("categories"):
        extra["num_categories"] = len(meta["categories"])
    if meta.get("keypoint_names"):
        extra["num_keypoints"] = len(meta["keypoint_names"])
    if meta.get("min_size"):
        extra["min_size"] = [int(x) for x in meta["min_size"]]
    if meta.get("min_temporal_size") is not None:
        extra["min_temporal_size"] = int(meta["min_temporal_size"])
    if meta.get("backend"):
        extra["backend"] = str(meta["backend"])
    if unquantized_name:
        extra["unquantized"] = unquantized_name
    if meta.get("license"):
        extra["license_url"] = str(meta["license"])

    if meta.get("license"):
        notes = (
            f"The weights carry their own licence ({meta['license']}), not torchvision's "
            "BSD-3-Clause; check it before use."
        )
    else:
        notes = (
            "torchvision's code is BSD-3-Clause; its registry names no licence for these "
            "weights, which may carry the terms of their training data or original release."
        )
    if member.name.endswith("FEATURES"):
        notes += " Only the features module is valid: not usable as a classifier."

    entry: dict[str, Any] = {
        "id": f"torchvision:{builder}.{member.name}",
        "kind": "model",
        "name": f"{display} ({member.name})",
        "description": description,
        "tasks": tasks,
        "frameworks": ["pytorch"],
        "libraries": ["torchvision"],
        "architecture": architecture_for(builder, module),
    }
    if datasets or strict:
        entry["datasets"] = datasets
    if "num_params" in extra:
        entry["params"] = extra["num_params"]
    if "file_size_mb" in extra:
        entry["size_bytes"] = int(round(extra["file_size_mb"] * 1e6))
    entry["tags"] = tags
    entry["reliability"] = "generated"
    entry["evidence"] = f"torchvision {version} registry"
    entry["notes"] = notes
    entry["extra"] = extra
    return entry


def collect(strict: bool = True) -> list[dict]:
    """One entry per weights member of every builder in the installed torchvision, sorted by id.

    Imports torchvision (seconds). ``strict`` (the snapshot script) raises on anything the
    tables above do not know; ``strict=False`` (another installed version, read at search
    time) keeps what it can: unknown tokens, missing task modules and builders whose
    weights cannot be read are left out instead of failing the whole registry.
    """
    import importlib

    import torchvision
    from torchvision import models

    list_models = models.list_models
    get_model_weights = models.get_model_weights
    get_model_builder = getattr(models, "get_model_builder", None)

    version = tv_version_string(torchvision.__version__)
    task_of: dict[str, str] = {}
    for modname, task in TASK_MODULES:
        try:
            module = importlib.import_module(f"torchvision.models.{modname}")
        except ImportError:
            if strict:
                raise
            continue
        for name in list_models(module=module):
            if name in task_of:
                if strict:
                    raise ValueError(f"builder {name!r} is registered in two task modules")
                continue
            task_of[name] = task

    entries: list[dict] = []
    for builder in list_models():
        try:
            enum_cls = get_model_weights(builder)
        except ValueError:
            continue  # a builder without pretrained weights
        try:
            fn = get_model_builder(builder) if get_model_builder else None
            module_name = getattr(fn, "__module__", "") or ""
            default = enum_cls.__members__.get("DEFAULT")
            for member in enum_cls:  # iteration skips aliases such as DEFAULT
                entries.append(
                    _entry(builder, module_name, task_of.get(builder, "classification"), enum_cls, member, default, version, strict)
                )
        except Exception:
            if strict:
                raise
            continue
    entries.sort(key=lambda e: e["id"])
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        if strict:
            raise ValueError("duplicate ids")
        entries = list({e["id"]: e for e in entries}.values())
    return entries
