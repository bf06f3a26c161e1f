"""A Zenodo record's JSON read where it enters: its files (checked names, sizes and MD5s), the search
record it makes, and the citation it is (a Zenodo record IS the citable object: its DOI).

Every field is type-checked (``hubs.jsonread``); a file whose key would land outside the record's
folder, or whose size claim is beyond anything Zenodo stores, refuses the record with nothing written.
A file's address is built from the endpoint (``api.file_url``), never taken from the answer's
``links``: a mirror's record points at zenodo.org, and an answer must not send zoofind elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...caches import safe_relpath
from ...catalog.frameworks import weights_format_of
from ...core.errors import BadAnswerError
from ...models.records import Record
from .. import Repairs, json_int, json_list, json_object, json_str, json_strs
from . import api, layout

if TYPE_CHECKING:
    from ...models.cite import Author, Reference

#: The largest file zoofind believes Zenodo holds: its quota is 50 GB a record (more on request).
MAX_FILE_BYTES = 1 << 40
_MD5 = re.compile(r"md5:([0-9a-fA-F]{32})")
#: Resource types a model is published as (``resource_type.type``); papers, posters and slides are not models.
MODEL_TYPES = frozenset({"software", "dataset", "other", "model", "workflow"})
#: Weights format -> the framework that loads it, for the record's frameworks.
_FRAMEWORKS = {"pickle": "pytorch", "safetensors": "pytorch", "onnx": "onnx", "tf": "tensorflow",
               "keras": "keras", "tflite": "tensorflow", "flax": "jax", "gguf": "llama.cpp"}


@dataclass(frozen=True)
class ZFile:
    key: str
    size: int
    md5: str | None
    url: str


def record_id(data: Mapping[str, Any]) -> str:
    """The record's own id (what a lock pins), ``BadAnswerError`` when there is none."""
    rid = json_int(data.get("id")) or json_int(data.get("recid"))
    if rid is None:
        raise BadAnswerError("Zenodo answered a record without its id", hint=api.HINT_ENDPOINT)
    return str(rid)


def files(data: Mapping[str, Any], endpoint: str) -> list[ZFile]:
    """The record's files; ``BadAnswerError`` for a key that would leave the folder or an impossible size."""
    rid = record_id(data)
    what = f"Zenodo record {rid}"
    out: dict[str, ZFile] = {}
    for item in json_list(data.get("files")):
        f = json_object(item)
        key = json_str(f.get("key") or f.get("filename"), limit=1000)
        if not key:
            raise BadAnswerError(f"{what} lists a file without a name", hint="report it to Zenodo; nothing was written")
        safe_relpath(key, what=what)
        if key.split("/", 1)[0].startswith(layout.ZOOFIND_OWN):
            raise BadAnswerError(f"{what} names a file {key!r}, which is zoofind's own file; refused")
        size = json_int(f.get("size") if "size" in f else f.get("filesize"))
        if size is None:
            raise BadAnswerError(f"{what}: {key} has no size", hint="report it to Zenodo; nothing was written")
        if size > MAX_FILE_BYTES:
            raise BadAnswerError(f"{what}: {key} claims {size} bytes, beyond anything Zenodo stores; refused",
                                 hint="the answer is damaged or hostile; nothing was written")
        checksum = json_str(f.get("checksum"), limit=100) or ""
        m = _MD5.fullmatch(checksum) or (re.fullmatch(r"[0-9a-fA-F]{32}", checksum) and _MD5.fullmatch(
            "md5:" + checksum))
        out.setdefault(key, ZFile(key, size, m[1].lower() if m else None, api.file_url(endpoint, rid, key)))
    return list(out.values())


def text_of(description: str | None, limit: int = 1000) -> str:
    """A record's HTML description as plain text."""
    if not description:
        return ""
    plain = re.sub(r"<[^>]{0,2000}>", " ", description[:20 * limit])
    if "&" in plain:
        import html  # lazy: search start-up (html.entities' table ~3 ms): only for a description with entities

        plain = html.unescape(plain)
    return " ".join(plain.split())[:limit]


def _meta(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return json_object(data.get("metadata"))


def kind_of(data: Mapping[str, Any]) -> str | None:
    return json_str(json_object(_meta(data).get("resource_type")).get("type"), limit=40)


def creators(data: Mapping[str, Any]) -> list[str]:
    names = [json_str(json_object(c).get("name"), limit=200) for c in json_list(_meta(data).get("creators"))]
    return [n for n in names if n]


def version_info(data: Mapping[str, Any]) -> dict[str, Any]:
    """The concept the record is a version of, its index and whether it is the latest."""
    rel = json_list(json_object(_meta(data).get("relations")).get("version"))
    first = json_object(rel[0]) if rel else {}
    index = json_int(first.get("index"))
    out = {"concept": json_str(data.get("conceptrecid"), limit=20) or json_str(json_object(first.get("parent")).get(
        "pid_value"), limit=20), "version": json_str(_meta(data).get("version"), limit=100),
        "version_index": index + 1 if index is not None else None, "latest": first.get("is_last")}
    return {k: v for k, v in out.items() if v is not None}


def record(data: Mapping[str, Any], endpoint: str, repairs: Repairs | None = None) -> Record:
    """The search and info record of a Zenodo record."""
    rid = record_id(data)
    meta = _meta(data)
    listed = files(data, endpoint)
    formats = tuple(dict.fromkeys(f for f in (weights_format_of(z.key) for z in listed) if f))
    frameworks = tuple(dict.fromkeys(_FRAMEWORKS[f] for f in formats if f in _FRAMEWORKS))
    page = f"{endpoint.rstrip('/')}/records/{rid}"
    stats = json_object(data.get("stats"))
    lic = meta.get("license")
    licence = json_str(json_object(lic).get("id") if isinstance(lic, dict) else lic, repairs, limit=100)
    date = json_str(meta.get("publication_date"), repairs, limit=40)
    extra: dict[str, Any] = {
        "doi": json_str(data.get("doi") or meta.get("doi"), repairs, limit=200),
        "concept_doi": json_str(data.get("conceptdoi"), repairs, limit=200),
        **version_info(data),
        "resource_type": kind_of(data),
        "creators": creators(data),
        "files": [{"key": z.key, "size": z.size, "md5": z.md5} for z in listed],
        "related": [f"{json_str(r.get('relation'), limit=40)} {json_str(r.get('identifier'), limit=300)}"
                    for r in map(json_object, json_list(meta.get("related_identifiers"))[:20])
                    if json_str(r.get("identifier"), limit=300)],
        "publisher": "Zenodo",
    }
    return Record(
        id=f"zenodo:{rid}", source="zenodo", kind="model",
        name=json_str(meta.get("title") or data.get("title"), repairs, limit=300) or f"Zenodo record {rid}",
        description=text_of(json_str(meta.get("description"), repairs, limit=200_000)), url=page,
        frameworks=frameworks, license=licence, tags=json_strs(meta.get("keywords"), repairs, chars=80),
        size_bytes=sum(z.size for z in listed), downloads=json_int(stats.get("downloads"), repairs),
        updated=date[:10] if date else None, weights_format=formats, reliability="generated", evidence=page,
        extra={k: v for k, v in extra.items() if v not in (None, "", [], ())},
    )


def _author(name: str) -> Author:
    from ...models.cite import Author  # lazy: the citation models only for cite (this module maps search records)

    family, comma, given = name.partition(",")
    return Author(family.strip(), given.strip()) if comma and family.strip() else Author(name.strip())


def citation(data: Mapping[str, Any]) -> Reference:
    """The record as the work to cite: its creators, title, year, DOI, version and Zenodo as publisher.
    A ``misc`` entry whatever its resource type: ``@software``/``@dataset`` are biblatex's, which
    plain BibTeX styles do not know."""
    from ...models.cite import FROM_CARD, Reference  # lazy: the citation models only for cite (see _author)

    rid = record_id(data)
    meta = _meta(data)
    doi = json_str(data.get("doi") or meta.get("doi"), limit=200)
    date = json_str(meta.get("publication_date"), limit=40) or ""
    year = int(date[:4]) if re.match(r"[0-9]{4}", date) else None
    version = json_str(meta.get("version"), limit=100)
    fields = (("publisher", "Zenodo"),) + ((("version", version),) if version else ())
    return Reference(key=f"zenodo{rid}", kind="misc", title=json_str(meta.get("title") or data.get("title"), limit=500),
                     authors=tuple(_author(n) for n in creators(data)), year=year, doi=doi.lower() if doi else None,
                     url=f"https://doi.org/{doi}" if doi else None, source=FROM_CARD, fields=fields)
