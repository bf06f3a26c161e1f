"""Hugging Face dataset repositories: the Hub's dataset JSON <-> zoofind's ``Record`` (kind
``dataset``, id ``hf:datasets/owner/name``), and the query of ``GET /api/datasets``.

The query follows huggingface_hub's ``HfApi.list_datasets``: ``search``, ``filter`` values that are
the Hub's own tags (``task_categories:<task>``, ``size_categories:<n<1K ...>``, ``license:<id>``),
``sort`` with ``direction=-1``, ``limit`` and ``expand[]`` (only documented
``ExpandDatasetProperty_T`` values: the Hub answers 400 to another). A dataset's answer is read
through ``mapping.trimmed`` (the fields models and datasets share: id, sha, dates, counts, tags,
gating, the card's licence and languages, the files) plus the dataset's own (``description``,
``citation``, ``usedStorage``, the card's task and size categories and pretty name), each field
of the wrong type dropped alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...catalog.tasks import canonical_task
from ...core.redaction import redact_url
from ...models.records import Record
from .. import FieldReader, Repairs, SearchQuery, json_int, json_object, json_strs, json_text, read_fields
from .mapping import (
    DESCRIPTION_CHARS,
    HUB_LICENSES,
    HUB_SORT,
    PIPELINE_TAGS,
    WORD_CHARS,
    id_of,
    iso_seconds,
    trimmed,
    wanted,
)

#: Fields asked of ``GET /api/datasets`` (``expand[]=``): every one a documented expand value.
LIST_EXPAND = ("author", "cardData", "citation", "createdAt", "description", "downloads", "gated", "lastModified",
               "likes", "private", "sha", "tags", "usedStorage")
#: The longest citation kept (the BibTeX a card gives; a few entries are a few kB).
CITATION_CHARS = 8000
#: Tags said elsewhere in a dataset's record (licence, tasks) or saying nothing about it.
_NOISE = ("region:", "license:", "task_categories:", "arxiv:")

_DATASET_FIELDS: dict[str, FieldReader] = {
    "description": json_text(DESCRIPTION_CHARS),
    "citation": json_text(CITATION_CHARS),
    "paperswithcode_id": json_text(WORD_CHARS),
    "usedStorage": json_int,
}


def _words(value: Any, repairs: Repairs | None = None) -> tuple[str, ...]:
    return json_strs(value, repairs, limit=100, chars=WORD_CHARS)


_DATASET_CARD: dict[str, FieldReader] = {
    **dict.fromkeys(("task_categories", "task_ids", "size_categories"), _words),
    "pretty_name": json_text(WORD_CHARS),
}


def list_params(query: SearchQuery) -> list[tuple[str, str]]:
    """SearchQuery -> the query string of ``GET /api/datasets`` (JSON-able: part of the cache key)."""
    params: list[tuple[str, str]] = []
    text = (query.keyword or query.text).strip()
    if text:
        params.append(("search", text))
    if query.license and query.license.strip().lower() in HUB_LICENSES:
        params.append(("filter", f"license:{query.license.strip().lower()}"))
    if query.task and (task := canonical_task(query.task)) in PIPELINE_TAGS:
        params.append(("filter", f"task_categories:{task}"))
    if query.size_category:
        params.append(("filter", f"size_categories:{query.size_category}"))
    params += [("sort", HUB_SORT.get(query.sort, "downloads")), ("direction", "-1"), ("limit", str(wanted(query)))]
    params += [("expand[]", field) for field in LIST_EXPAND]
    return params


def trimmed_dataset(data: Mapping[str, Any], repairs: Repairs | None = None) -> dict[str, Any]:
    """What zoofind reads of one dataset's JSON (the answer cache keeps this): the fields it shares
    with a model, every file (a dataset's files are its data), and its own fields."""
    out = trimmed(data, all_files=True, repairs=repairs)
    out.update(read_fields(data, _DATASET_FIELDS, repairs))
    card = read_fields(json_object(data.get("cardData"), repairs), _DATASET_CARD, repairs)
    if card:
        out["cardData"] = {**out.get("cardData", {}), **card}
    return out


def _tagged(tags: list[str], key: str) -> list[str]:
    return [t.split(":", 1)[1] for t in tags if t.startswith(f"{key}:")]


def dataset_record(data: Mapping[str, Any], hub: str, repairs: Repairs | None = None) -> Record:
    """A dataset's JSON (raw or trimmed) as a Record of kind ``dataset``; ``BadAnswerError`` without a usable id."""
    data = trimmed_dataset(data, repairs) if isinstance(data, Mapping) else {}
    repo = id_of(data, "dataset")
    tags: list[str] = list(data.get("tags", ()))
    card: Mapping[str, Any] = data.get("cardData", {})
    tasks = _tagged(tags, "task_categories") or list(card.get("task_categories", ()))
    license_ = next(iter(_tagged(tags, "license") or card.get("license", ())), None)
    if license_ == "other" and card.get("license_name"):
        license_ = card["license_name"]
    sizes = _tagged(tags, "size_categories") or list(card.get("size_categories", ()))
    kept = [t for t in tags if not t.startswith(_NOISE)]
    # The size category is a tag, as on the Hub: what --size-category filters on, for every source.
    kept += [f"size_categories:{s}" for s in sizes if f"size_categories:{s}" not in kept]
    siblings: list[Mapping[str, Any]] = data.get("siblings", [])
    file_sizes = [s.get("lfs", {}).get("size") or s.get("size") for s in siblings]
    size = sum(n for n in file_sizes if n) if siblings and all(n is not None for n in file_sizes) else None
    gated = data.get("gated")
    extra: dict[str, Any] = {k: v for k, v in (
        ("sha", data.get("sha")),
        ("created", iso_seconds(data.get("createdAt"))),
        ("size_category", sizes[0] if len(sizes) == 1 else sizes),
        ("files", len(siblings) if siblings else None),
        ("stored", data.get("usedStorage")),
        ("approval", gated if isinstance(gated, str) else None),
        ("private", True if data.get("private") else None),
        ("paperswithcode", data.get("paperswithcode_id")),
        ("citation", data.get("citation")),
    ) if v}
    description = data.get("description") or next(
        (card[k] for k in ("summary", "description") if card.get(k, "").strip()), "")
    return Record(
        id=f"hf:datasets/{repo}",
        source="hf",
        kind="dataset",
        name=card.get("pretty_name") or repo,
        description=description,
        url=f"{redact_url(hub)}/datasets/{repo}",
        tasks=tuple(dict.fromkeys(canonical_task(t) for t in tasks)),
        license=license_,
        gated=bool(gated),
        datasets=(),
        tags=tuple(dict.fromkeys(kept)),
        size_bytes=size if size is not None else data.get("usedStorage"),
        downloads=data.get("downloads"),
        likes=data.get("likes"),
        updated=iso_seconds(data.get("lastModified")),
        extra=extra,
    )
