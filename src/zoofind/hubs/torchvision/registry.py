"""The installed torchvision's model registry, as catalog entries.

``collect()`` reads the real registry (``torchvision.models.list_models`` and each
builder's weights enum) into the dicts ``catalog/torchvision.toml`` holds; it imports
torchvision, which costs seconds. ``scripts/build_torchvision.py`` writes the bundled
snapshot with it and the torchvision source reads a different installed version with it,
so one implementation serves both.

What torchvision's words mean in the catalog (tasks, data sets, architectures, tags) is
``vocabulary``'s; builders' human names come from ``names``. Which torchvision is installed
is told without importing it by ``installed``, kept apart because search asks it on every
run and should not load these tables.
"""

from __future__ import annotations

import importlib
from typing import Any

from .installed import tv_version_string
from .names import display_name
from .vocabulary import (
    MEMBER_TAGS,
    TASK_IDS,
    TASK_MODULES,
    TASK_PHRASES,
    TASK_WORDS,
    architecture_for,
    clean_docs,
    datasets_for,
    headline_metric,
    metrics_for,
    number,
)

# ---------------------------------------------------------------------------- one entry


def _tasks(builder: str, tv_task: str, member_name: str) -> tuple[list[str], str]:
    """(catalog task ids, the description's opening phrase) of one weights member."""
    if tv_task == "detection" and builder.startswith("keypointrcnn"):
        tasks, phrase = ["keypoint-detection"], "Person keypoint detection"
    elif tv_task == "detection" and builder.startswith("maskrcnn"):
        tasks, phrase = ["object-detection", "image-segmentation"], "Object detection and instance segmentation"
    else:
        tasks, phrase = list(TASK_IDS[tv_task]), TASK_PHRASES[tv_task]
    if member_name.endswith("FEATURES"):  # vgg16: only the convolutional trunk is valid
        tasks, phrase = ["feature-extraction"], "Feature extraction"
    return tasks, phrase


def _unquantized_name(meta: dict[str, Any]) -> str | None:
    """``Enum.MEMBER`` of the float weights quantized weights were made from, else None."""
    unquantized = meta.get("unquantized")
    return f"{type(unquantized).__name__}.{unquantized.name}" if unquantized is not None else None


def _description(
    phrase: str, display: str, meta: dict[str, Any], metrics: dict[str, dict[str, int | float]], unquantized: str | None
) -> str:
    """``<Task> weights for <model>[, <backend> backend] (<headline metric>).`` and the cleaned docs."""
    docs = clean_docs(str(meta.get("_docs") or ""), unquantized)
    headline = headline_metric(metrics)
    description = f"{phrase} weights for {display}"
    if meta.get("backend"):
        description += f", {meta['backend']} backend"
    description += (f" ({headline})" if headline else "") + "."
    if docs:
        description += " " + docs
    return description


def _tags(builder: str, enum_name: str, tv_task: str, tasks: list[str], member_name: str,
          datasets: list[str]) -> list[str]:
    """Search words beyond the name and description: builder, enum, task words, data sets, backends."""
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
    tokens = member_name.split("_")
    tags += [tag for token, tag in MEMBER_TAGS if token in tokens]
    if "VOC" in tokens:
        tags.append("pascal voc")
    if "FEATURES" in tokens:
        tags.append("feature extraction")
    if tv_task == "optical_flow":
        tags += [d.lower() for d in datasets]
    return list(dict.fromkeys(tags))


def _meta_facts(meta: dict[str, Any], metrics: dict[str, dict[str, int | float]],
                unquantized: str | None) -> dict[str, Any]:
    """The ``extra`` fields taken from a weights' ``meta``, each only when torchvision gives it."""
    facts: dict[str, Any] = {}
    if number(meta.get("num_params")) is not None:
        facts["num_params"] = int(meta["num_params"])
    if metrics:
        facts["metrics"] = metrics
    if number(meta.get("_ops")) is not None:
        facts["gflops"] = meta["_ops"]
    if number(meta.get("_file_size")) is not None:
        facts["file_size_mb"] = meta["_file_size"]
    if meta.get("recipe"):
        facts["recipe"] = str(meta["recipe"])
    if meta.get("categories"):
        facts["num_categories"] = len(meta["categories"])
    if meta.get("keypoint_names"):
        facts["num_keypoints"] = len(meta["keypoint_names"])
    if meta.get("min_size"):
        facts["min_size"] = [int(x) for x in meta["min_size"]]
    if meta.get("min_temporal_size") is not None:
        facts["min_temporal_size"] = int(meta["min_temporal_size"])
    if meta.get("backend"):
        facts["backend"] = str(meta["backend"])
    if unquantized:
        facts["unquantized"] = unquantized
    if meta.get("license"):
        facts["license_url"] = str(meta["license"])
    return facts


def _notes(meta: dict[str, Any], member_name: str) -> str:
    """What to know before using the weights: their licence, and FEATURES weights' limits."""
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
    if member_name.endswith("FEATURES"):
        notes += " Only the features module is valid: not usable as a classifier."
    return notes


def _entry(
    builder: str, module: str, tv_task: str, enum_cls: type, member: Any, default: Any, version: str,
    strict: bool = True
) -> dict[str, Any]:
    """The catalog entry of one weights member (``member``: a torchvision ``WeightsEnum`` member)."""
    meta = dict(member.meta)
    enum_name = enum_cls.__name__
    display = display_name(builder)
    datasets = datasets_for(member.name, strict)
    metrics = metrics_for(meta)
    tasks, phrase = _tasks(builder, tv_task, member.name)
    unquantized = _unquantized_name(meta)
    description = _description(phrase, display, meta, metrics, unquantized)
    tags = _tags(builder, enum_name, tv_task, tasks, member.name, datasets)
    extra: dict[str, Any] = {
        "builder": builder,
        "weights_enum": enum_name,
        "weights": member.name,
        "default": member is default,
        "tv_task": tv_task,
        "url": member.url,
        **_meta_facts(meta, metrics, unquantized),
    }
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
    entry["notes"] = _notes(meta, member.name)
    entry["extra"] = extra
    return entry


# ---------------------------------------------------------------------------- collect


def collect(strict: bool = True) -> list[dict[str, Any]]:
    """One entry per weights member of every builder in the installed torchvision, sorted by id.

    Imports torchvision (seconds). ``strict`` (the snapshot script) raises on anything the
    tables above do not know; ``strict=False`` (another installed version, read at search
    time) keeps what it can: unknown tokens, missing task modules and builders whose
    weights cannot be read are left out instead of failing the whole registry.
    """
    # lazy: torchvision (seconds) only when collect() runs: a broken install fails inside the caller's try
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

    entries: list[dict[str, Any]] = []
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
                    _entry(builder, module_name, task_of.get(builder, "classification"), enum_cls, member, default,
                           version, strict)
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
