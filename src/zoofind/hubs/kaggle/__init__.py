"""Kaggle Models as a source: TensorFlow models from Kaggle's model listing, called as kagglesdk calls it.

* ``auth``: the credentials, found where kagglesdk and the ``kaggle`` CLI look for them.
* ``api``: the RPC protocol (``POST`` JSON to ``models.ModelApiService``) over the network
  layer, paging, and Kaggle's error bodies -> zoofind's error kinds.
* ``mapping``: Kaggle's vocabulary (framework spellings, sort orders) and ApiModel JSON ->
  zoofind's ``Record``.
* ``source``: ``KaggleSource``, which the registry makes on first use.
* ``model_cache``: kagglehub's model cache (version folders and ``.complete`` markers) and
  placing a version in it.
* ``cache``: the ``cache`` ability (``cache ls/verify/rm/prune/path`` over that cache).
* ``pull``: ``KagglePull`` and ``KaggleLock``: plan, place and pin into kagglehub's cache.
* ``cite``: ``KaggleCite``, the BibTeX of a model's card (its description and the variation's
  overview and usage), answer-cached.

This module only declares the source (it is imported on the offline search path: no
httpx, no tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://api.kaggle.com"
_PART = r"[A-Za-z0-9_.-]+"
#: owner/model/framework/variation, optionally /version (Kaggle's own handle for a model variation).
REF_PATTERN = rf"{_PART}/{_PART}/{_PART}/{_PART}(?:/\d+)?"

def family(ref: str) -> str:
    """google/yamnet/tensorFlow2/yamnet -> google/yamnet: the frameworks and variations of one model."""
    return "/".join(ref.split("/")[:2])


SPEC = SourceSpec(
    name="kaggle",
    title="Kaggle Models (TensorFlow models, through Kaggle's public API; needs credentials)",
    network=True,
    searches=True,
    ref_pattern=REF_PATTERN,
    example="kaggle:owner/model/framework/variation",
    family=family,
    url_prefixes=("https://www.kaggle.com/models/", "https://kaggle.com/models/", "www.kaggle.com/models/"),
    endpoint_variable="ZOOFIND_KAGGLE_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "KaggleSource"),
        pull=lazy(f"{__name__}.pull", "KagglePull"),
        lock=lazy(f"{__name__}.pull", "KaggleLock"),
        cache=lazy(f"{__name__}.cache", "KaggleCache"),
        cite=lazy(f"{__name__}.cite", "KaggleCite"),
    )
