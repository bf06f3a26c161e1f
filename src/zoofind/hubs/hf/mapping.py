"""The Hub's vocabulary and its JSON <-> zoofind's ``Record``.

The frameworks and libraries a repo shows come from the one vocabulary in
``zoofind.catalog.frameworks`` (each entry's Hub tag, aliases and base framework); this module
only knows the Hub's own words: pipeline tags, licence ids, sort keys, file names.

A model's JSON is validated where it enters (``trimmed``, the schema of what zoofind
reads of ``/api/models`` and ``/api/models/{id}``, with the readers in ``zoofind.hubs``):
each field of the wrong type is dropped on its own (counted in a ``Repairs``), texts are
cut to ``DESCRIPTION_CHARS``, and only what is valid is cached. A model without a usable
id (a string the id grammar accepts) cannot be a record: ``screen`` skips it, and
``record_from_payload`` raises ``BadAnswerError`` for it, its one documented error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ...catalog.frameworks import (
    FORMAT_ORDER,
    LIBRARIES,
    framework_of,
    hub_tag,
    library_of_tag,
    weights_format_of,
    weights_formats,
)
from ...catalog.frameworks import canonical as canonical_library
from ...catalog.tasks import canonical_task
from ...core.errors import BadAnswerError
from ...core.redaction import redact_url
from ...models.records import Record
from .. import (
    FieldReader,
    Repairs,
    SearchQuery,
    dropped,
    json_bool,
    json_date,
    json_int,
    json_list,
    json_object,
    json_strs,
    json_text,
    read_fields,
)
from . import REPO_PATTERN, is_dataset

#: Fields asked of ``GET /api/models`` (``expand[]=``): every one a documented expand value.
LIST_EXPAND = (
    "author", "cardData", "createdAt", "downloads", "gated", "gguf", "lastModified", "library_name",
    "likes", "pipeline_tag", "private", "safetensors", "sha", "siblings", "tags",
)

#: zoofind ``--sort`` -> the API's ``sort`` (always with ``direction=-1``).
#: The Hub has no relevance order for the API: downloads is its most useful default.
HUB_SORT = {"relevance": "downloads", "downloads": "downloads", "likes": "likes", "updated": "lastModified"}

#: Hub licence ids ``--license`` may name exactly; a prefix (``cc-by``) is filtered locally only.
HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m", "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd", "bsd-2-clause", "bsd-3-clause",
    "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
    "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0",
    "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0",
    "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "h-research", "intel-research", "lppl-1.3c", "ms-pl", "apple-ascl",
    "apple-amlr", "mpl-2.0", "odc-by", "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa",
    "unlicense", "zlib", "pddl", "lgpl-lr", "deepfloyd-if-license", "fair-noncommercial-research-license",
    "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "unknown", "other",
})

#: The Hub's pipeline tags (huggingface.js packages/tasks pipelines.ts): ``--task`` is sent
#: as ``pipeline_tag`` only when its canonical name is one of these.
PIPELINE_TAGS = frozenset({
    "text-classification", "token-classification", "table-question-answering", "question-answering",
    "zero-shot-classification", "translation", "summarization", "feature-extraction", "text-generation",
    "fill-mask", "sentence-similarity", "text-to-speech", "text-to-audio", "automatic-speech-recognition",
    "audio-to-audio", "audio-classification", "audio-text-to-text", "voice-activity-detection",
    "depth-estimation", "image-classification", "object-detection", "image-segmentation", "text-to-image",
    "image-to-text", "image-to-image", "image-to-video", "unconditional-image-generation",
    "video-classification", "reinforcement-learning", "robotics", "tabular-classification",
    "tabular-regression", "tabular-to-text", "table-to-text", "multiple-choice", "text-ranking",
    "text-retrieval", "time-series-forecasting", "text-to-video", "image-text-to-text", "image-text-to-image",
    "image-text-to-video", "visual-question-answering", "document-question-answering",
    "zero-shot-image-classification", "graph-ml", "mask-generation", "zero-shot-object-detection",
    "text-to-3d", "image-to-3d", "image-feature-extraction", "video-text-to-text", "keypoint-detection",
    "visual-document-retrieval", "any-to-any", "video-to-video", "other",
})

#: Frameworks in the order a record lists them.
FRAMEWORK_ORDER = ("pytorch", "tensorflow", "jax", "keras", "onnx", "tflite", "tfjs", "scikit-learn", "mxnet",
                   "chainer")
MAIN_FRAMEWORKS = ("pytorch", "tensorflow", "jax", "keras")

#: Hub-computed tags that say nothing about the model.
_NOISE_PREFIXES = ("license:", "region:", "base_model:", "deploy:", "endpoints_compatible", "autotrain_compatible",
                   "text-generation-inference", "has_space", "inference:", "eval-results", "model-index")


#: The longest description kept: a summary, not a model card (a 64 MB one made every cached search slow).
DESCRIPTION_CHARS = 2000
#: Short fields (names, hashes, tags) longer than this are not what the Hub sends: dropped.
WORD_CHARS = 300


def _words(value: Any, repairs: Repairs | None = None) -> tuple[str, ...]:
    return json_strs(value, repairs, limit=500, chars=WORD_CHARS)


#: The schema of what zoofind reads of a model (``trimmed``): field -> reader.
_MODEL_FIELDS: dict[str, FieldReader] = {
    **dict.fromkeys(("author", "sha", "pipeline_tag", "library_name"), json_text(WORD_CHARS)),
    **dict.fromkeys(("downloads", "likes"), json_int),
    **dict.fromkeys(("lastModified", "createdAt"), json_date),
    "private": json_bool,
    "tags": _words,
}
_CARD_FIELDS: dict[str, FieldReader] = {
    **dict.fromkeys(("license", "datasets", "language", "tags", "base_model"), _words),
    **dict.fromkeys(("license_name", "license_link", "model_name", "pipeline_tag", "library_name", "thumbnail"),
                    json_text(WORD_CHARS)),
    **dict.fromkeys(("summary", "description"), json_text(DESCRIPTION_CHARS)),
}
_GGUF_FIELDS: dict[str, FieldReader] = {"total": json_int, "architecture": json_text(WORD_CHARS),
                                        "context_length": json_int}
_SIBLING_FIELDS: dict[str, FieldReader] = {"rfilename": json_text(WORD_CHARS), "size": json_int}
_LFS_FIELDS: dict[str, FieldReader] = {"size": json_int, "sha256": json_text(WORD_CHARS)}


def infer_frameworks(library: str | None, tags: Sequence[str], formats: Sequence[str] = ()) -> tuple[str, ...]:
    """Frameworks from the library name, tags and weights formats (``frameworks.framework_of``).

    A library with no framework tag falls back to its base framework (transformers ->
    pytorch) unless a tag already names a main framework: a transformers repo tagged only
    ``tf`` is TensorFlow-only. Export formats (onnx, tflite, tfjs) add to it.
    """
    found = {f for t in (*tags, *formats) if (f := framework_of(t))}
    if library:
        low = library.lower()
        if framework_of(low):
            found.add(framework_of(low))  # type: ignore[arg-type]
        elif not found & set(MAIN_FRAMEWORKS):
            base = LIBRARIES.get(canonical_library(low))
            if base is not None and base.framework:
                found.add(base.framework)
    return tuple(f for f in FRAMEWORK_ORDER if f in found)


def iso_seconds(value: Any) -> str | None:
    """The Hub's ``2023-03-21T15:05:12.000Z`` as ``2023-03-21T15:05:12Z`` (every source's form)."""
    value = json_date(value)
    if not value:
        return None
    head, dot, tail = value.partition(".")
    return f"{head}Z" if dot and tail.endswith("Z") else value


def usable_id(value: Any) -> str | None:
    """A repo's ``id`` as the Hub writes it (``owner/name``), when it is one zoofind can name
    (``hf:<id>``, or ``hf:datasets/<id>`` for a dataset, parses), else None."""
    return (value if isinstance(value, str) and re.fullmatch(REPO_PATTERN, value) and not is_dataset(value)
            else None)


def screen(models: list[Any], repairs: Repairs | None = None) -> list[Mapping[str, Any]]:
    """The models of a listing that can be records (objects with a usable id); the others counted."""
    kept = [m for m in models if isinstance(m, Mapping) and usable_id(m.get("id"))]
    if repairs is not None:
        repairs.records += len(models) - len(kept)
    return kept


def records_from_payloads(payloads: list[Any], hub: str, repairs: Repairs | None = None) -> tuple[Record, ...]:
    """A listing's records (raw or cached models): the unusable ones skipped and counted, never raised."""
    return tuple(record_from_payload(m, hub, repairs) for m in screen(payloads, repairs))


def id_of(data: Mapping[str, Any], what: str) -> str:
    """A trimmed answer's id; ``BadAnswerError`` when it had none usable (``what``: "model", "dataset")."""
    repo = data.get("id")
    if repo is None:
        raise BadAnswerError(f"the Hugging Face Hub sent a {what} without a usable id",
                             hint="the service may be failing or HF_ENDPOINT may not point at a Hub; retry later")
    return str(repo)


def record_from_payload(data: Mapping[str, Any], hub: str, repairs: Repairs | None = None) -> Record:
    """A model's JSON (raw or ``trimmed``) as a Record; ``BadAnswerError`` when it has no usable id.

    Every field is read through ``trimmed``'s schema first, so a wrong-typed one is dropped
    alone (and counted in ``repairs``), whatever was cached or sent.
    """
    data = trimmed(data, all_files=True, repairs=repairs) if isinstance(data, Mapping) else {}
    repo = id_of(data, "model")
    tags: list[str] = list(data.get("tags", ()))
    card: Mapping[str, Any] = data.get("cardData", {})
    library: str | None = data.get("library_name")
    pipeline: str | None = data.get("pipeline_tag")
    siblings: list[Mapping[str, Any]] = data.get("siblings", [])
    formats = weights_formats([s["rfilename"] for s in siblings])

    libraries: list[str] = []
    extra_tags: list[str] = []
    if library:
        key = canonical_library(library)
        (libraries if key in LIBRARIES else extra_tags).append(key if key in LIBRARIES else library)
    for t in tags:
        key = canonical_library(t)
        if library_of_tag(key) and key not in libraries:
            libraries.append(key)

    license_ = next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), None)
    if license_ is None:
        license_ = next(iter(card.get("license", ())), None)
    if license_ == "other" and card.get("license_name"):
        license_ = card["license_name"]

    datasets = [t.split(":", 1)[1] for t in tags if t.startswith("dataset:")]
    datasets += [d for d in card.get("datasets", ()) if d not in datasets]

    frameworks = infer_frameworks(library, tags, formats)
    # Tags said elsewhere in the record (frameworks, libraries, task, formats) are dropped;
    # "gguf" stays a tag: it names a format and a runtime, not a framework.
    dropped = {*libraries, "safetensors", "custom_code", (library or "").lower(), (pipeline or "").lower()} - {"gguf"}
    kept = [t for t in tags if not t.startswith(_NOISE_PREFIXES) and not t.startswith("dataset:")
            and t.lower() not in dropped and (framework_of(t) is None or t.lower() == "gguf")]
    kept += [t for t in extra_tags if t not in kept]

    params = data.get("safetensors", {}).get("total") or data.get("gguf", {}).get("total")
    sizes: dict[str, int] = {}
    for s in siblings:
        fmt = weights_format_of(s["rfilename"])
        size = s.get("lfs", {}).get("size") or s.get("size")
        if fmt and size is not None:
            sizes[fmt] = sizes.get(fmt, 0) + size
    size_bytes = next((sizes[f] for f in FORMAT_ORDER if f in sizes), None)

    gated = data.get("gated")
    description = next((card[k] for k in ("summary", "description") if card.get(k, "").strip()), "")
    base_model = card.get("base_model", ())
    extra: dict[str, Any] = {k: v for k, v in (
        ("sha", data.get("sha")),
        ("created", iso_seconds(data.get("createdAt"))),
        ("base_model", base_model[0] if len(base_model) == 1 else list(base_model)),
        ("approval", gated if isinstance(gated, str) else None),  # gated: "auto" or "manual" approval
        ("private", True if data.get("private") else None),
    ) if v}
    return Record(
        id=f"hf:{repo}",
        source="hf",
        kind="model",
        name=repo,
        description=description,
        # The endpoint as it may be shown: credentials in HF_ENDPOINT never reach a record.
        url=f"{redact_url(hub)}/{repo}",
        tasks=(pipeline,) if pipeline else (),
        frameworks=frameworks,
        libraries=tuple(libraries),
        license=license_,
        gated=bool(gated),
        remote_code="custom_code" in tags,
        datasets=tuple(datasets),
        tags=tuple(dict.fromkeys(kept)),
        params=params,
        size_bytes=size_bytes,
        downloads=data.get("downloads"),
        likes=data.get("likes"),
        updated=iso_seconds(data.get("lastModified")),
        weights_format=formats,
        extra=extra,
    )


def list_params(query: SearchQuery) -> list[tuple[str, str]]:
    """SearchQuery -> the query string of ``GET /api/models`` (JSON-able: part of the cache key).

    The Hub has no relevance order in its API: downloads is its most useful default. At
    least 20 are asked for: the merged ranking needs candidates.
    """
    params: list[tuple[str, str]] = []
    text = (query.keyword or query.text).strip()
    if text:
        params.append(("search", text))
    if query.framework:
        tag = hub_tag(query.framework)
        if tag:
            params.append(("filter", tag))
    if query.license and query.license.strip().lower() in HUB_LICENSES:
        params.append(("filter", f"license:{query.license.strip().lower()}"))
    if query.task:
        task = canonical_task(query.task)
        if task in PIPELINE_TAGS:
            params.append(("pipeline_tag", task))
    params += [("sort", HUB_SORT.get(query.sort, "downloads")), ("direction", "-1"),
               ("limit", str(wanted(query)))]
    params += [("expand[]", field) for field in LIST_EXPAND]
    return params


def wanted(query: SearchQuery) -> int:
    return min(max(query.limit, 20), 100)


def trimmed(model: Mapping[str, Any], *, all_files: bool, repairs: Repairs | None = None) -> dict[str, Any]:
    """What zoofind reads of one model's JSON, each field checked for its type (the schema of
    ``/api/models`` and ``/api/models/{id}``): what the answer cache keeps, and all
    ``record_from_payload`` reads. A field of the wrong type is dropped and counted; cleaning
    a cleaned model changes nothing.

    Search answers keep a few weight files per format (``all_files=False``): enough for
    ``weights_format`` and the size, and the cached answer stays small and quick to read.
    """
    out = read_fields(model, _MODEL_FIELDS, repairs)
    if (repo := usable_id(model.get("id"))) is not None:
        out["id"] = repo
    gated = model.get("gated")
    if gated in ("auto", "manual") or gated is True:
        out["gated"] = gated
    elif gated not in (None, False, "false", "False"):
        dropped(repairs)  # neither a bool nor an approval mode
    if (card := read_fields(json_object(model.get("cardData"), repairs), _CARD_FIELDS, repairs)):
        out["cardData"] = card
    if (total := json_int(json_object(model.get("safetensors"), repairs).get("total"), repairs)) is not None:
        out["safetensors"] = {"total": total}
    if (gguf := read_fields(json_object(model.get("gguf"), repairs), _GGUF_FIELDS, repairs)):
        out["gguf"] = gguf
    if "siblings" in model:
        kept: list[dict[str, Any]] = []
        per_format: dict[str, int] = {}
        for s in json_list(model.get("siblings"), repairs):
            entry = read_fields(json_object(s, repairs), _SIBLING_FIELDS, repairs)
            name = entry.get("rfilename")
            if not name:
                dropped(repairs)  # a file without a name is no file
                continue
            if not all_files:
                fmt = weights_format_of(name)
                if fmt is None or per_format.get(fmt, 0) >= 3:
                    continue
                per_format[fmt] = per_format.get(fmt, 0) + 1
            if (lfs := read_fields(json_object(s.get("lfs"), repairs), _LFS_FIELDS, repairs)):
                entry["lfs"] = lfs
            kept.append(entry)
        out["siblings"] = kept
    return out
