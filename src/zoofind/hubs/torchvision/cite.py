"""torchvision's ``cite`` ability: the papers of a builder's architecture, as torchvision's documentation
names them.

Each title and arXiv id below is the one the builder's docstring links (read from torchvision 0.x's
``torchvision/models/**.py``, which the documentation pages ``docs/source/models/*.rst`` render); the
year is the arXiv id's (the preprint's first version). The docstrings name no authors and no venue,
so none is given: never an invented author. Nothing here makes a request (the table is bundled).
"""

from __future__ import annotations

from ...core.context import Context
from ...models.cite import FROM_DOCS, CardCitation, Reference
from ...models.records import ParsedId

#: arXiv id -> title, as the builders' docstrings link them.
PAPERS: dict[str, str] = {
    "1404.5997": "One weird trick for parallelizing convolutional neural networks",
    "1409.1556": "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    "1409.4842": "Going Deeper with Convolutions",
    "1411.4038": "Fully Convolutional Networks for Semantic Segmentation",
    "1506.01497": "Faster R-CNN: Towards Real-Time Object Detection with Region Proposal Networks",
    "1512.00567": "Rethinking the Inception Architecture for Computer Vision",
    "1512.02325": "SSD: Single Shot MultiBox Detector",
    "1512.03385": "Deep Residual Learning for Image Recognition",
    "1602.07360": "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
    "1605.07146": "Wide Residual Networks",
    "1608.06993": "Densely Connected Convolutional Networks",
    "1611.05431": "Aggregated Residual Transformation for Deep Neural Networks",
    "1703.06870": "Mask R-CNN",
    "1706.05587": "Rethinking Atrous Convolution for Semantic Image Segmentation",
    "1708.02002": "Focal Loss for Dense Object Detection",
    "1711.11248": "A Closer Look at Spatiotemporal Convolutions for Action Recognition",
    "1712.04851": "Rethinking Spatiotemporal Feature Learning",
    "1801.04381": "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    "1807.11164": "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
    "1807.11626": "MnasNet: Platform-Aware Neural Architecture Search for Mobile",
    "1904.01355": "FCOS: Fully Convolutional One-Stage Object Detection",
    "1905.02244": "Searching for MobileNetV3",
    "1905.11946": "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
    "1912.02424": "Bridging the Gap Between Anchor-based and Anchor-free Detection via Adaptive Training Sample "
                 "Selection",
    "2003.12039": "RAFT: Recurrent All Pairs Field Transforms for Optical Flow",
    "2003.13678": "Designing Network Design Spaces",
    "2006.09214": "FCOS: A simple and strong anchor-free object detector",
    "2010.11929": "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
    "2103.14030": "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
    "2104.00298": "EfficientNetV2: Smaller Models and Faster Training",
    "2104.11227": "Multiscale Vision Transformers",
    "2106.13230": "Video Swin Transformer",
    "2111.09883": "Swin Transformer V2: Scaling Up Capacity and Resolution",
    "2111.11429": "Benchmarking Detection Transfer Learning with Vision Transformers",
    "2112.01526": "MViTv2: Improved Multiscale Vision Transformers for Classification and Detection",
    "2201.03545": "A ConvNet for the 2020s",
    # The docstrings' "SWAG" link; its title as facebookresearch/SWAG's README gives it.
    "2201.08371": "Revisiting Weakly Supervised Pre-Training of Visual Perception Models",
    "2204.01697": "MaxViT: Multi-Axis Vision Transformer",
}

#: A builder's name prefix -> the arXiv ids of its architecture; the longest prefix wins (``quantized_``
#: builders are their float builders'). A v2 detector is its family's model with a later paper's recipe.
FAMILIES: dict[str, tuple[str, ...]] = {
    "alexnet": ("1404.5997",), "vgg": ("1409.1556",), "googlenet": ("1409.4842",),
    "inception_v3": ("1512.00567",), "resnet": ("1512.03385",), "resnext": ("1611.05431",),
    "wide_resnet": ("1605.07146",), "densenet": ("1608.06993",), "squeezenet": ("1602.07360",),
    "mobilenet_v2": ("1801.04381",), "mobilenet_v3": ("1905.02244",), "shufflenet_v2": ("1807.11164",),
    "mnasnet": ("1807.11626",), "efficientnet_b": ("1905.11946",), "efficientnet_v2": ("2104.00298",),
    "regnet": ("2003.13678",), "vit_": ("2010.11929",), "swin_": ("2103.14030",), "swin_v2": ("2111.09883",),
    "convnext": ("2201.03545",), "maxvit": ("2204.01697",),
    "fasterrcnn": ("1506.01497",), "fasterrcnn_resnet50_fpn_v2": ("1506.01497", "2111.11429"),
    "maskrcnn": ("1703.06870",), "maskrcnn_resnet50_fpn_v2": ("1703.06870", "2111.11429"),
    "keypointrcnn": ("1703.06870",), "retinanet": ("1708.02002",),
    "retinanet_resnet50_fpn_v2": ("1708.02002", "1912.02424"), "fcos": ("1904.01355", "2006.09214"),
    "ssd300": ("1512.02325",), "ssdlite": ("1905.02244", "1801.04381"),
    "fcn_": ("1411.4038",), "deeplabv3": ("1706.05587",), "lraspp": ("1905.02244",),
    "raft": ("2003.12039",),
    "r3d": ("1711.11248",), "mc3": ("1711.11248",), "r2plus1d": ("1711.11248",), "s3d": ("1712.04851",),
    "mvit_v1": ("2104.11227",), "mvit_v2": ("2104.11227", "2112.01526"), "swin3d": ("2106.13230",),
}

#: Weights whose name says they were pre-trained the SWAG way (``vit_h_14.IMAGENET1K_SWAG_E2E_V1``).
SWAG = "2201.08371"


def papers_of(ref: str) -> tuple[str, ...]:
    """The arXiv ids for ``ref`` (``builder`` or ``builder.WEIGHTS``), none for a builder the table lacks."""
    builder, _, weights = ref.partition(".")
    builder = builder.removeprefix("quantized_")
    family = max((p for p in FAMILIES if builder.startswith(p)), key=len, default=None)
    ids = FAMILIES[family] if family is not None else ()
    return ids + ((SWAG,) if "SWAG" in weights else ())


def reference(arxiv: str) -> Reference:
    return Reference(key=f"arxiv{arxiv.replace('.', '')}", kind="misc", title=PAPERS[arxiv],
                     year=2000 + int(arxiv[:2]), venue="arXiv", arxiv=arxiv,
                     url=f"https://arxiv.org/abs/{arxiv}", source=FROM_DOCS)


class TorchvisionCite:
    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        ids = papers_of(pid.ref)
        if not ids:
            return CardCitation(notes=("torchvision's documentation names no paper for this builder",))
        return CardCitation(tuple(reference(a) for a in ids))
