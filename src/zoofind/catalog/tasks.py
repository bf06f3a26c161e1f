"""Task names: one vocabulary (Hugging Face pipeline tags where one fits) and aliases.

``--task`` values and each hub's own task words are mapped through ``canonical_task`` so
a filter means the same thing for every source.
"""

from __future__ import annotations

ALIASES: dict[str, str] = {
    # torchvision's task groups
    "classification": "image-classification",
    "detection": "object-detection",
    "segmentation": "image-segmentation",
    "video": "video-classification",
    "optical_flow": "optical-flow",
    "flow": "optical-flow",
    "quantized": "image-classification",
    "keypoint": "keypoint-detection",
    "pose": "keypoint-detection",
    "pose-estimation": "keypoint-detection",
    # TF Hub's task values
    "image-classifier": "image-classification",
    "image-classification-logits": "image-classification",
    "image-feature-vector": "image-feature-extraction",
    "image-object-detection": "object-detection",
    "image-pose-detection": "keypoint-detection",
    "image-segmentation": "image-segmentation",
    "text-embedding": "feature-extraction",
    "audio-event-classification": "audio-classification",
    "audio-stt": "automatic-speech-recognition",
    "audio-embedding": "audio-feature-extraction",
    "image-super-resolution": "image-to-image",
    "image-depth-estimation": "depth-estimation",
    "text-question-answering": "question-answering",
    # everyday words
    "embedding": "feature-extraction",
    "embeddings": "feature-extraction",
    "asr": "automatic-speech-recognition",
    "speech-recognition": "automatic-speech-recognition",
    "ner": "token-classification",
    "instance-segmentation": "image-segmentation",
    "semantic-segmentation": "image-segmentation",
    "structure-prediction": "protein-structure-prediction",
    "gnn": "graph-ml",
}


def canonical_task(name: str) -> str:
    key = name.strip().lower().replace(" ", "-").replace("_", "-")
    return ALIASES.get(key, ALIASES.get(name.strip().lower(), key))
