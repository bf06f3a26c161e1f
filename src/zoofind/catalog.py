"""The bundled catalog: TOML sources, their validator, and the compiled form search loads.

``catalog/*.toml`` (shipped in the wheel as ``zoofind/_data/catalog_src``) is what people
edit; ``compile_dir`` validates it and ``scripts/build_catalog.py`` writes the result with
its prebuilt text index to ``zoofind/_data/catalog.json``. Loading that JSON is ~5x
faster than parsing the TOML, which keeps ``zoofind search --offline`` near the cost of
importing Typer. ``ZOOFIND_CATALOG_DIR`` adds a folder of your own TOML files on top.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import CatalogError, UsageError
from .ids import parse_id
from .records import KINDS, Record

ENV_CATALOG_DIR = "ZOOFIND_CATALOG_DIR"
#: The catalog's own source name (``catalog:<slug>`` ids); the search runner scores it in-process.
SOURCE = "catalog"
COMPILED_VERSION = 1
DATA_DIR = Path(__file__).parent / "_data"
COMPILED_PATH = DATA_DIR / "catalog.json"
RECORDS_PATH = DATA_DIR / "records.jsonl"

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
    "reliability": _STR, "evidence": _STR, "section": _STR, "notes": _STR, "extra": _TABLE,
}
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
    from .frameworks import FRAMEWORK_KEYS, LIBRARIES

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
    problems += [f"unknown framework {f!r} (one of {', '.join(FRAMEWORK_KEYS)})" for f in entry.get("frameworks", ()) if f not in FRAMEWORK_KEYS]
    problems += [f"unknown library {lib!r} (add it to zoofind/frameworks.py)" for lib in entry.get("libraries", ()) if lib not in LIBRARIES]
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


def entry_to_record(entry: Mapping[str, Any], curated: bool) -> Record:
    kwargs = {k: v for k, v in entry.items() if k in _RECORD_FIELDS}
    kwargs["source"] = entry["id"].partition(":")[0]
    kwargs["curated"] = curated
    extra = json_safe(dict(entry.get("extra", {})))
    for k in ("section",):
        if k in entry:
            extra[k] = entry[k]
    kwargs["extra"] = extra
    return Record.from_dict(kwargs)


_RECORD_FIELDS = {f.name for f in fields(Record)}


def read_file(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import codecs
    import tomllib

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror}") from None
    if raw.startswith(codecs.BOM_UTF8):
        raise CatalogError(f"{path}: starts with a UTF-8 byte-order mark, which TOML does not allow",
                           hint="save the file as UTF-8 without a BOM (most editors call it plain UTF-8)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = raw.count(b"\n", 0, exc.start) + 1, exc.start - raw.rfind(b"\n", 0, exc.start)
        where = f"line {line}, column {column}"
        raise CatalogError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at {where})",
                           hint="TOML files are UTF-8: convert it, e.g. `iconv -f latin1 -t utf-8`") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)".
        raise CatalogError(f"{path}: not valid TOML: {exc}", hint="fix the file (see catalog/README.md)") from None
    except RecursionError:
        raise CatalogError(f"{path}: arrays or tables nest too deeply to read (tomllib names no line)",
                           hint=f"catalog entries need at most {MAX_EXTRA_DEPTH} levels") from None
    meta = data.get("meta", {})
    entries = data.get("entry", [])
    unknown = set(data) - {"meta", "entry"}
    if unknown or not isinstance(meta, dict) or not isinstance(entries, list):
        raise CatalogError(f"{path}: a catalog file holds one [meta] table and [[entry]] tables; found {sorted(unknown) or 'wrong types'}")
    return meta, entries


def compile_files(
    paths: Iterable[Path], *, default_layer: str = "curated", metas: dict[str, Any] | None = None
) -> list[Record]:
    """Validate catalog files and merge them into records; raise CatalogError naming every problem.

    ``metas``, when given, receives each file's [meta] table by file stem.
    """
    problems: list[str] = []
    layers: dict[str, dict[str, tuple[Record, str]]] = {"snapshot": {}, "curated": {}}
    for path in sorted(paths):
        meta, entries = read_file(path)
        if metas is not None:
            metas[path.stem] = meta
        layer = meta.get("layer", default_layer)
        bad_meta = set(meta) - META_KEYS
        if layer not in LAYERS or bad_meta:
            problems.append(f"{path} [meta]: layer must be one of {LAYERS}" + (f"; unknown keys {sorted(bad_meta)}" if bad_meta else ""))
            continue
        for i, entry in enumerate(entries, 1):
            # The whole path: a user catalog's file may sit anywhere.
            label = f"{path} entry {i}" + (f" ({entry.get('id')})" if isinstance(entry, dict) and entry.get("id") else "")
            if not isinstance(entry, dict):
                problems.append(f"{label}: not a table")
                continue
            errs = validate_entry(entry)
            if errs:
                problems += [f"{label}: {e}" for e in errs]
                continue
            seen = layers[layer].get(entry["id"])
            if seen:
                problems.append(f"{label}: duplicate id {entry['id']!r} (also in {seen[1]})")
                continue
            layers[layer][entry["id"]] = (entry_to_record(entry, curated=layer == "curated"), label)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CatalogError(f"the catalog has {len(problems)} problem(s):\n  {shown}{more}", hint="see catalog/README.md for the schema")
    merged = {rid: rec for rid, (rec, _) in layers["snapshot"].items()}
    for rid, (rec, _) in layers["curated"].items():
        merged[rid] = rec.merged_with(merged[rid]) if rid in merged else rec
    return sorted(merged.values(), key=lambda r: r.id)


def compile_dir(folder: Path, metas: dict[str, Any] | None = None) -> list[Record]:
    return compile_files(folder.glob("*.toml"), metas=metas)


def _compact(record: Record) -> dict[str, Any]:
    # Defaults are left out: the compiled file is about half the size and loads faster.
    defaults = Record(id="", source="", kind="", name="")
    out: dict[str, Any] = {}
    for f in fields(Record):
        value = getattr(record, f.name)
        if f.name in ("id", "source", "kind", "name") or value != getattr(defaults, f.name):
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def compile_catalog(records: list[Record], metas: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The compiled catalog: (index part, one JSON line per record in document order)."""
    from .textindex import build_postings, prior

    compact = [_compact(r) for r in records]
    aliases = {}
    for r in records:
        if r.source == "torchvision" and r.extra.get("default"):
            aliases["torchvision:" + r.id.partition(":")[2].split(".")[0]] = r.id
    index = build_postings(compact)
    # Postings stay strings until a query needs them: decoding every term's list at start-up
    # would cost more than the whole search.
    index["postings"] = {
        t: " ".join(str(int(d)) for d in p[0::2]) + "|" + " ".join(f"{w:g}" for w in p[1::2]) for t, p in index["postings"].items()
    }
    lines = [json.dumps(c, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n" for c in compact]
    sources = sorted({r.source for r in records})
    # Columns, not a list per record: one string per flag decodes ~10x faster than 3,000 lists.
    docs = {
        "ids": [r.id for r in records],
        "names": [r.name for r in records],
        "sources": sources,
        "source": "".join(str(sources.index(r.source)) for r in records),
        "kind": "".join(r.kind[0] for r in records),
        "curated": "".join("1" if r.curated else "0" for r in records),
        "default": "".join("1" if r.extra.get("default") else "0" for r in records),
        # Only the records whose prior is not 1, by document number (most have none).
        "prior": {str(i): p for i, r in enumerate(records) if (p := round(prior(r.curated, r.downloadable, r.extra), 4)) != 1.0},
        "sizes": [len(line.encode()) for line in lines],
    }
    return {"version": COMPILED_VERSION, "meta": dict(metas or {}), "aliases": aliases, "index": index, "docs": docs}, lines


class Catalog:
    """The compiled catalog. Records are decoded from their JSON line only when used."""

    # A plain class: a dataclass costs ~1 ms to create at import, on every start.
    def __init__(self, blob: bytes, docs: Mapping[str, Any], aliases: dict[str, str], index_data: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> None:
        self.blob = blob
        self.docs = docs
        self.ids: list[str] = docs["ids"]
        self.aliases = aliases
        self.index_data = index_data
        self.meta = meta or {}
        #: ZOOFIND_CATALOG_DIR's entries, each already merged with the bundled entry of its id.
        self.extras: tuple[Record, ...] = ()
        #: Which extras (by position) hold each search term: a query scores only those.
        self.extra_terms: dict[str, list[int]] = {}
        self._extra_by_id: dict[str, Record] = {}
        self._records: dict[int, Record] = {}
        self._entries: dict[int, dict[str, Any]] = {}
        self._by_id: dict[str, int] | None = None
        self._offsets: list[int] | None = None

    def facet(self, doc: int) -> tuple[str, str, str, bool, bool, str]:
        """(id, source, kind, curated, default weights, name) without decoding the record."""
        d = self.docs
        kind = "model" if d["kind"][doc] == "m" else "resource"
        return (self.ids[doc], d["sources"][int(d["source"][doc])], kind, d["curated"][doc] == "1", d["default"][doc] == "1", d["names"][doc])

    def entry(self, doc: int) -> dict[str, Any]:
        data = self._entries.get(doc)
        if data is None:
            if self._offsets is None:
                import itertools

                self._offsets = [0, *itertools.accumulate(self.docs["sizes"])]
            start, end = self._offsets[doc], self._offsets[doc + 1]
            data = self._entries[doc] = json.loads(self.blob[start:end])
        return data

    def record(self, doc: int) -> Record:
        rec = self._records.get(doc)
        if rec is None:
            rec = self._records[doc] = Record.from_dict(self.entry(doc))
        return rec

    def __len__(self) -> int:
        return len(self.ids)

    def add_extras(self, records: Iterable[Record], terms: dict[str, list[int]] | None = None) -> None:
        """Layer user entries on the bundled ones: merged once here, then found by id in O(1).

        ``terms`` is the entries' term index when a cached copy has it; else it is built here.
        """
        merged = []
        for rec in records:
            base = self._lookup(rec.id)
            merged.append(rec.merged_with(base) if base else rec)
        self.extras = tuple(merged)
        self._extra_by_id = {r.id: r for r in merged}
        self.extra_terms = terms if terms is not None else term_index(self.extras)

    def is_extra(self, rid: str) -> bool:
        return rid in self._extra_by_id

    @property
    def total(self) -> int:
        """How many distinct records: bundled ones plus user entries with ids of their own."""
        return len(self) + sum(1 for rid in self._extra_by_id if self._doc(rid) is None)

    def get(self, rid: str) -> Record | None:
        rid = self.aliases.get(rid, rid)
        return self._extra_by_id.get(rid) or self._lookup(rid)

    def _doc(self, rid: str) -> int | None:
        if self._by_id is None:
            self._by_id = {rid: i for i, rid in enumerate(self.ids)}
        return self._by_id.get(rid)

    def _lookup(self, rid: str) -> Record | None:
        doc = self._doc(rid)
        return None if doc is None else self.record(doc)

    def all_records(self) -> list[Record]:
        base = [self.record(i) for i in range(len(self)) if self.ids[i] not in self._extra_by_id]
        return [*base, *self.extras]


def term_index(records: Sequence[Record]) -> dict[str, list[int]]:
    """term -> positions of the records whose text holds it, read as the ranking reads it."""
    from .textindex import field_tokens

    index: dict[str, list[int]] = {}
    for pos, rec in enumerate(records):
        # vars(): a Record's fields as they are; to_dict() would deep-copy every record first.
        for term in set().union(*field_tokens(vars(rec)).values()):
            index.setdefault(term, []).append(pos)
    return index


USER_CACHE_VERSION = 1


def _add_user_catalog(catalog: Catalog, folder: Path) -> None:
    """Layer ZOOFIND_CATALOG_DIR's entries on ``catalog``, from zoofind's cache while nothing changed.

    Parsing TOML is most of the cost of a large user catalog (tomllib: ~100 us an entry), so
    the validated records and their term index are kept in the cache folder, keyed by each
    file's name, size and modification time, by zoofind's version and by the bundled catalog
    they were merged with; a cache that cannot be read or written only costs the parse.
    """
    import hashlib

    from . import __version__, paths
    from .atomic import try_write_json

    files = sorted(folder.glob("*.toml"))
    try:
        stamp = [[f.name, st.st_size, st.st_mtime_ns] for f in files for st in (f.stat(),)]
    except OSError:
        stamp = None
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]
    cached_at = paths.cache_dir(os.environ) / "user-catalogs" / f"{key}.json"
    want = {"version": USER_CACHE_VERSION, "zoofind": __version__, "bundled": [len(catalog), len(catalog.blob)], "files": stamp}
    if stamp is not None:
        try:
            data = json.loads(cached_at.read_bytes())
            if {k: data.get(k) for k in want} == want:
                catalog.add_extras([Record.from_dict(r) for r in data["records"]], data["terms"])
                return
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no usable copy: parse the files
    records = compile_files(files)
    catalog.add_extras(records)
    if stamp is not None:
        try_write_json(cached_at, {**want, "records": [_compact(r) for r in records], "terms": catalog.extra_terms})


_LOADED: Catalog | None = None


def _map(path: Path) -> Any:
    """The records file, mapped rather than read: only the ~20 records shown are touched."""
    import mmap

    with path.open("rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # an empty file, or a file system without mmap
            return fh.read()


def load() -> Catalog:
    """The compiled bundled catalog plus ZOOFIND_CATALOG_DIR's files (cached per process)."""
    global _LOADED
    if _LOADED is None:
        try:
            data = json.loads(COMPILED_PATH.read_bytes())
            if data.get("version") != COMPILED_VERSION:
                raise ValueError(f"compiled catalog version {data.get('version')!r}")
            blob = _map(RECORDS_PATH)
            docs = data["docs"]
            if sum(docs["sizes"]) != len(blob) or len(docs["ids"]) != len(docs["sizes"]):
                raise ValueError(f"{RECORDS_PATH.name} does not match the index")
            catalog = Catalog(blob, docs, data["aliases"], data["index"], data.get("meta"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CatalogError(
                f"the bundled catalog in {DATA_DIR} is missing or damaged ({exc})",
                hint="reinstall zoofind; in a source checkout run `python scripts/build_catalog.py`",
            ) from None
        extra_dir = os.environ.get(ENV_CATALOG_DIR)
        if extra_dir:
            folder = Path(extra_dir).expanduser()
            if not folder.is_dir():
                raise CatalogError(f"{ENV_CATALOG_DIR}={extra_dir} is not a folder")
            _add_user_catalog(catalog, folder)
        _LOADED = catalog
    return _LOADED


def reset() -> None:
    """Forget the loaded catalog (tests change ZOOFIND_CATALOG_DIR between runs)."""
    global _LOADED
    _LOADED = None
