"""Kaggle as a source: TensorFlow models from Kaggle's model listing, and Kaggle datasets, called as
kagglesdk calls them (a model: ``kaggle:owner/model/framework/variation[/version]``; a dataset:
``kaggle:datasets/owner/name[/version]``, the ``datasets/`` prefix as kaggle.com's own addresses).

* ``auth``: the credentials, found where kagglesdk and the ``kaggle`` CLI look for them.
* ``api``: the RPC protocol (``POST`` JSON to ``models.ModelApiService`` and, for ``datasets``,
  ``datasets.DatasetApiService``) over the network layer, paging, download redirects, and
  Kaggle's error bodies -> zoofind's error kinds.
* ``mapping``: Kaggle's vocabulary (framework spellings, sort orders) and ApiModel JSON ->
  zoofind's ``Record``.
* ``source``: ``KaggleSource``, which the registry makes on first use.
* ``model_cache``: kagglehub's model cache (version folders and ``.complete`` markers) and
  placing a version (a model's or a dataset's: files or an archive) in kagglehub's cache.
* ``cache``: the ``cache`` ability (``cache ls/verify/rm/prune/path`` over both caches).
* ``pull``: ``KagglePull`` and ``KaggleLock``: plan, place and pin models and datasets into
  kagglehub's cache (a dataset version: one zip, extracted when placed).
* ``cite``: ``KaggleCite``, the BibTeX of a model's card (its description and the variation's
  overview and usage), answer-cached.
* ``bundle``: ``KaggleBundles``: where a locked version's files sit for ``export`` and go on ``import``.
* ``datasets``: the dataset service's RPCs (``datasets.DatasetApiService``) and ApiDataset JSON
  -> ``Record`` (kind ``dataset``).
* ``dataset_cache``: kagglehub's dataset cache (``datasets/<owner>/<name>/versions/<n>`` and the
  ``<n>.complete`` marker beside ``versions/``).

This module only declares the source (it is imported on the offline search path: no
HTTP stack, no tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import UsageError
from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://api.kaggle.com"
_PART = r"[A-Za-z0-9_.-]+"
#: What names a dataset rather than a model (kaggle.com's own address: /datasets/owner/name).
DATASETS = "datasets"
#: owner/model/framework/variation, optionally /version (Kaggle's own handle for a model variation), or
#: datasets/owner/name, optionally /version (a dataset; an owner named "datasets" has no models here).
REF_PATTERN = (rf"{DATASETS}/{_PART}/{_PART}(?:/\d+)?"
               rf"|(?!{DATASETS}/){_PART}/{_PART}/{_PART}/{_PART}(?:/\d+)?")


def is_dataset(ref: str) -> bool:
    return ref.startswith(f"{DATASETS}/")


def family(ref: str) -> str:
    """google/yamnet/tensorFlow2/yamnet -> google/yamnet: the frameworks and variations of one model;
    datasets/owner/name/3 -> datasets/owner/name: the versions of one dataset."""
    return "/".join(ref.split("/")[:3 if is_dataset(ref) else 2])


def normalise(ref: str) -> str:
    """kagglehub's versioned dataset handle, ``owner/name/versions/3``, written as zoofind's ``.../3``;
    a ``.`` or ``..`` part (a handle naming a folder outside kagglehub's cache) is refused."""
    parts = ref.strip("/").split("/")
    if any(p in (".", "..") for p in parts):
        raise UsageError(f"malformed kaggle id {ref!r}: '.' and '..' name no Kaggle owner, model or dataset",
                         hint="write it as kaggle:owner/model/framework/variation or kaggle:datasets/owner/name")
    if len(parts) == 5 and parts[0] == DATASETS and parts[3] == "versions":
        return "/".join([*parts[:3], parts[4]])
    return "/".join(parts)


def ref_from_url(path: str) -> str:
    """A kaggle.com address's path: ``models/...`` names a model, ``datasets/...`` a dataset."""
    head, _, rest = path.partition("/")
    return rest if head == "models" else normalise(path)


SPEC = SourceSpec(
    name="kaggle",
    title=("Kaggle Models and Datasets (TensorFlow models and datasets, through Kaggle's public API; "
           "searching needs credentials)"),
    network=True,
    searches=True,
    ref_pattern=REF_PATTERN,
    example="kaggle:owner/model/framework/variation, kaggle:datasets/owner/name",
    family=family,
    normalise=normalise,
    ref_from_url=ref_from_url,
    url_prefixes=("https://www.kaggle.com/", "https://kaggle.com/", "www.kaggle.com/"),
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
        bundle=lazy(f"{__name__}.bundle", "KaggleBundles"),
    )
