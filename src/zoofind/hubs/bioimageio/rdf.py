"""A bioimage.io resource description (``rdf.yaml``): read safely, the files it names, the record it makes.

The YAML is read with PyYAML's safe loader (``hubs.yamlread``), refusing aliases (an alias bomb
is a few hundred bytes) and descriptions over
``MAX_BYTES``. Each file source is checked as the other hubs check a server's file names
(``caches.safe_relpath``); a URL must be http(s). What is refused raises ``BadAnswerError``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ...caches import safe_relpath
from ...catalog.tasks import ALIASES, canonical_task
from ...core.errors import BadAnswerError
from ...models.records import Record
from .. import json_int, json_list, json_object, json_str, json_strs
from ..yamlread import YAMLProblem, safe_load
from . import layout

MAX_BYTES = 2 * 1024 * 1024
#: Each weights format and the framework that loads it (bioimageio.spec ``WeightsFormat``; 0.3's name too).
FORMATS: dict[str, str] = {
    "pytorch_state_dict": "pytorch", "torchscript": "pytorch", "pytorch_script": "pytorch",
    "tensorflow_saved_model_bundle": "tensorflow", "keras_hdf5": "tensorflow", "keras_v3": "keras",
    "tensorflow_js": "tfjs", "onnx": "onnx",
}
#: bioimage.io tags that name a task in zoofind's vocabulary but not among ``tasks.ALIASES``.
_TASK_TAGS = {"denoising": "image-to-image", "restoration": "image-to-image", "super-resolution": "image-to-image",
              "deconvolution": "image-to-image", "pixel-classification": "image-segmentation"}
_SHA = re.compile(r"[0-9a-f]{64}")
HIDDEN_STATUSES = frozenset({"draft", "in-review", "in-revision"})


@dataclass(frozen=True)
class FileRef:
    """One file a description names: ``path`` is where it is in the model (its relative path, or
    for a URL the bioimageio.spec cache entry's name), ``url`` set for a URL source."""

    path: str
    role: str
    sha256: str | None
    url: str | None = None
    #: The weights format it belongs to (its weights, architecture or dependencies), else None.
    format: str | None = None


def load(body: bytes, what: str) -> dict[str, Any]:
    """The description's mapping; ``BadAnswerError`` when it is too big, not YAML or not a mapping."""
    if len(body) > MAX_BYTES:
        raise BadAnswerError(f"{what}: the rdf.yaml is over {MAX_BYTES // 1024 // 1024} MB; refused")
    try:
        data = safe_load(body)
    except YAMLProblem as exc:
        raise BadAnswerError(f"{what}: the rdf.yaml is not readable YAML ({exc})",
                             hint="the description is broken on the server; report it to bioimage.io") from None
    if not isinstance(data, dict):
        raise BadAnswerError(f"{what}: the rdf.yaml is not a YAML mapping")
    return data


def _sha(value: Any) -> str | None:
    """A sha256 as written (YAML 1.1 may read an all-digit one as a number: then there is none)."""
    return value.lower() if isinstance(value, str) and _SHA.fullmatch(value.lower()) else None


def _sources(rdf: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any, str | None]]:
    """(role, source, sha256, weights format) of every file the description names (0.5 and 0.4)."""
    doc = rdf.get("documentation")
    if isinstance(doc, str):
        yield "documentation", doc, None, None
    for cover in json_list(rdf.get("covers")):
        yield "cover", cover, None, None
    attachments = rdf.get("attachments")
    items = json_object(attachments).get("files") if isinstance(attachments, dict) else attachments
    for item in json_list(items):
        if isinstance(item, dict):
            yield "attachment", item.get("source"), item.get("sha256"), None
        else:
            yield "attachment", item, None, None
    for side in ("inputs", "outputs"):
        for tensor in json_list(rdf.get(side)):
            for kind in ("test_tensor", "sample_tensor"):
                t = json_object(tensor).get(kind) if isinstance(tensor, dict) else None
                if isinstance(t, dict):
                    yield kind, t.get("source"), t.get("sha256"), None
    for key in ("test_inputs", "test_outputs", "sample_inputs", "sample_outputs"):  # 0.4
        for source in json_list(rdf.get(key)):
            yield key.rstrip("s"), source, None, None
    for fmt, w in json_object(rdf.get("weights")).items():
        if not isinstance(w, dict):
            continue
        yield "weights", w.get("source"), w.get("sha256"), fmt
        arch = w.get("architecture")
        if isinstance(arch, dict):
            yield "architecture", arch.get("source"), arch.get("sha256"), fmt
        elif isinstance(arch, str) and ":" in arch and arch.split(":", 1)[0].endswith(".py"):  # 0.4 file.py:Class
            yield "architecture", arch.rsplit(":", 1)[0], w.get("architecture_sha256"), fmt
        deps = w.get("dependencies")
        if isinstance(deps, dict):
            yield "dependencies", deps.get("source"), deps.get("sha256"), fmt
        elif isinstance(deps, str) and deps.startswith(("conda:", "pip:")):  # 0.4 conda:environment.yaml
            yield "dependencies", deps.split(":", 1)[1], None, fmt


def references(rdf: Mapping[str, Any], what: str) -> list[FileRef]:
    """Every file the description names, once each (the first role that names it wins)."""
    out: dict[str, FileRef] = {}
    for role, source, sha, fmt in _sources(rdf):
        if not isinstance(source, str) or not source.strip():
            continue
        ref = _ref(source.strip(), role, _sha(sha), fmt, what)
        if ref is not None:
            out.setdefault(ref.path, ref)
    return list(out.values())


def _ref(source: str, role: str, sha: str | None, fmt: str | None, what: str) -> FileRef | None:
    scheme = urlsplit(source).scheme.lower() if "://" in source or source.lower().startswith("file:") else ""
    if scheme in ("http", "https"):
        if sha is None:
            import hashlib  # lazy: search start-up (hashlib ~3 ms): only for a file the RDF gives no hash for

            return FileRef(f"unchecked/{hashlib.sha256(source.encode()).hexdigest()[:16]}", role, None, source, fmt)
        return FileRef(layout.entry_name(source, sha), role, sha, source, fmt)
    if scheme:
        raise BadAnswerError(f"{what}: the rdf.yaml names {source!r}, a {scheme}: address; refused",
                             hint="only files beside the description and http(s) URLs are fetched")
    path = source[2:] if source.startswith("./") else source
    safe_relpath(path, what=f"{what}'s rdf.yaml")
    if path in (layout.RDF, layout.MARKER) or layout.is_entry(path.split("/")[-1]) or path.startswith(layout.LOCKS):
        raise BadAnswerError(f"{what}: the rdf.yaml names {path!r}, which is the package's own file; refused")
    return FileRef(path, role, sha, None, fmt)


def _text(value: Any, limit: int = 300) -> str | None:
    return json_str(value, limit=limit) if isinstance(value, str) else None


def authors(rdf: Mapping[str, Any]) -> list[str]:
    names = [_text(a.get("name"), 120) for a in json_list(rdf.get("authors")) if isinstance(a, dict)]
    return [n.split(";")[0] for n in names if n]


def citations(rdf: Mapping[str, Any]) -> list[str]:
    out = []
    for c in json_list(rdf.get("cite")):
        if not isinstance(c, dict):
            continue
        text = _text(c.get("text")) or ""
        doi = _text(c.get("doi"), 200)
        link = f"doi:{doi}" if doi else _text(c.get("url"), 300)
        out.append(f"{text} ({link})" if link and text else text or link or "")
    return [c for c in out if c]


def weight_formats(rdf: Mapping[str, Any]) -> dict[str, str]:
    """Each weights format of the description -> the framework it needs (``unknown`` for a new format)."""
    return {fmt: FORMATS.get(fmt, "unknown") for fmt, w in json_object(rdf.get("weights")).items()
            if isinstance(fmt, str) and isinstance(w, dict)}


def record(alias: str, rdf: Mapping[str, Any], item: Mapping[str, Any] | None = None) -> Record:
    """The search record of a model (``item``: the Hypha artifact around the description, if known)."""
    item = item or {}
    tags = json_strs(rdf.get("tags"), chars=80)
    formats = weight_formats(rdf)
    frameworks = tuple(dict.fromkeys(f for f in formats.values() if f != "unknown"))
    tasks = tuple(dict.fromkeys(canonical_task(t) if t in ALIASES else _TASK_TAGS[t]
                                for t in (t.lower() for t in tags) if t in ALIASES or t in _TASK_TAGS))
    versions = [v.get("version") for v in json_list(item.get("versions")) if isinstance(v, dict)]
    updated = json_int(item.get("last_modified"))
    extra: dict[str, Any] = {
        "weights": {fmt: f"needs {fw}" for fmt, fw in formats.items()},
        "authors": authors(rdf), "citations": citations(rdf),
        "versions": [v for v in versions if isinstance(v, str)],
        "rdf_format_version": _text(rdf.get("format_version"), 20),
        "documentation": _text(rdf.get("documentation")),
    }
    page = f"https://bioimage.io/#/artifacts/{alias}"
    return Record(
        id=f"bioimageio:{alias}", source="bioimageio", kind="model", name=_text(rdf.get("name"), 200) or alias,
        description=_text(rdf.get("description"), 1000) or "", url=page, tasks=tasks, domains=("microscopy",),
        frameworks=frameworks, packages=("bioimageio.core",), license=_text(rdf.get("license"), 100),
        tags=tags, downloads=json_int(item.get("download_count")),
        updated=datetime.datetime.fromtimestamp(updated, datetime.timezone.utc).strftime("%Y-%m-%d")
        if updated else None,
        weights_format=tuple(formats), reliability="generated", evidence=page,
        extra={k: v for k, v in extra.items() if v},
    )


def hidden(rdf: Mapping[str, Any]) -> bool:
    """Whether bioimage.io's own gallery hides the model (draft, under review, sent back)."""
    return rdf.get("status") in HIDDEN_STATUSES
