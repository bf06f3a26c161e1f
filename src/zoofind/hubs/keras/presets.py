"""KerasHub presets (``keras_hub.models.X.from_preset(name)``) as ``keras:preset/<name>`` entries.

keras_hub 0.32 registers each built-in preset with ``register_presets`` (``keras_hub/src/utils/
preset_utils.py``): a name, its ``metadata`` (description, params, path, official name, model card)
and a ``kaggle_handle``, ``kaggle://<owner>/<model>/keras/<variation>/<version>``. ``from_preset``
turns a built-in name into that handle and asks ``kagglehub.model_download(handle, path)`` for each
file it reads (``config.json``, ``metadata.json``, ``model.weights.h5``, the tokenizer's assets...);
a handle may also be ``hf://<repo>``, which it reads with ``huggingface_hub.hf_hub_download``.

So a preset is a model of the hub its handle's scheme names, and ``delegated_id`` says which: the
scheme is that hub's name (``kaggle://keras/bert/keras/bert_tiny_en_uncased/3`` is
``kaggle:keras/bert/keras/bert_tiny_en_uncased/3``), and a pull, its lock and its cache entry are
that hub's. ``collect()`` (build time: ``scripts/build_keras_hub.py`` writes
``catalog/keras_hub.toml``) reads the registry of the installed keras_hub.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

from ...core.errors import UsageError
from .variants import PRESET

#: The keras_hub task base classes -> the task words of zoofind's vocabulary (Hugging Face's).
TASK_OF_BASE: dict[str, str] = {
    "CausalLM": "text-generation", "MaskedLM": "fill-mask", "TextClassifier": "text-classification",
    "Seq2SeqLM": "text2text-generation", "ImageClassifier": "image-classification",
    "ImageSegmenter": "image-segmentation", "ObjectDetector": "object-detection", "TextEmbedder": "feature-extraction",
    "TextToImage": "text-to-image", "ImageToImage": "image-to-image", "Inpaint": "image-to-image",
    "AudioToText": "automatic-speech-recognition", "DepthEstimator": "depth-estimation",
}
#: Backbones keras_hub 0.32 has no task class for: what their presets are for (their descriptions say so).
TASK_OF_BACKBONE: dict[str, str] = {
    "CLIPBackbone": "zero-shot-image-classification", "SigLIPBackbone": "zero-shot-image-classification",
    "MetaCLIP2Backbone": "zero-shot-image-classification", "DINOV2Backbone": "image-feature-extraction",
    "DINOV3Backbone": "image-feature-extraction", "WhisperBackbone": "automatic-speech-recognition",
    "VideoPrismBackbone": "video-classification", "ElectraBackbone": "feature-extraction",
}
LICENCE_NOTE = ("The weights' licence is the one on the preset's Kaggle page (some, Gemma and Llama among them, "
                "ask you to accept their terms there first).")


def delegated_id(handle: str, preset: str) -> str:
    """The zoofind id of the model a preset's handle names: its scheme is the hub's name."""
    scheme, sep, rest = handle.partition("://")
    if not sep or not scheme or not rest:
        raise UsageError(f"keras:{PRESET}/{preset}: its handle {handle!r} is not a hub's (scheme://...)",
                         hint="rebuild the snapshot: scripts/build_keras_hub.py")
    return f"{scheme.lower()}:{rest.strip('/')}"


def page_of(handle: str) -> str:
    """The web page of a preset's handle: Kaggle's model page for a Kaggle handle (four or five
    parts), the Hugging Face repo for the other kind keras_hub reads (``owner/repo``)."""
    parts = handle.partition("://")[2].strip("/").split("/")
    if len(parts) in (4, 5):
        return f"https://www.kaggle.com/models/{'/'.join(parts[:4])}"
    return f"https://huggingface.co/{'/'.join(parts)}"


def _tasks(backbone: str, task_classes: Mapping[str, list[str]]) -> tuple[list[str], str | None]:
    """(the preset's tasks, the public task class its call names) from the task classes over its backbone."""
    tasks: list[str] = []
    call: str | None = None
    for name, bases in sorted(task_classes.items()):
        task = next((TASK_OF_BASE[b] for b in bases if b in TASK_OF_BASE), None)
        if task and task not in tasks:
            tasks.append(task)
            call = call or name
    if not tasks and backbone in TASK_OF_BACKBONE:
        tasks.append(TASK_OF_BACKBONE[backbone])
    return tasks, call


def entry(name: str, preset: Mapping[str, Any], backbone: str, task_classes: Mapping[str, list[str]],
          version: str) -> dict[str, Any]:
    """One catalog entry for the preset ``name`` registered for ``backbone``."""
    meta = preset.get("metadata") or {}
    handle = str(preset["kaggle_handle"])
    tasks, task_class = _tasks(backbone, task_classes)
    cls = task_class or backbone
    official = str(meta.get("official_name") or "")
    extra: dict[str, Any] = {
        "preset": name, "handle": handle, "backbone": backbone, "model": str(meta.get("path") or ""),
        "call": f'keras_hub.models.{cls}.from_preset("{name}")',
        "task_classes": sorted(task_classes),
    }
    if meta.get("model_card"):
        extra["model_card"] = str(meta["model_card"])
    family = str(meta.get("path") or "")
    out: dict[str, Any] = {
        "id": f"keras:{PRESET}/{name}",
        "kind": "model",
        "name": f"{name} (KerasHub preset{', ' + official if official else ''})",
        "description": " ".join(str(meta.get("description") or "").split()),
        "url": page_of(handle),
        "tasks": tasks,
        "frameworks": ["keras"],
        "libraries": ["keras_hub"],
        "architecture": [family] if family else [],
        "tags": sorted({"keras-hub", "preset", *([family] if family else [])}),
        "reliability": "generated",
        "evidence": f"keras_hub {version} register_presets (keras_hub/src/models/{family or '*'}/*_presets.py)",
        "notes": f"from_preset loads it from {handle}; zoofind pulls and locks it as {delegated_id(handle, name)}, "
                 f"into the cache from_preset reads. {LICENCE_NOTE}",
        "extra": extra,
    }
    if isinstance(meta.get("params"), int):
        out["params"] = meta["params"]
    return out


def collect() -> tuple[str, list[dict[str, Any]]]:
    """(keras_hub version, one entry per built-in preset), sorted by id. Imports keras_hub
    under the torch backend (tens of seconds); nothing is downloaded."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    # lazy: build-time only (scripts/build_keras_hub.py): keras_hub takes seconds to import, never on a command's path
    import keras
    import keras_hub
    from keras_hub.src.models.task import Task
    from keras_hub.src.utils import preset_utils

    tasks: dict[str, dict[str, list[str]]] = {}
    for obj in set(keras.saving.get_custom_objects().values()):
        if inspect.isclass(obj) and issubclass(obj, Task) and getattr(obj, "backbone_cls", None) is not None \
                and hasattr(keras_hub.models, obj.__name__):
            bases = [b.__name__ for b in obj.__mro__[1:]]
            tasks.setdefault(getattr(obj, "backbone_cls").__name__, {})[obj.__name__] = bases  # noqa: B009 - untyped
    for cls in preset_utils.BUILTIN_PRESETS_FOR_BACKBONE:
        if issubclass(cls, Task):  # presets registered for a task class (SegFormer's): that task
            tasks[cls.__name__] = {cls.__name__: [b.__name__ for b in cls.__mro__[1:]]}
    entries = [entry(name, preset, cls.__name__, tasks.get(cls.__name__, {}), keras_hub.__version__)
               for cls, presets in preset_utils.BUILTIN_PRESETS_FOR_BACKBONE.items()
               for name, preset in presets.items()]
    entries.sort(key=lambda e: e["id"])
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("a preset is registered for two backbones")
    return keras_hub.__version__, entries
