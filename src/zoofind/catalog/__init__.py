"""The catalog floor: the bundled catalog, your own catalog files layered on it, and the
vocabularies its entries use.

* ``schema``: what an entry may hold and the checks every entry passes (``validate_entry``).
* ``compile``: TOML files -> the compact compiled form (``compile_dir``, ``compile_catalog``);
  ``scripts/build_catalog.py`` writes the bundled one to ``zoofind/_data``.
* ``store``: ``Catalog``, the compiled form as search reads it (facets, records decoded lazily).
* ``user``: ``ZOOFIND_CATALOG_DIR``'s files compiled, cached and layered on the bundled catalog.
* ``words`` and ``textindex``: the text index (tokenizing; BM25F postings and scoring).
* ``tasks`` and ``frameworks``: the task vocabulary and the library table.

This module is the face the rest of zoofind uses: ``load`` (the catalog a call sees),
``reset``, ``Catalog`` and the compiled files' names.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import CatalogError
from .store import COMPILED_PATH, DATA_DIR, RECORDS_PATH, SOURCE, Catalog, load_bundled

__all__ = ["COMPILED_PATH", "DATA_DIR", "ENV_CATALOG_DIR", "RECORDS_PATH", "SOURCE", "Catalog", "load", "reset"]

ENV_CATALOG_DIR = "ZOOFIND_CATALOG_DIR"
_LOADED: Catalog | None = None


def load() -> Catalog:
    """The compiled bundled catalog plus ZOOFIND_CATALOG_DIR's files (cached per process)."""
    global _LOADED
    if _LOADED is None:
        catalog = load_bundled()
        extra_dir = os.environ.get(ENV_CATALOG_DIR)
        if extra_dir:
            from .user import add_user_catalog

            folder = Path(extra_dir).expanduser()
            if not folder.is_dir():
                raise CatalogError(f"{ENV_CATALOG_DIR}={extra_dir} is not a folder")
            add_user_catalog(catalog, folder)
        _LOADED = catalog
    return _LOADED


def reset() -> None:
    """Forget the loaded catalog (tests change ZOOFIND_CATALOG_DIR between runs)."""
    global _LOADED
    _LOADED = None
