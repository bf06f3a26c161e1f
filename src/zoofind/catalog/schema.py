"""What a catalog entry may hold: its fields and their types, the enumerations, and the
checks ``validate_entry`` applies to every entry of every catalog file (bundled or a user's).

``catalog/README.md`` documents the same schema for people; ``json_safe`` turns the TOML
values JSON lacks into values every output format can print.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from typing import Any

from ..core.errors import UsageError
from ..hubs.ids import parse_id
from ..models.records import KINDS
from .frameworks import FRAMEWORK_KEYS, LIBRARIES

RESOURCE_TYPES = (
    "library", "tutorial", "course", "code", "model_zoo", "model_index", "labelling_tool",
    "visualization", "compute", "research_overview", "forum", "video_lecture", "paper", "collection",
)
RELIABILITY = ("verbatim_copy", "secondary_notes", "inferred", "verified_primary", "verified_usage", "generated")
LAYERS = ("curated", "snapshot")

_STR, _LIST, _BOOL, _INT, _TABLE = "string", "list of strings", "boolean", "integer", "table"
FIELD_TYPES: dict[str, str] = {
    "id": _STR, "kind": _STR, "name": _STR, "description": _STR, "resource_type": _STR, "url": _STR,
    "tasks": _LIST, "domains": _LIST, "frameworks": _LIST, "libraries": _LIST, "packages": _LIST,
    "license": _STR, "gated": _BOOL, "remote_code": _BOOL, "downloadable": _BOOL,
    "architecture": _LIST, "datasets": _LIST, "tags": _LIST, "params": _INT, "size_bytes": _INT,
    "reliability": _STR, "evidence": _STR, "section": _STR, "notes": _STR, "extra": _TABLE, "paper": _TABLE,
}
#: The ``paper`` table: the publication to cite for an entry (what ``zoofind cite`` reads).
#: ``evidence``: where the paper was read, when not at the entry's own ``evidence``; ``none``: the
#: marker that no paper is published (why, and where that was checked), alone or with ``evidence``.
PAPER_KEYS = {"doi": _STR, "arxiv": _STR, "title": _STR, "authors": _LIST, "venue": _STR, "year": _INT,
              "evidence": _STR, "none": _STR}
_DOI = r"10\.\d{4,9}/\S+"
#: New-style (2105.01234v2) and old-style (hep-ph/0601001) arXiv identifiers.
_ARXIV = r"(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?"
META_KEYS = {"layer", "description", "generated_by", "source", "count", "torchvision_version"}
_URL = r"^https?://[^\s/$.?#][^\s]*$"
#: How deep tables and arrays may nest inside ``extra``: enough for any real metrics table,
#: and far from the depth where printing or copying a record would exhaust Python's stack.
MAX_EXTRA_DEPTH = 32


def _type_ok(kind: str, value: Any) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return isinstance(value, dict)


def validate_entry(entry: Mapping[str, Any]) -> list[str]:
    """Problems with one entry, as short sentences (empty when it is valid)."""
    problems: list[str] = []
    for key in entry:
        if key not in FIELD_TYPES:
            problems.append(f"unknown key {key!r}")
        elif not _type_ok(FIELD_TYPES[key], entry[key]):
            problems.append(f"{key!r} must be a {FIELD_TYPES[key]}")
    required = ["id", "kind", "name", "reliability"]
    if entry.get("kind") == "resource":
        required += ["url", "resource_type"]
    problems += [f"missing required field {k!r}" for k in required if k not in entry]
    if problems:
        return problems
    try:
        pid = parse_id(entry["id"])
        if str(pid) != entry["id"]:
            problems.append(f"id {entry['id']!r} is not in normal form (write {str(pid)!r})")
    except UsageError as exc:
        problems.append(exc.message)
    if entry["kind"] not in KINDS:
        problems.append(f"unknown kind {entry['kind']!r} (one of {', '.join(KINDS)})")
    if entry["kind"] == "resource" and entry["resource_type"] not in RESOURCE_TYPES:
        problems.append(f"unknown resource_type {entry['resource_type']!r} (one of {', '.join(RESOURCE_TYPES)})")
    if entry["reliability"] not in RELIABILITY:
        problems.append(f"unknown reliability {entry['reliability']!r} (one of {', '.join(RELIABILITY)})")
    if "url" in entry and not re.match(_URL, entry["url"]):
        problems.append(f"bad url {entry['url']!r} (must be http:// or https://)")
    problems += [f"unknown framework {f!r} (one of {', '.join(FRAMEWORK_KEYS)})"
                 for f in entry.get("frameworks", ()) if f not in FRAMEWORK_KEYS]
    problems += [f"unknown library {lib!r} (add it to zoofind/catalog/frameworks.py)"
                 for lib in entry.get("libraries", ()) if lib not in LIBRARIES]
    if "paper" in entry:
        problems += _paper_problems(entry["paper"])
    if _depth(entry.get("extra")) > MAX_EXTRA_DEPTH:
        problems.append(f"'extra' nests tables or arrays more than {MAX_EXTRA_DEPTH} levels deep")
    return problems


def _depth(value: Any) -> int:
    # Iterative: the value may be nested deeper than Python's recursion limit allows to walk.
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_EXTRA_DEPTH:
            break
        stack.extend((v, level + 1) for v in item)
    return deepest


def json_safe(value: Any) -> Any:
    """A TOML value as JSON can carry it: dates and times as ISO 8601 strings, inf and nan as text.

    TOML has value types JSON lacks; converting them when the catalog is read keeps every
    output format (``--json``, ``jsonl``, ``info --json``) able to print any valid entry.
    """
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date too
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan": JSON has no such numbers
    return value


def _paper_problems(paper: Mapping[str, Any]) -> list[str]:
    problems = [f"unknown key {k!r} in 'paper' (one of {', '.join(PAPER_KEYS)})" for k in paper if k not in PAPER_KEYS]
    problems += [f"'paper.{k}' must be a {PAPER_KEYS[k]}" for k, v in paper.items()
                 if k in PAPER_KEYS and not _type_ok(PAPER_KEYS[k], v)]
    if problems:
        return problems
    if "none" in paper:
        cited = sorted(set(paper) - {"none", "evidence"})
        return [f"'paper.none' says no paper is published: drop {', '.join(cited)}"] if cited else []
    if "doi" not in paper and "arxiv" not in paper:
        problems.append("'paper' needs a 'doi' or an 'arxiv' id (or 'none = \"why\"' when none is published)")
    if "doi" in paper and not re.fullmatch(_DOI, paper["doi"]):
        problems.append(f"bad paper.doi {paper['doi']!r} (write the bare DOI, e.g. '10.1038/s41592-020-01018-x')")
    if "arxiv" in paper and not re.fullmatch(_ARXIV, paper["arxiv"]):
        problems.append(f"bad paper.arxiv {paper['arxiv']!r} (write the bare id, e.g. '2401.00096')")
    return problems
