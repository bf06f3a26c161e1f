"""Human names of torchvision builders: fasterrcnn_resnet50_fpn -> Faster R-CNN ResNet-50 FPN.

torchvision's registry only has the builders' function names; the catalog entries
``registry`` makes (and the bundled snapshot) show these instead. Unknown builders keep
their function name, so a newer torchvision never fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_HEADS: dict[str, str] = {
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

_SIMPLE: dict[str, str] = {
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

_PATTERNS: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
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
