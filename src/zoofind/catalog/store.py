"""The compiled catalog as search reads it: ``Catalog`` (facet columns, the index's data, and
records decoded from their JSON line only when used) and the bundled catalog's files.

Loading the compiled JSON is ~5x faster than parsing the TOML, which keeps
``zoofind search --offline`` near the cost of importing Typer; the records file is mapped,
not read, so only the ~20 records shown are touched.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import CatalogError
from ..models.records import KINDS, Record

if TYPE_CHECKING:
    from typing import Protocol

    from .textindex import LayeredIndex, TextIndex

    # For type checkers only: defining a protocol class costs every search start-up ~0.5 ms.
    class UserLayer(Protocol):
        """What a catalog and its search read of the user entries layered on it (``user.UserCatalog``,
        which imports this module: the layer is described here rather than imported)."""

        first: int
        docs: Mapping[str, Any]
        store: RecordStore
        shadowed: frozenset[int]

        def filter_fields(self, i: int) -> Mapping[str, Any]: ...

        def index(self, base: TextIndex) -> LayeredIndex: ...


#: The catalog's own source name (``catalog:<slug>`` ids); the search runner scores it in-process.
SOURCE = "catalog"
COMPILED_VERSION = 1
DATA_DIR = Path(__file__).parent.parent / "_data"
COMPILED_PATH = DATA_DIR / "catalog.json"
RECORDS_PATH = DATA_DIR / "records.jsonl"
#: The compiled ``kind`` column keeps each record's kind as its first letter (``compile.py``).
_KIND_LETTERS = {kind[0]: kind for kind in KINDS}


class RecordStore:
    """Records as JSON lines in ``blob`` from byte ``start``, each decoded when first used."""

    def __init__(self, blob: Any, sizes: Sequence[int], start: int = 0) -> None:
        self.blob, self.sizes, self.start = blob, sizes, start
        self._offsets: list[int] | None = None
        self._entries: dict[int, dict[str, Any]] = {}

    def entry(self, i: int) -> dict[str, Any]:
        data = self._entries.get(i)
        if data is None:
            if self._offsets is None:
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
        self.user: UserLayer | None = None
        self._store = RecordStore(blob, docs["sizes"])
        self._records: dict[int, Record] = {}
        self._by_id: dict[str, int] | None = None

    def facet(self, doc: int) -> tuple[str, str, str, bool, bool, str]:
        """(id, source, kind, curated, default weights, name) without decoding the record."""
        d = self.docs
        return (self.ids[doc], d["sources"][int(d["source"][doc])], _KIND_LETTERS[d["kind"][doc]],
                d["curated"][doc] == "1", d["default"][doc] == "1", d["names"][doc])

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

    def with_user(self, user: UserLayer) -> Catalog:
        """This (bundled) catalog with ZOOFIND_CATALOG_DIR's compiled entries layered on, as a
        new Catalog: the facet columns are joined (the user's source codes index the joined
        source list), nothing is decoded, and the bundled records already decoded are shared."""
        d = self.docs
        if self.user is not None or user.first != self.bundled \
                or user.docs["sources"][: len(d["sources"])] != d["sources"]:
            raise ValueError("the user catalog was compiled against another bundled catalog")
        u = user.docs
        docs = {
            **d, "ids": d["ids"] + u["ids"], "names": d["names"] + u["names"], "sources": u["sources"],
            **{col: d[col] + u[col] for col in ("source", "kind", "curated", "default")},
            "prior": {**d["prior"], **u["prior"]},
        }
        layered = Catalog(self.blob, docs, self.aliases, self.index_data, self.meta)
        layered.bundled, layered.user, layered._store = self.bundled, user, self._store
        return layered

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
        doc = self.doc_of(self.aliases.get(rid, rid))
        return None if doc is None else self.record(doc)

    def doc_of(self, rid: str) -> int | None:
        if self._by_id is None:
            # Later documents win: a user entry over the bundled entry it shadows.
            self._by_id = {rid: i for i, rid in enumerate(self.ids)}
        return self._by_id.get(rid)

    def all_records(self) -> list[Record]:
        return [self.record(i) for i in range(len(self)) if not self.shadowed(i)]




def map_file(path: Path) -> Any:
    """A records file, mapped rather than read: only the ~20 records shown are touched."""
    # lazy: mmap only when a records file is read: off cache path/verify/prune and completion start-up
    import mmap

    with path.open("rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # an empty file, or a file system without mmap
            return fh.read()


def load_bundled() -> Catalog:
    """The bundled catalog as compiled into ``zoofind/_data``; CatalogError when it is missing or damaged."""
    try:
        data = json.loads(COMPILED_PATH.read_bytes())
        if data.get("version") != COMPILED_VERSION:
            raise ValueError(f"compiled catalog version {data.get('version')!r}")
        blob = map_file(RECORDS_PATH)
        docs = data["docs"]
        if sum(docs["sizes"]) != len(blob) or len(docs["ids"]) != len(docs["sizes"]):
            raise ValueError(f"{RECORDS_PATH.name} does not match the index")
        return Catalog(blob, docs, data["aliases"], data["index"], data.get("meta"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(
            f"the bundled catalog in {DATA_DIR} is missing or damaged ({exc})",
            hint="reinstall zoofind; in a source checkout run `python scripts/build_catalog.py`",
        ) from None
