"""The catalog floor: the bundled catalog, your own catalog files layered on it, and the
vocabularies its entries use.

* ``schema``: what an entry may hold and the checks every entry passes (``validate_entry``).
* ``compile``: TOML files -> the compact compiled form (``compile_dir``, ``compile_catalog``);
  ``scripts/build_catalog.py`` writes the bundled one to ``zoofind/_data``.
* ``store``: ``Catalog``, the compiled form as search reads it (facets, records decoded lazily).
* ``user``: ``ZOOFIND_CATALOG_DIR``'s files compiled, cached and layered on the bundled catalog.
* ``words`` and ``textindex``: the text index (tokenizing; BM25F postings and scoring).
* ``tasks`` and ``frameworks``: the task vocabulary and the library table; ``software``: how each
  library's owners ask to be cited (``software.toml``, for ``cite --with-software``).

This module is the face the rest of zoofind uses: ``load`` (the catalog a call sees),
``reset``, ``Catalog`` and the compiled files' names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import CatalogError
from .store import COMPILED_PATH, DATA_DIR, RECORDS_PATH, SOURCE, Catalog, load_bundled

if TYPE_CHECKING:
    from ..core.context import Context

__all__ = ["COMPILED_PATH", "DATA_DIR", "ENV_CATALOG_DIR", "RECORDS_PATH", "SOURCE", "Catalog", "bundled", "load",
           "reset"]

ENV_CATALOG_DIR = "ZOOFIND_CATALOG_DIR"
#: How many user folders' catalogs one process keeps loaded (a long-lived process serving
#: contexts with different folders); the oldest is dropped first.
MAX_LAYERED = 8
_BUNDLED: Catalog | None = None
#: Folder -> (its files' state when layered, the catalog): see ``user.folder_state``.
_LAYERED: dict[str, tuple[list[list[Any]], Catalog]] = {}


def bundled() -> Catalog:
    """The bundled catalog alone (loaded once a process): for what only it holds, its snapshots' versions."""
    global _BUNDLED
    if _BUNDLED is None:
        _BUNDLED = load_bundled()
    return _BUNDLED


def load(ctx: Context | None = None) -> Catalog:
    """The catalog a call sees: the bundled one, with the folder its context's environment
    names in ZOOFIND_CATALOG_DIR layered on (``ctx`` None: this process's environment).

    Kept per process by what it depends on: the bundled catalog once, a layered one by its
    folder and the state of the folder's files, so two contexts naming different folders
    each see their own, and a file edited meanwhile is read again.
    """
    global _LAYERED
    base = bundled()
    environ = os.environ if ctx is None else ctx.environ
    extra_dir = environ.get(ENV_CATALOG_DIR)
    if not extra_dir:
        return base
    folder = Path(extra_dir).expanduser()
    if not folder.is_dir():
        raise CatalogError(f"{ENV_CATALOG_DIR}={extra_dir} is not a folder")
    # lazy: the user layer only when ZOOFIND_CATALOG_DIR is set: off every start-up on the bundled catalog
    from .user import folder_state, layered

    state = folder_state(folder)
    key, stamp = str(state[0]), state[2]
    seen = _LAYERED.get(key)
    if seen is not None and stamp is not None and seen[0] == stamp:
        return seen[1]
    catalog = layered(base, state, environ)
    if stamp is not None:
        # A new dict, never one changed in place: another thread may be reading the old one.
        kept = [(k, v) for k, v in _LAYERED.items() if k != key][1 - MAX_LAYERED:]
        _LAYERED = {**dict(kept), key: (stamp, catalog)}
    return catalog


def reset() -> None:
    """Forget every loaded catalog (tests change the bundled files or the folders' files)."""
    global _BUNDLED, _LAYERED
    _BUNDLED = None
    _LAYERED = {}
