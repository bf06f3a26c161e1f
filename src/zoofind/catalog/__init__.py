"""The bundled catalog: TOML sources, their validator, and the compiled form search loads.

``catalog/*.toml`` (shipped in the wheel as ``zoofind/_data/catalog_src``) is what people
edit; ``compile_dir`` validates it and ``scripts/build_catalog.py`` writes the result with
its prebuilt text index to ``zoofind/_data/catalog.json``. Loading that JSON is ~5x
faster than parsing the TOML, which keeps ``zoofind search --offline`` near the cost of
importing Typer. ``ZOOFIND_CATALOG_DIR`` adds a folder of your own TOML files on top,
compiled into the same form (``compile_user``: facet columns, postings, a record store) and
kept in zoofind's cache folder while the files are unchanged, so a search over 100k entries
of your own scores prebuilt postings and decodes only the records it shows.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import CatalogError, UsageError
from ..hubs.ids import parse_id
from ..models.records import KINDS, Record

if TYPE_CHECKING:
    from .textindex import LayeredIndex, TextIndex

ENV_CATALOG_DIR = "ZOOFIND_CATALOG_DIR"
#: The catalog's own source name (``catalog:<slug>`` ids); the search runner scores it in-process.
SOURCE = "catalog"
COMPILED_VERSION = 1
DATA_DIR = Path(__file__).parent.parent / "_data"
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
    "reliability": _STR, "evidence": _STR, "section": _STR, "notes": _STR, "extra": _TABLE, "paper": _TABLE,
}
#: The ``paper`` table: the publication to cite for an entry (what ``zoofind cite`` reads).
PAPER_KEYS = {"doi": _STR, "arxiv": _STR, "title": _STR, "authors": _LIST, "venue": _STR, "year": _INT}
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
    problems += [f"unknown framework {f!r} (one of {', '.join(FRAMEWORK_KEYS)})"
                 for f in entry.get("frameworks", ()) if f not in FRAMEWORK_KEYS]
    problems += [f"unknown library {lib!r} (add it to zoofind/catalog/frameworks.py)"
                 for lib in entry.get("libraries", ()) if lib not in LIBRARIES]
    if _depth(entry.get("extra")) > MAX_EXTRA_DEPTH:
        problems.append(f"'extra' nests tables or arrays more than {MAX_EXTRA_DEPTH} levels deep")
    if "paper" in entry:
        problems += _paper_problems(entry["paper"])
    return problems


def _paper_problems(paper: Mapping[str, Any]) -> list[str]:
    problems = [f"unknown key {k!r} in 'paper' (one of {', '.join(PAPER_KEYS)})" for k in paper if k not in PAPER_KEYS]
    problems += [f"'paper.{k}' must be a {PAPER_KEYS[k]}" for k, v in paper.items()
                 if k in PAPER_KEYS and not _type_ok(PAPER_KEYS[k], v)]
    if problems:
        return problems
    if "doi" not in paper and "arxiv" not in paper:
        problems.append("'paper' needs a 'doi' or an 'arxiv' id")
    if "doi" in paper and not re.fullmatch(_DOI, paper["doi"]):
        problems.append(f"bad paper.doi {paper['doi']!r} (write the bare DOI, e.g. '10.1038/s41592-020-01018-x')")
    if "arxiv" in paper and not re.fullmatch(_ARXIV, paper["arxiv"]):
        problems.append(f"bad paper.arxiv {paper['arxiv']!r} (write the bare id, e.g. '2401.00096')")
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


def entry_to_compact(entry: Mapping[str, Any], curated: bool) -> dict[str, Any]:
    """A valid entry as the compiled catalog stores it: its Record's fields, defaults left out
    (what ``_compact`` makes of ``entry_to_record``), without making the Record."""
    defaults = _defaults()
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in _RECORD_FIELDS and key != "extra" and (
                key not in defaults or (tuple(value) if isinstance(value, list) else value) != defaults[key]):
            out[key] = value
    out["source"] = entry["id"].partition(":")[0]
    if curated:
        out["curated"] = True
    extra = json_safe(dict(entry.get("extra", {})))
    # Kept in ``extra`` (shown by ``info`` and in JSON as record.extra.paper) so the Record stays as it is.
    for key in ("section", "paper"):
        if key in entry:
            extra[key] = json_safe(entry[key])
    if extra:
        out["extra"] = extra
    return out


def entry_to_record(entry: Mapping[str, Any], curated: bool) -> Record:
    return Record.from_dict(entry_to_compact(entry, curated))


_RECORD_FIELDS = {f.name for f in fields(Record)}
_DEFAULTS: dict[str, Any] | None = None


def _defaults() -> dict[str, Any]:
    """Each Record field's default, but for the four every record sets."""
    global _DEFAULTS
    if _DEFAULTS is None:
        blank = Record(id="", source="", kind="", name="")
        _DEFAULTS = {name: getattr(blank, name) for name in _RECORD_FIELDS
                     if name not in ("id", "source", "kind", "name")}
    return _DEFAULTS


def read_file(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import codecs

    from ..core.tomlread import tomllib

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
        raise CatalogError(f"{path}: a catalog file holds one [meta] table and [[entry]] tables; found "
                           f"{sorted(unknown) or 'wrong types'}")
    return meta, entries


def compile_files(
    paths: Iterable[Path], *, default_layer: str = "curated", metas: dict[str, Any] | None = None
) -> list[Record]:
    """Validate catalog files and merge them into records; raise CatalogError naming every problem.

    ``metas``, when given, receives each file's [meta] table by file stem.
    """
    return [Record.from_dict(c) for c in compile_compact(paths, default_layer=default_layer, metas=metas)]


def compile_compact(
    paths: Iterable[Path], *, default_layer: str = "curated", metas: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """``compile_files``' records in their compact form (``entry_to_compact``), sorted by id:
    a Record is made only where a curated entry merges with a snapshot entry of its id."""
    problems: list[str] = []
    layers: dict[str, dict[str, tuple[dict[str, Any], str]]] = {"snapshot": {}, "curated": {}}
    for path in sorted(paths):
        meta, entries = read_file(path)
        if metas is not None:
            metas[path.stem] = meta
        layer = meta.get("layer", default_layer)
        bad_meta = set(meta) - META_KEYS
        if layer not in LAYERS or bad_meta:
            problems.append(f"{path} [meta]: layer must be one of {LAYERS}"
                            + (f"; unknown keys {sorted(bad_meta)}" if bad_meta else ""))
            continue
        for i, entry in enumerate(entries, 1):
            # The whole path: a user catalog's file may sit anywhere.
            label = f"{path} entry {i}" + (f" ({entry.get('id')})"
                                           if isinstance(entry, dict) and entry.get("id") else "")
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
            layers[layer][entry["id"]] = (entry_to_compact(entry, curated=layer == "curated"), label)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CatalogError(f"the catalog has {len(problems)} problem(s):\n  {shown}{more}",
                           hint="see catalog/README.md for the schema")
    merged = {rid: c for rid, (c, _) in layers["snapshot"].items()}
    for rid, (c, _) in layers["curated"].items():
        merged[rid] = _compact(Record.from_dict(c).merged_with(Record.from_dict(merged[rid]))) if rid in merged else c
    return [merged[rid] for rid in sorted(merged)]


def compile_dir(folder: Path, metas: dict[str, Any] | None = None) -> list[Record]:
    return compile_files(folder.glob("*.toml"), metas=metas)


def _compact(record: Record) -> dict[str, Any]:
    # Defaults are left out: the compiled file is about half the size and loads faster.
    defaults = _defaults()
    out: dict[str, Any] = {}
    for name, value in vars(record).items():
        if name not in defaults or value != defaults[name]:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


#: The fields search filters read (``search_runner.matches``): a user catalog keeps their
#: distinct combinations apart, so a filter decodes no record.
FILTER_FIELDS = ("source", "kind", "tasks", "domains", "frameworks", "libraries", "license")


def _record_lines(compact: Sequence[Mapping[str, Any]]) -> list[str]:
    """The record store: one JSON line per (compact) record, in document order."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
    return [dumps(c) + "\n" for c in compact]


def _columns(records: Sequence[Mapping[str, Any]], lines: Sequence[str], sources: list[str], *, first: int = 0,
             prior_digits: int | None = 4) -> dict[str, Any]:
    """The facets search filters and sorts on without decoding a record: one column each.

    Columns, not a list per record: one string per flag decodes ~10x faster than 3,000
    lists. ``records`` are compact (``_compact``: defaults left out); ``sources`` lists the
    source names a record's one-character code indexes (it may hold more than these records
    use); documents are numbered from ``first``.
    """
    from .textindex import prior

    if len(sources) > 10:
        raise CatalogError(f"the catalog's ids name {len(sources)} sources; its compiled form codes a source in one "
                           "digit (at most 10)")
    code = {name: str(i) for i, name in enumerate(sources)}
    exact = prior_digits is None
    defaults = _defaults()
    curated = [r.get("curated", defaults["curated"]) for r in records]
    extras = [r.get("extra", defaults["extra"]) for r in records]
    priors = ((i, prior(c, r.get("downloadable", defaults["downloadable"]), x))
              for i, (r, c, x) in enumerate(zip(records, curated, extras, strict=True), first))
    return {
        "ids": [r["id"] for r in records],
        "names": [r["name"] for r in records],
        "sources": sources,
        "source": "".join(code[r["source"]] for r in records),
        "kind": "".join(r["kind"][0] for r in records),
        "curated": "".join("1" if c else "0" for c in curated),
        "default": "".join("1" if x.get("default") else "0" for x in extras),
        # Only the records whose prior is not 1, by document number (most bundled ones have none).
        "prior": {str(i): v for i, p in priors if (v := p if exact else round(p, prior_digits)) != 1.0},
        "sizes": [len(line.encode()) for line in lines],
    }


def compile_catalog(records: list[Record], metas: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The compiled catalog: (index part, one JSON line per record in document order)."""
    from .textindex import build_postings

    aliases = {}
    for r in records:
        if r.source == "torchvision" and r.extra.get("default"):
            aliases["torchvision:" + r.id.partition(":")[2].split(".")[0]] = r.id
    compact = [_compact(r) for r in records]
    lines = _record_lines(compact)
    index = build_postings(compact)
    docs = _columns(compact, lines, sorted({r.source for r in records}))
    return {"version": COMPILED_VERSION, "meta": dict(metas or {}), "aliases": aliases, "index": index,
            "docs": docs}, lines


class _Store:
    """Records as JSON lines in ``blob`` from byte ``start``, each decoded when first used."""

    def __init__(self, blob: Any, sizes: Sequence[int], start: int = 0) -> None:
        self.blob, self.sizes, self.start = blob, sizes, start
        self._offsets: list[int] | None = None
        self._entries: dict[int, dict[str, Any]] = {}

    def entry(self, i: int) -> dict[str, Any]:
        data = self._entries.get(i)
        if data is None:
            if self._offsets is None:
                import itertools

                self._offsets = list(itertools.accumulate(self.sizes, initial=self.start))
            data = self._entries[i] = json.loads(self.blob[self._offsets[i]:self._offsets[i + 1]])
        return data


class Catalog:
    """The compiled catalog. Records are decoded from their JSON line only when used.

    Documents ``0 .. bundled-1`` are the bundled catalog's; ZOOFIND_CATALOG_DIR's entries,
    when there are any, follow as documents of their own (``user``), each already merged
    with the bundled entry of its id, which it then shadows.
    """

    # A plain class: a dataclass costs ~1 ms to create at import, on every start.
    def __init__(self, blob: bytes, docs: Mapping[str, Any], aliases: dict[str, str], index_data: Mapping[str, Any],
                 meta: Mapping[str, Any] | None = None) -> None:
        self.blob = blob
        self.docs = docs
        self.ids: list[str] = docs["ids"]
        self.aliases = aliases
        self.index_data = index_data
        self.meta = meta or {}
        self.bundled = len(self.ids)
        self.user: UserCatalog | None = None
        self._store = _Store(blob, docs["sizes"])
        self._records: dict[int, Record] = {}
        self._by_id: dict[str, int] | None = None

    def facet(self, doc: int) -> tuple[str, str, str, bool, bool, str]:
        """(id, source, kind, curated, default weights, name) without decoding the record."""
        d = self.docs
        kind = "model" if d["kind"][doc] == "m" else "resource"
        return (self.ids[doc], d["sources"][int(d["source"][doc])], kind, d["curated"][doc] == "1",
                d["default"][doc] == "1", d["names"][doc])

    def entry(self, doc: int) -> dict[str, Any]:
        if doc >= self.bundled and self.user is not None:
            return self.user.store.entry(doc - self.bundled)
        return self._store.entry(doc)

    def filter_fields(self, doc: int) -> Mapping[str, Any]:
        """What search filters read of a document (``FILTER_FIELDS``, absent when empty), as ``entry`` has them."""
        if doc >= self.bundled and self.user is not None:
            return self.user.filter_fields(doc - self.bundled)
        return self.entry(doc)

    def record(self, doc: int) -> Record:
        rec = self._records.get(doc)
        if rec is None:
            rec = self._records[doc] = Record.from_dict(self.entry(doc))
        return rec

    def __len__(self) -> int:
        """How many documents, a shadowed bundled one and the user entry shadowing it both counted."""
        return len(self.ids)

    def add_user(self, user: UserCatalog) -> None:
        """Layer ZOOFIND_CATALOG_DIR's compiled entries on the bundled ones: the facet columns
        are joined (the user's source codes index the joined source list), nothing is decoded."""
        d = self.docs
        if user.first != self.bundled or user.docs["sources"][: len(d["sources"])] != d["sources"]:
            raise ValueError("the user catalog was compiled against another bundled catalog")
        u = user.docs
        self.docs = {
            **d, "ids": d["ids"] + u["ids"], "names": d["names"] + u["names"], "sources": u["sources"],
            **{col: d[col] + u[col] for col in ("source", "kind", "curated", "default")},
            "prior": {**d["prior"], **u["prior"]},
        }
        self.ids = self.docs["ids"]
        self.user = user
        self._by_id = None

    def shadowed(self, doc: int) -> bool:
        """A bundled document that a user entry of the same id replaces (merged into it)."""
        return self.user is not None and doc in self.user.shadowed

    @property
    def user_count(self) -> int:
        return len(self.user.docs["ids"]) if self.user else 0

    @property
    def extras(self) -> tuple[Record, ...]:
        """ZOOFIND_CATALOG_DIR's entries (merged with their bundled namesakes), all decoded."""
        return tuple(self.record(doc) for doc in range(self.bundled, len(self)))

    @property
    def total(self) -> int:
        """How many distinct records: bundled ones plus user entries with ids of their own."""
        return len(self) - (len(self.user.shadowed) if self.user else 0)

    def get(self, rid: str) -> Record | None:
        doc = self._doc(self.aliases.get(rid, rid))
        return None if doc is None else self.record(doc)

    def _doc(self, rid: str) -> int | None:
        if self._by_id is None:
            # Later documents win: a user entry over the bundled entry it shadows.
            self._by_id = {rid: i for i, rid in enumerate(self.ids)}
        return self._by_id.get(rid)

    def all_records(self) -> list[Record]:
        return [self.record(i) for i in range(len(self)) if not self.shadowed(i)]


class UserCatalog:
    """ZOOFIND_CATALOG_DIR's entries in the bundled catalog's compiled form: facet columns,
    prebuilt postings (scored with the bundled index's statistics) and a record store
    decoded only for what is shown. Documents are numbered from ``first``."""

    def __init__(self, first: int, index: Mapping[str, Any], store: _Store) -> None:
        self.first, self.store = first, store
        self.docs: Mapping[str, Any] = index["docs"]
        self.postings: Mapping[str, str] = index["postings"]
        self.weights: list[float] = index["weights"]
        self.shadowed = frozenset(index["shadowed"])
        self._filters: Mapping[str, Any] = index["filters"]
        self._filter_codes: list[int] | None = None
        docs = self.docs
        n = len(docs["ids"])
        if not all(len(docs[col]) == n for col in ("names", "source", "kind", "curated", "default", "sizes")) \
                or len(self._filters["codes"].split()) != n:
            raise ValueError("the user catalog's columns differ in length")

    def filter_fields(self, i: int) -> Mapping[str, Any]:
        """Entry ``i``'s ``FILTER_FIELDS``: one of the few distinct combinations, nothing decoded per entry."""
        if self._filter_codes is None:
            self._filter_codes = list(map(int, self._filters["codes"].split()))
        return self._filters["values"][self._filter_codes[i]]

    def index(self, base: TextIndex) -> LayeredIndex:
        """The entries' postings, scored as ``base`` scores a record (its idf, its field lengths)."""
        from .textindex import LayeredIndex

        return LayeredIndex(base, self.postings, self.weights, range(self.first, self.first + len(self.docs["ids"])))


#: Bump when the user catalog's compiled form changes: an older file is then a cache miss.
USER_CACHE_VERSION = 2


def compile_user(catalog: Catalog, files: Sequence[Path]) -> tuple[dict[str, Any], list[str]]:
    """ZOOFIND_CATALOG_DIR's files compiled to layer on ``catalog`` (bundled only):
    (index: columns, postings, shadowed documents; one JSON line per record).

    Each entry is validated (CatalogError naming file and entry), merged with the bundled
    entry of its id, and weighed against the bundled field lengths, exactly (not rounded)
    as ``TextIndex.score_fields`` weighs a record: the ranking is the one the entries had
    when every search tokenized them.
    """
    from .textindex import encode_postings, field_tokens, postings_of

    compact, shadowed = [], []
    for c in compile_compact(files):
        doc = catalog._doc(c["id"])
        if doc is not None:
            c = _compact(Record.from_dict(c).merged_with(catalog.record(doc)))
            shadowed.append(doc)
        compact.append(c)
    lines = _record_lines(compact)
    first = catalog.bundled
    bundled_sources = catalog.docs["sources"]
    sources = bundled_sources + sorted({c["source"] for c in compact} - set(bundled_sources))
    docs = _columns(compact, lines, sources, first=first, prior_digits=None)
    # The texts score_fields reads of the merged Record: a compact entry holds the same.
    postings = postings_of([field_tokens(c) for c in compact], catalog.index_data["avglen"], first=first)
    weights: list[float] = []
    encoded = encode_postings(postings, weights)
    combos: dict[tuple[Any, ...], int] = {}
    codes = []
    for c in compact:
        # Lists as tuples: a hashable key per combination.
        key = tuple((k, tuple(v) if isinstance(v, list) else v) for k in FILTER_FIELDS if (v := c.get(k)) is not None)
        codes.append(combos.setdefault(key, len(combos)))
    filters = {"values": [dict(key) for key in combos], "codes": " ".join(map(str, codes))}
    return {"docs": docs, "postings": encoded, "weights": weights, "filters": filters, "shadowed": shadowed}, lines


def _user_cache_file(folder: Path) -> Path | None:
    """Where the compiled form of ``folder`` is kept; None when there is no cache to use."""
    import hashlib

    from ..core import paths
    from ..core.errors import MissingHomeError

    try:
        cache = paths.cache_dir(os.environ)
    except MissingHomeError:
        return None  # never create a missing home: the files are compiled on every run instead
    return cache / "user-catalogs" / f"{hashlib.sha256(str(folder).encode()).hexdigest()[:24]}.jsonl"


def _read_user_cache(path: Path, want: Mapping[str, Any]) -> UserCatalog | None:
    """The compiled user catalog at ``path`` if it is whole and made from exactly these files, else None.

    The file: a key line (what it was made from, the other lines' length and CRC-32), the
    index line, then the records. A stale key costs reading one line; any damage (a
    truncated or foreign file, a flipped byte) fails a check and is a miss.
    """
    import zlib

    try:
        blob = _map(path)
        key_end = blob.find(b"\n") + 1
        key = json.loads(blob[:key_end])
        if not isinstance(key, dict) or {k: key.get(k) for k in want} != want:
            return None
        if len(blob) - key_end != key["length"] or zlib.crc32(memoryview(blob)[key_end:]) != key["crc32"]:
            return None
        index_end = blob.find(b"\n", key_end) + 1
        index = json.loads(blob[key_end:index_end])
        store = _Store(blob, index["docs"]["sizes"], index_end)
        if sum(store.sizes) != len(blob) - index_end:
            return None
        return UserCatalog(want["bundled"][0], index, store)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _write_user_cache(path: Path, want: Mapping[str, Any], index_line: bytes, records: bytes) -> None:
    """Write the compiled user catalog atomically; a cache that cannot be written only costs a compile next time."""
    import zlib

    from ..core.atomic import replacing

    crc = zlib.crc32(records, zlib.crc32(index_line))
    key = {**want, "length": len(index_line) + len(records), "crc32": crc}
    try:
        with replacing(path) as fh:
            fh.write(json.dumps(key, separators=(",", ":")).encode() + b"\n")
            fh.write(index_line)
            fh.write(records)
    except OSError:
        pass
    try:
        path.with_suffix(".json").unlink()  # the first cache format's file, if an earlier version left one
    except OSError:
        pass


def _add_user_catalog(catalog: Catalog, folder: Path) -> None:
    """Layer ZOOFIND_CATALOG_DIR's entries on ``catalog``, from zoofind's cache while nothing changed.

    Parsing TOML is most of the cost of a large user catalog (tomllib: ~100 us an entry), so
    the compiled form is kept in the cache folder, keyed by each file's name, size and
    modification time, by the folder, by zoofind's version and by the bundled catalog it
    was merged with and weighed against; a cache that cannot be read or written only costs
    the compile. A search then scores the prebuilt postings and decodes only shown records.
    """
    import gc

    from ..core.version import __version__

    folder = folder.resolve()
    files = sorted(folder.glob("*.toml"))
    try:
        stamp = [[f.name, st.st_size, st.st_mtime_ns] for f in files for st in (f.stat(),)]
        cached_at = _user_cache_file(folder)
    except OSError:
        stamp, cached_at = None, None
    bundled = [catalog.bundled, len(catalog.blob), catalog.index_data["avglen"]]
    want = {"version": USER_CACHE_VERSION, "zoofind": __version__, "folder": str(folder), "bundled": bundled,
            "files": stamp}
    # No cyclic garbage collection meanwhile: compiling and decoding allocate millions of
    # objects that stay alive, and each burst of allocations sets off collections that walk
    # all of them again, about half the CPU time of both (tomllib's included). Nothing here
    # makes cycles worth collecting.
    collecting = gc.isenabled()
    gc.disable()
    try:
        user = _read_user_cache(cached_at, want) if cached_at else None
        if user is None:
            index, lines = compile_user(catalog, files)
            records = "".join(lines).encode()
            if cached_at:
                _write_user_cache(cached_at, want,
                                  json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode() + b"\n",
                                  records)
            user = UserCatalog(catalog.bundled, index, _Store(records, index["docs"]["sizes"]))
        catalog.add_user(user)
    finally:
        if collecting:
            gc.enable()


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
