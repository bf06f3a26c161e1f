"""TOML catalog files -> the compact form search loads: validated entries, merged layers,
facet columns and the prebuilt text index.

``compile_dir`` reads a folder of catalog files (``read_file``: one ``[meta]`` table and
``[[entry]]`` tables), validates each entry (``schema``) and merges a curated entry with
the snapshot entry of its id; ``compile_catalog`` turns the records into the bundled
catalog's compiled form (``scripts/build_catalog.py`` writes it to ``zoofind/_data``);
a user catalog is compiled from the same pieces (``user.compile_user``).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..core.errors import CatalogError
from ..core.tomlread import loads, tomllib
from ..models.records import Record
from .schema import LAYERS, MAX_EXTRA_DEPTH, META_KEYS, json_safe, validate_entry
from .store import COMPILED_VERSION
from .textindex import build_postings, prior


def entry_to_compact(entry: Mapping[str, Any], curated: bool) -> dict[str, Any]:
    """A valid entry as the compiled catalog stores it: its Record's fields, defaults left out
    (what ``compact_record`` makes of ``entry_to_record``), without making the Record."""
    defaults = record_defaults()
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


def record_defaults() -> dict[str, Any]:
    """Each Record field's default, but for the four every record sets."""
    global _DEFAULTS
    if _DEFAULTS is None:
        blank = Record(id="", source="", kind="", name="")
        _DEFAULTS = {name: getattr(blank, name) for name in _RECORD_FIELDS
                     if name not in ("id", "source", "kind", "name")}
    return _DEFAULTS


def read_file(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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
        data = loads(text)  # rtoml where installed; a broken file's message is tomllib's
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
        if rid in merged:
            c = compact_record(Record.from_dict(c).merged_with(Record.from_dict(merged[rid])))
        merged[rid] = c
    return [merged[rid] for rid in sorted(merged)]


def compile_dir(folder: Path, metas: dict[str, Any] | None = None) -> list[Record]:
    return compile_files(folder.glob("*.toml"), metas=metas)


def compact_record(record: Record) -> dict[str, Any]:
    # Defaults are left out: the compiled file is about half the size and loads faster.
    defaults = record_defaults()
    out: dict[str, Any] = {}
    for name, value in vars(record).items():
        if name not in defaults or value != defaults[name]:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


#: The fields search filters read (``search_runner.matches``): a user catalog keeps their
#: distinct combinations apart, so a filter decodes no record.
FILTER_FIELDS = ("source", "kind", "tasks", "domains", "frameworks", "libraries", "license")


def record_lines(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """The record store: one JSON line per (compact) record, in document order."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
    return [dumps(c) + "\n" for c in entries]


def columns(records: Sequence[Mapping[str, Any]], lines: Sequence[str], sources: list[str], *, first: int = 0,
             prior_digits: int | None = 4) -> dict[str, Any]:
    """The facets search filters and sorts on without decoding a record: one column each.

    Columns, not a list per record: one string per flag decodes ~10x faster than 3,000
    lists. ``records`` are compact (``compact_record``: defaults left out); ``sources`` lists the
    source names a record's one-character code indexes (it may hold more than these records
    use); documents are numbered from ``first``.
    """
    if len(sources) > 10:
        raise CatalogError(f"the catalog's ids name {len(sources)} sources; its compiled form codes a source in one "
                           "digit (at most 10)")
    code = {name: str(i) for i, name in enumerate(sources)}
    exact = prior_digits is None
    defaults = record_defaults()
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


def compile_catalog(records: list[Record], metas: Mapping[str, Any] | None = None,
                    aliases: Mapping[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The compiled catalog: (index part, one JSON line per record in document order).

    ``aliases``: ids that name another record (``Catalog.get`` follows them), as the hubs
    declare them (``hubs.catalog.aliases``): the catalog knows no hub's ids.
    """
    compact = [compact_record(r) for r in records]
    lines = record_lines(compact)
    index = build_postings(compact)
    docs = columns(compact, lines, sorted({r.source for r in records}))
    return {"version": COMPILED_VERSION, "meta": dict(metas or {}), "aliases": dict(aliases or {}), "index": index,
            "docs": docs}, lines
