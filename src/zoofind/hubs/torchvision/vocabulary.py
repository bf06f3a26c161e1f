"""torchvision's words in the catalog's vocabulary: which task module means which task, the
data sets a weights member's name names, the architecture family of a builder's module, the
tags a member's name adds; and the readers of a weights' ``meta`` (its docs, its metrics).

Pure tables and functions, no torchvision import: ``registry`` applies them to each weights
member of the installed registry. Extend a table when a new torchvision adds a word (the
snapshot script fails on a data set token it does not know).
"""

from __future__ import annotations

import math
import re
from typing import Any

#: torchvision.models submodule -> our tv_task; builders in none of them are classification.
TASK_MODULES: tuple[tuple[str, str], ...] = (
    ("quantization", "quantized"),
    ("detection", "detection"),
    ("segmentation", "segmentation"),
    ("video", "video"),
    ("optical_flow", "optical_flow"),
)

TASK_WORDS: dict[str, str] = {
    "classification": "classification",
    "quantized": "quantized",
    "detection": "detection",
    "segmentation": "segmentation",
    "video": "video",
    "optical_flow": "optical flow",
}

TASK_PHRASES: dict[str, str] = {
    "classification": "Image classification",
    "quantized": "Image classification",
    "detection": "Object detection",
    "segmentation": "Semantic segmentation",
    "video": "Video classification",
    "optical_flow": "Optical flow",
}

#: our tv_task -> the catalog's task ids (keypoint and mask R-CNN, and FEATURES weights, differ)
TASK_IDS: dict[str, tuple[str, ...]] = {
    "classification": ("image-classification",),
    "quantized": ("image-classification",),
    "detection": ("object-detection",),
    "segmentation": ("image-segmentation",),
    "video": ("video-classification",),
    "optical_flow": ("optical-flow",),
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
NON_DATASET_TOKENS: set[str] = {"V1", "V2", "E2E", "LINEAR", "FBGEMM", "QNNPACK", "WITH", "VOC", "LABELS", "LEGACY",
                                "FEATURES"}

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
    """Architecture families of a builder, from its name and its module (backbones included)."""
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


def number(v: Any) -> int | float | None:
    """A finite number from a weights' ``meta``, else None (a flag, text, nan)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None  # vgg16.IMAGENET1K_FEATURES reports nan accuracies
    return v


def metrics_for(meta: dict[str, Any]) -> dict[str, dict[str, int | float]]:
    out: dict[str, dict[str, int | float]] = {}
    for ds, values in (meta.get("_metrics") or {}).items():
        clean = {str(k): n for k, v in values.items() if (n := number(v)) is not None}
        if clean:
            out[str(ds)] = clean
    return out


def headline_metric(metrics: dict[str, dict[str, int | float]]) -> str:
    """The first metric of the first data set (``ImageNet-1K acc@1 76.13``), for the description."""
    if not metrics:
        return ""
    ds, values = next(iter(metrics.items()))
    name, value = next(iter(values.items()))
    return f"{ds} {name} {value}"


#: tokens of a weights member name -> the tag they add
MEMBER_TAGS: tuple[tuple[str, str], ...] = (
    ("IMAGENET1K", "imagenet"), ("IMAGENET22K", "imagenet-22k"), ("COCO", "coco"), ("KINETICS400", "kinetics"),
    ("SWAG", "swag"), ("FBGEMM", "fbgemm"), ("QNNPACK", "qnnpack"),
)
