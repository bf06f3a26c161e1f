"""Your own catalog (``ZOOFIND_CATALOG_DIR``): its TOML files compiled into the bundled
catalog's form, layered on it, and kept compiled in zoofind's cache folder while the files
are unchanged.

A search over 100k entries of your own then scores prebuilt postings (weighed with the
bundled index's statistics) and decodes only the records it shows; parsing the TOML again
is paid only after an edit.
"""

from __future__ import annotations

import gc
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import paths
from ..core.atomic import replacing
from ..core.errors import MissingHomeError
from ..core.version import __version__
from ..models.records import Record
from .compile import columns, compact_record, compile_compact, record_lines
from .store import RecordStore, map_file
from .textindex import LayeredIndex, encode_postings, postings_of
from .words import field_tokens

if TYPE_CHECKING:
    from .store import Catalog
    from .textindex import TextIndex

#: The fields search filters read (``ops.find.matches``): a user catalog keeps their
#: distinct combinations apart, so a filter decodes no record.
FILTER_FIELDS = ("source", "kind", "tasks", "domains", "frameworks", "libraries", "license")


class UserCatalog:
    """ZOOFIND_CATALOG_DIR's entries in the bundled catalog's compiled form: facet columns,
    prebuilt postings (scored with the bundled index's statistics) and a record store
    decoded only for what is shown. Documents are numbered from ``first``."""

    def __init__(self, first: int, index: Mapping[str, Any], store: RecordStore) -> None:
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
        return LayeredIndex(base, self.postings, self.weights, range(self.first, self.first + len(self.docs["ids"])))


#: Bump when the user catalog's compiled form changes: an older file is then a cache miss.
USER_CACHE_VERSION = 3


def compile_user(catalog: Catalog, files: Sequence[Path]) -> tuple[dict[str, Any], list[str]]:
    """ZOOFIND_CATALOG_DIR's files compiled to layer on ``catalog`` (bundled only):
    (index: columns, postings, shadowed documents; one JSON line per record).

    Each entry is validated (CatalogError naming file and entry), merged with the bundled
    entry of its id, and weighed against the bundled field lengths, exactly (not rounded)
    as ``TextIndex.score_fields`` weighs a record: the ranking is the one the entries had
    when every search tokenized them.
    """
    compact, shadowed = [], []
    for c in compile_compact(files):
        doc = catalog.doc_of(c["id"])
        if doc is not None:
            c = compact_record(Record.from_dict(c).merged_with(catalog.record(doc)))
            shadowed.append(doc)
        compact.append(c)
    lines = record_lines(compact)
    first = catalog.bundled
    bundled_sources = catalog.docs["sources"]
    sources = bundled_sources + sorted({c["source"] for c in compact} - set(bundled_sources))
    docs = columns(compact, lines, sources, first=first, prior_digits=None)
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


def user_cache_file(folder: Path, environ: Mapping[str, str]) -> Path | None:
    """Where the compiled form of ``folder`` is kept (in ``environ``'s cache folder); None when
    there is no cache to use."""
    try:
        cache = paths.cache_dir(environ)
    except MissingHomeError:
        return None  # never create a missing home: the files are compiled on every run instead
    return cache / "user-catalogs" / f"{hashlib.sha256(str(folder).encode()).hexdigest()[:24]}.jsonl"


def read_user_cache(path: Path, want: Mapping[str, Any]) -> UserCatalog | None:
    """The compiled user catalog at ``path`` if it is whole and made from exactly these files, else None.

    The file: a key line (what it was made from, the other lines' length and CRC-32), the
    index line, then the records. A stale key costs reading one line; any damage (a
    truncated or foreign file, a flipped byte) fails a check and is a miss.
    """
    try:
        blob = map_file(path)
        key_end = blob.find(b"\n") + 1
        key = json.loads(blob[:key_end])
        if not isinstance(key, dict) or {k: key.get(k) for k in want} != want:
            return None
        if len(blob) - key_end != key["length"] or zlib.crc32(memoryview(blob)[key_end:]) != key["crc32"]:
            return None
        index_end = blob.find(b"\n", key_end) + 1
        index = json.loads(blob[key_end:index_end])
        store = RecordStore(blob, index["docs"]["sizes"], index_end)
        if sum(store.sizes) != len(blob) - index_end:
            return None
        return UserCatalog(want["bundled"][0], index, store)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def write_user_cache(path: Path, want: Mapping[str, Any], index_line: bytes, records: bytes) -> None:
    """Write the compiled user catalog atomically; a cache that cannot be written only costs a compile next time."""
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


#: A user folder (resolved), its catalog files, and each file's name, size and modification
#: time (None when one cannot be read).
FolderState = tuple[Path, list[Path], list[list[Any]] | None]


def folder_state(folder: Path) -> FolderState:
    """The folder (resolved), its catalog files, and what they are now: each file's name, size
    and modification time (None when one cannot be read). The same state means the same catalog."""
    folder = folder.resolve()
    files = sorted(folder.glob("*.toml"))
    try:
        return folder, files, [[f.name, st.st_size, st.st_mtime_ns] for f in files for st in (f.stat(),)]
    except OSError:
        return folder, files, None


def layered(catalog: Catalog, state: FolderState, environ: Mapping[str, str]) -> Catalog:
    """``catalog`` (the bundled one) with the entries of a folder (in ``state``, as
    ``folder_state`` read it) layered on, from the compiled form in ``environ``'s cache
    folder while nothing changed.

    Parsing TOML is most of the cost of a large user catalog (tomllib: ~100 us an entry), so
    the compiled form is kept in the cache folder, keyed by each file's name, size and
    modification time, by the folder, by zoofind's version and by the bundled catalog it
    was merged with and weighed against; a cache that cannot be read or written only costs
    the compile. A search then scores the prebuilt postings and decodes only shown records.
    """
    folder, files, stamp = state
    try:
        cached_at = user_cache_file(folder, environ) if stamp is not None else None
    except OSError:
        cached_at = None
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
        user = read_user_cache(cached_at, want) if cached_at else None
        if user is None:
            index, lines = compile_user(catalog, files)
            records = "".join(lines).encode()
            if cached_at:
                write_user_cache(cached_at, want,
                                 json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode() + b"\n",
                                 records)
            user = UserCatalog(catalog.bundled, index, RecordStore(records, index["docs"]["sizes"]))
        return catalog.with_user(user)
    finally:
        if collecting:
            gc.enable()
