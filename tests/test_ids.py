"""The id grammar: what users paste is normalised; what is malformed is a usage error."""

from __future__ import annotations

import pytest

from zoofind.core.errors import UsageError
from zoofind.hubs.ids import parse_id


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("hf:facebook/esm2_t6_8M_UR50D", "hf:facebook/esm2_t6_8M_UR50D"),
        ("facebook/esm2_t6_8M_UR50D", "hf:facebook/esm2_t6_8M_UR50D"),
        ("https://huggingface.co/facebook/esm2_t6_8M_UR50D", "hf:facebook/esm2_t6_8M_UR50D"),
        ("https://huggingface.co/facebook/esm2_t6_8M_UR50D/tree/main/config.json", "hf:facebook/esm2_t6_8M_UR50D"),
        ("HF:gpt2", "hf:gpt2"),
        ("torchvision:resnet50", "torchvision:resnet50"),
        ("torchvision:resnet50.IMAGENET1K_V1", "torchvision:resnet50.IMAGENET1K_V1"),
        ("torchvision:resnet50:IMAGENET1K_V1", "torchvision:resnet50.IMAGENET1K_V1"),
        ("tfhub:google/yamnet/1", "tfhub:google/yamnet/1"),
        ("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/5", "tfhub:google/imagenet/mobilenet_v2_100_224/classification/5"),
        ("https://tfhub.dev/google/yamnet/1?tf-hub-format=compressed", "tfhub:google/yamnet/1"),
        ("catalog:pytorch-geometric", "catalog:pytorch-geometric"),
        ("kaggle:google/yamnet/tensorFlow2/yamnet/1", "kaggle:google/yamnet/tensorFlow2/yamnet/1"),
        # Hugging Face dataset repositories: the Hub's own URL prefix, its pages and files too.
        ("hf:datasets/owner/cells", "hf:datasets/owner/cells"),
        ("datasets/owner/cells", "hf:datasets/owner/cells"),
        ("https://huggingface.co/datasets/owner/cells", "hf:datasets/owner/cells"),
        ("https://huggingface.co/datasets/owner/cells/blob/main/data/train.parquet", "hf:datasets/owner/cells"),
        ("hf.co/datasets/owner/cells/tree/v1.0", "hf:datasets/owner/cells"),
        ("https://huggingface.co/datasets/squad", "hf:datasets/squad"),
    ],
)
def test_ids_are_normalised(raw: str, expected: str) -> None:
    assert str(parse_id(raw)) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "hf:", "hf:a/b/c", "hf:-bad/name", "hf:owner/na..me", "torchvision:ResNet50", "torchvision:resnet50.", "tfhub:yamnet",
     "catalog:Bad Slug", "pypi:numpy", "https://example.com/model", "https://huggingface.co/spaces/owner/app", "hf:datasets/a/b/c",
     "hf:datasets/", "hf:datasets/owner/na--me", "hf:datasets/../x", "just words here"],
)
def test_malformed_ids_are_usage_errors(raw: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_id(raw)
    assert exc.value.exit_code == 2
