#!/usr/bin/env python3
"""Build catalog/tfhub.toml from the archived tfhub.dev repository.

Usage::

    python scripts/build_tfhub.py [--input PATH] [--output catalog/tfhub.toml]
                                  [--tfhub-repo GIT_DIR]

``--input`` is the JSON-lines extract of tensorflow/tfhub.dev @ 81fdea8f (one object per
page: type, handle, publisher, name, version, description, metadata, tfhub_url,
asset_kind). Its ``description`` holds only the first *line* of each page's description,
so many are cut mid-sentence. With ``--tfhub-repo`` (a clone or bare mirror of
https://github.com/tensorflow/tfhub.dev that contains commit 81fdea8f) the script reads
each page's markdown at that commit instead: the full first paragraph becomes the
description, and the whole page is scanned for TensorFlow Text prerequisites. The
committed catalog/tfhub.toml was built with ``--tfhub-repo``; the header says which.

Only this script reads the research data; the zoofind package reads the TOML (compiled
by scripts/build_catalog.py). The output is deterministic: entries sorted by id, keys
in a fixed order, written with tomli_w.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomli_w

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "research" / "tfhub" / "tfhub_dev_models.jsonl"
DEFAULT_OUTPUT = REPO_ROOT / "catalog" / "tfhub.toml"

COMMIT = "81fdea8ffa53b5acbd66a012d17fb8f9602c714b"
SOURCE = "tensorflow/tfhub.dev @ 81fdea8f (2024-03-18)"
TFHUB_PREFIX = "https://tfhub.dev/"

MODEL_TYPES = ("Module", "Lite", "Tfjs", "Placeholder", "Coral")

# README.md of tensorflow/tfhub.dev @ 81fdea8f: "As of March 18, 2024, unmigrated model
# assets (see list below) were deleted and retrieval is no longer possible." Each item
# is a model folder under assets/docs/ (every version and deployment format in it).
DELETED_DIRS = (
    "inaturalist/models/vision/embedder/inaturalist_V2",
    *(f"nvidia/models/unet/industrial/class_{i}" for i in range(1, 11)),
    "silero/models/silero-stt/de",
    "silero/models/silero-stt/en",
    "silero/models/silero-stt/es",
    "svampeatlas/models/vision/classifier/fungi_mobile_V1",
    "svampeatlas/models/vision/embedder/fungi_V2",
)
DELETED_DATE = "2024-03-18"

# TF Hub task value -> canonical task (Hugging Face pipeline tag where one fits; agrees
# with src/zoofind/catalog/tasks.py ALIASES). Values not listed are kept as they are; None drops
# the value from `tasks` (it stays in `tags` and extra.tfhub_task).
TASK_MAP: dict[str, str | None] = {
    "image-classification": "image-classification",
    "image-classifier": "image-classification",
    "image-classification-logits": "image-classification",
    "image-feature-vector": "image-feature-extraction",
    "image-object-detection": "object-detection",
    "image-segmentation": "image-segmentation",
    "image-pose-detection": "keypoint-detection",
    "image-depth-estimation": "depth-estimation",
    "image-super-resolution": "image-to-image",
    "image-deblurring": "image-to-image",
    "image-dehazing": "image-to-image",
    "image-deraining": "image-to-image",
    "image-denoising": "image-to-image",
    "image-enhancement": "image-to-image",
    "image-extrapolation": "image-to-image",
    "image-style-transfer": "image-to-image",
    "image-text-recognition": "image-to-text",
    "image-others": None,  # a catch-all bucket (only DELF), not a task
    "text-embedding": "feature-extraction",
    "text-classification": "text-classification",
    "text-generation": "text-generation",
    "text-question-answering": "question-answering",
    "audio-event-classification": "audio-classification",
    "audio-command-detection": "audio-classification",
    "audio-stt": "automatic-speech-recognition",
    "audio-embedding": "audio-feature-extraction",
    "audio-speech-synthesis": "text-to-speech",
    "text-to-mel": "text-to-speech",
    "video-classification": "video-classification",
    # Kept as TF Hub names (no Hugging Face tag fits): text-language-model (BERT-style
    # encoders, wiki40b LMs, Enformer), text-preprocessing, text-retrieval-question-answering,
    # text-sequence-alignment, text-segmentation, image-generator, image-rnn-agent,
    # image-aesthetic-quality, image-augmentation, image-frame-interpolation,
    # image-text-detection, audio-paralinguistics, audio-pitch-extraction,
    # audio-synthesis, video-feature-extraction, video-generation, video-text,
    # video-audio-text.
}

FRAMEWORK_BY_TYPE = {"Lite": "tflite", "Tfjs": "tfjs", "Coral": "tflite"}
MODULE_FORMATS = {"saved_model_2", "saved_model", "hub"}  # TF2 SavedModel, TF1 SavedModel, TF1 Hub format
TYPE_LABEL = {"Lite": "TF Lite", "Tfjs": "TF.js", "Coral": "Coral Edge TPU"}

TF_TEXT_RE = re.compile(r"tensorflow[_-]text|tensorflow text|\btf[. ]text\b", re.IGNORECASE)

MAX_DESCRIPTION = 400

# Order of keys in each entry (README field order).
KEY_ORDER = (
    "id", "kind", "name", "description", "resource_type", "url", "tasks", "domains",
    "frameworks", "libraries", "packages", "license", "gated", "remote_code",
    "downloadable", "architecture", "datasets", "tags", "params", "size_bytes",
    "reliability", "evidence", "section", "notes", "extra",
)


# ---------------------------------------------------------------- text helpers

_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG_RE = re.compile(r"<[^>]+>")
_ZWNJ_RE = re.compile("&zwnj;|\u200c|\u200b")
_EMPH_RE = re.compile(r"(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])")
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!]|\s|$)")
_CITE_RE = re.compile(r"\s?\[\d+(?:\s*,\s*\d+)*\]")


def clean_text(text: str) -> str:
    """Markdown paragraph -> one plain line: links to their text, no emphasis marks."""
    text = _LINK_RE.sub(r"\1", text)
    text = _TAG_RE.sub(" ", text)
    text = _ZWNJ_RE.sub("", html.unescape(text))
    text = text.replace("`", "").replace("**", "").replace("__", "")
    text = _EMPH_RE.sub(r"\1", text)  # *italic*
    text = _ESCAPE_RE.sub(r"\1", text)  # markdown escapes; a lone trailing "\" is a line break
    text = _CITE_RE.sub("", text)  # reference markers: [1], [2, 3]
    return " ".join(text.split())


def truncate(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """Cut long text at a sentence end (or else a word) before ``limit`` characters."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if cut >= limit // 2:
        return head[: cut + 1]
    space = head.rfind(" ", 0, limit)
    return head[: space if space > 0 else limit].rstrip(" ,;:-") + "…"


def first_paragraph(markdown: str) -> str:
    """The description paragraph of a tfhub.dev page: lines after the '# Type handle'
    heading up to the first blank line, metadata comment or heading."""
    lines = markdown.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("<!--") or stripped.startswith("#"):
            break
        if not stripped:
            if out:
                break
            continue
        out.append(stripped)
    return " ".join(out)


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def informative(values: Iterable[str]) -> list[str]:
    """Drop TF Hub's catch-all 'other' from architecture and dataset lists."""
    return unique(v for v in values if v.lower() != "other")


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []


def canonical_tasks(native: Iterable[str]) -> list[str]:
    out = []
    for value in native:
        mapped = TASK_MAP.get(value, value)
        if mapped:
            out.append(mapped)
    return unique(out)


# ---------------------------------------------------------------- page markdown


def read_pages(repo: Path, paths: list[str]) -> dict[str, str]:
    """Read ``paths`` at COMMIT from a git clone or mirror with one `git cat-file --batch`."""
    check = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", f"{COMMIT}^{{commit}}"], capture_output=True
    )
    if check.returncode != 0:
        sys.exit(f"error: {repo} is not a tensorflow/tfhub.dev git repository containing {COMMIT[:8]}")
    request = "".join(f"{COMMIT}:{p}\n" for p in paths).encode()
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"], input=request, capture_output=True, check=True
    )
    data, pos, pages = proc.stdout, 0, {}
    for path in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode()
        pos = end + 1
        if header.endswith(" missing"):
            continue
        size = int(header.rsplit(" ", 1)[1])
        pages[path] = data[pos : pos + size].decode("utf-8", errors="replace")
        pos += size + 1
    return pages


# ---------------------------------------------------------------- conversion


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """Some pages put '&zwnj;' in their heading (nvidia/unet/industrial/*, vtab/*) so the
    handle and URL read 'nvidia/&zwnj;unet/...'; the real tfhub.dev path has none."""
    row = dict(row)
    for key in ("handle", "name", "tfhub_url"):
        if isinstance(row.get(key), str):
            row[key] = _ZWNJ_RE.sub("", row[key])
    meta = dict(row.get("metadata") or {})
    if isinstance(meta.get("parent-model"), str):
        meta["parent-model"] = _ZWNJ_RE.sub("", meta["parent-model"])
    row["metadata"] = meta
    return row


def tfhub_path(row: dict[str, Any]) -> str:
    url = row["tfhub_url"]
    if not url.startswith(TFHUB_PREFIX):
        raise ValueError(f"unexpected tfhub_url {url!r} for {row['handle']}")
    return url[len(TFHUB_PREFIX):].strip("/")


def is_deleted(row: dict[str, Any]) -> bool:
    path = row.get("path", "")
    return any(path.startswith(f"assets/docs/{d}/") for d in DELETED_DIRS)


def description_for(row: dict[str, Any], pages: dict[str, str]) -> str:
    text = ""
    page = pages.get(row.get("path", ""))
    if page is not None:
        text = clean_text(first_paragraph(page))
    if not text:
        text = clean_text(row.get("description") or "")
    return truncate(text)


def display_name(row: dict[str, Any]) -> str:
    base = f"{row['publisher']}/{row['name']}"
    if not row["name"]:
        base = row["handle"].rsplit("/", 1)[0]
    name = f"{base} v{row['version']}" if row.get("version") is not None else base
    if row["type"] == "Collection":
        return f"{base} (collection) v{row['version']}"
    label = TYPE_LABEL.get(row["type"])
    return f"{name} ({label})" if label else name


def ordered(entry: dict[str, Any]) -> dict[str, Any]:
    unknown = set(entry) - set(KEY_ORDER)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in {entry['id']}")
    return {k: entry[k] for k in KEY_ORDER if k in entry and entry[k] not in (None, [], {}, "")}


def convert_model(row: dict[str, Any], parents: dict[str, dict[str, Any]], pages: dict[str, str]) -> dict[str, Any]:
    meta = row.get("metadata") or {}
    kind = row["type"]
    native_tasks = as_list(meta.get("task"))
    architecture = as_list(meta.get("network-architecture"))
    datasets = as_list(meta.get("dataset"))
    languages = as_list(meta.get("language"))
    parent_handle = (meta.get("parent-model") or "").strip()
    inherited: list[str] = []

    # Deployment formats (Lite, TF.js, Coral) carry no task/architecture/dataset lines of
    # their own; take them from the parent model page so they are found by task.
    parent = parents.get(parent_handle) if parent_handle else None
    if parent is not None:
        pmeta = parent.get("metadata") or {}
        for field, current in (("task", native_tasks), ("network-architecture", architecture),
                               ("dataset", datasets), ("language", languages)):
            if not current and as_list(pmeta.get(field)):
                current.extend(as_list(pmeta.get(field)))
                inherited.append(field)

    page = pages.get(row.get("path", ""), "")
    fmt = (meta.get("format") or "").strip()
    frameworks: list[str] = []
    libraries: list[str] = []
    if kind == "Module":
        if fmt and fmt not in MODULE_FORMATS:
            raise ValueError(f"unknown format {fmt!r} for {row['handle']}")
        frameworks, libraries = ["tensorflow"], ["tensorflow_hub"]
    elif kind in FRAMEWORK_BY_TYPE:
        frameworks = [FRAMEWORK_BY_TYPE[kind]]

    packages = []
    # The page says it needs TF Text ops ("import tensorflow_text", "pip install
    # tensorflow-text", "TensorFlow Text"); every text-preprocessing model does.
    needs_tf_text = (
        TF_TEXT_RE.search(page)
        or TF_TEXT_RE.search(row.get("description") or "")
        or "text-preprocessing" in as_list(meta.get("task"))
    )
    if kind != "Placeholder" and needs_tf_text:
        packages = ["tensorflow-text"]

    deleted = is_deleted(row)
    notes = None
    if kind == "Placeholder":
        notes = ("Placeholder page on tfhub.dev: no downloadable asset here; "
                 "look for its TF Lite, TF.js or Coral deployment pages.")
    if deleted:
        notes = (f"Unmigrated tfhub.dev model: its assets were deleted on {DELETED_DATE} "
                 "and can no longer be downloaded (tfhub.dev README).")

    tags = unique([
        *native_tasks,
        *(["edgetpu"] if kind == "Coral" else []),
        *languages,
        row["publisher"],
    ])

    extra: dict[str, Any] = {"type": kind, "publisher": row["publisher"]}
    if row.get("version") is not None:
        extra["version"] = row["version"]
    if fmt:
        extra["format"] = fmt
    fine = (meta.get("fine-tunable") or "").strip().lower()
    if fine in ("true", "false"):
        extra["fine_tunable"] = fine == "true"
    if row.get("asset_kind"):
        extra["asset_kind"] = row["asset_kind"]
    asset_path = (meta.get("asset-path") or "").strip()
    if asset_path and asset_path != row.get("asset_kind"):
        extra["asset_path"] = asset_path
    if as_list(meta.get("task")):
        extra["tfhub_task"] = as_list(meta.get("task"))
    if as_list(meta.get("language")):
        extra["language"] = as_list(meta.get("language"))
    if parent_handle:
        extra["parent_model"] = parent_handle
    if inherited:
        extra["inherited_from_parent"] = inherited
    colab = as_list(meta.get("colab"))
    if colab:
        extra["colab"] = colab[0]
    if deleted:
        extra["deleted"] = DELETED_DATE

    entry = {
        "id": "tfhub:" + tfhub_path(row),
        "kind": "model",
        "name": display_name(row),
        "description": description_for(row, pages),
        "url": row["tfhub_url"],
        "tasks": canonical_tasks(native_tasks),
        "frameworks": frameworks,
        "libraries": libraries,
        "packages": packages,
        "license": (meta.get("license") or "").strip() or None,
        "downloadable": False if (kind == "Placeholder" or deleted) else None,
        "architecture": informative(architecture),
        "datasets": informative(datasets),
        "tags": tags,
        "reliability": "generated",
        "evidence": row["tfhub_url"],
        "notes": notes,
        "extra": extra,
    }
    return ordered(entry)


def convert_collection(row: dict[str, Any], pages: dict[str, str]) -> dict[str, Any]:
    meta = row.get("metadata") or {}
    native_tasks = as_list(meta.get("task"))
    languages = as_list(meta.get("language"))
    extra: dict[str, Any] = {"type": "Collection", "publisher": row["publisher"]}
    if row.get("version") is not None:
        extra["version"] = row["version"]
    if native_tasks:
        extra["tfhub_task"] = native_tasks
    if languages:
        extra["language"] = languages
    entry = {
        "id": "tfhub:" + tfhub_path(row),
        "kind": "resource",
        "name": display_name(row),
        "description": description_for(row, pages),
        "resource_type": "collection",
        "url": row["tfhub_url"],
        "tasks": canonical_tasks(native_tasks),
        "architecture": informative(as_list(meta.get("network-architecture"))),
        "datasets": informative(as_list(meta.get("dataset"))),
        "tags": unique([*native_tasks, *languages, row["publisher"]]),
        "reliability": "generated",
        "evidence": row["tfhub_url"],
        "extra": extra,
    }
    return ordered(entry)


def build(rows: list[dict[str, Any]], pages: dict[str, str]) -> list[dict[str, Any]]:
    parents = {r["handle"]: r for r in rows if r["type"] in ("Module", "Placeholder")}
    entries = []
    for row in rows:
        if row["type"] in MODEL_TYPES:
            entries.append(convert_model(row, parents, pages))
        elif row["type"] == "Collection":
            entries.append(convert_collection(row, pages))
        elif row["type"] != "Publisher":
            raise ValueError(f"unknown page type {row['type']!r} for {row['handle']}")
    entries.sort(key=lambda e: e["id"])
    ids = [e["id"] for e in entries]
    dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    if dupes:
        raise ValueError(f"duplicate ids: {dupes[:10]}")
    return entries


def render(entries: list[dict[str, Any]], with_pages: bool) -> str:
    source_desc = (
        f"tfhub_dev_models.jsonl and the page markdown of {SOURCE}"
        if with_pages else f"tfhub_dev_models.jsonl ({SOURCE})"
    )
    n_models = sum(e["kind"] == "model" for e in entries)
    doc = {
        "meta": {
            "layer": "snapshot",
            "description": (
                f"Every model page ({n_models}: TF2/TF1 modules, TF Lite, TF.js, Coral and "
                f"placeholder pages) and collection ({len(entries) - n_models}) of the archived "
                "tfhub.dev repository. tfhub.dev now redirects to Kaggle Models; "
                f"unmigrated models were deleted on {DELETED_DATE}."
            ),
            "generated_by": "scripts/build_tfhub.py",
            "source": SOURCE,
            "count": len(entries),
        },
        "entry": entries,
    }
    header = (
        f"# Generated by scripts/build_tfhub.py from {source_desc}; do not edit by hand.\n"
        "# Regenerate: python scripts/build_tfhub.py"
        + (" --tfhub-repo <clone of github.com/tensorflow/tfhub.dev>" if with_pages else "")
        + "\n\n"
    )
    return header + tomli_w.dumps(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="tfhub_dev_models.jsonl")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="TOML file to write")
    parser.add_argument("--tfhub-repo", type=Path, default=None,
                        help=f"git clone/mirror of tensorflow/tfhub.dev containing {COMMIT[:8]}: "
                             "full descriptions and TF Text hints from the page markdown")
    args = parser.parse_args(argv)

    rows = [normalise_row(json.loads(line))
            for line in args.input.read_text(encoding="utf-8").splitlines() if line.strip()]
    pages: dict[str, str] = {}
    if args.tfhub_repo is not None:
        wanted = sorted({r["path"] for r in rows if r["type"] != "Publisher" and r.get("path")})
        pages = read_pages(args.tfhub_repo, wanted)
        missing = len(wanted) - len(pages)
        if missing:
            print(f"warning: {missing} page(s) missing at {COMMIT[:8]}; using the JSONL description", file=sys.stderr)
    else:
        print("warning: no --tfhub-repo: descriptions are the JSONL's first lines only", file=sys.stderr)

    entries = build(rows, pages)
    text = render(entries, with_pages=bool(pages))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {len(entries)} entries to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
