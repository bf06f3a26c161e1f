"""The hubs: what a hub is and can do, the registry of them, and one package per built-in hub.

* ``spec``: ``SourceSpec``, what a hub is (name, id grammar, endpoint), cheap to import.
* ``base``: the search ability (``Source``: search, info, status) and the plain data it
  exchanges (``SearchQuery``, ``FileEntry``, ``SourceAnswer``, ``SourceStatus``).
* ``protocol`` (with the leaf ``abilities``): every other ability a hub may have (``Pulls``,
  ``Locks``, ``Bundles``, ``Caches``, ``Cites``) and what each must do: the one place that says it.
* ``registry`` (with ``discovery``): the only list of hubs, found through the
  ``zoofind.sources`` entry points, built-ins exactly as plugins.
* ``ids``: the id grammar, built from the registered specs.
* ``jsonread``: a hub's JSON read field by field where it enters.
* ``pulling``: what the hubs' pull abilities share.
* ``cardbib``: the BibTeX blocks of a model card (Markdown) as references, for the cite abilities.
* ``hf``, ``torchvision``, ``tfhub``, ``kaggle``, ``bioimageio``, ``keras``, ``torchhub``,
  ``zenodo``: the built-in hubs, one package each; ``catalog``: the bundled catalog's search (a
  module: it only searches).

This face hands on what a hub package or a caller needs from here.
"""

from __future__ import annotations

from .base import SearchQuery
from .jsonread import (
    FieldReader,
    Repairs,
    dropped,
    json_bool,
    json_date,
    json_int,
    json_list,
    json_object,
    json_str,
    json_strs,
    json_text,
    read_fields,
)
from .registry import ENTRY_POINT_GROUP, Registry, get, lazy, names, registry, statuses

__all__ = [
    "ENTRY_POINT_GROUP", "FieldReader", "Registry", "Repairs", "SearchQuery", "dropped", "get", "json_bool",
    "json_date", "json_int", "json_list", "json_object", "json_str", "json_strs", "json_text", "lazy", "names",
    "read_fields", "registry", "statuses",
]
