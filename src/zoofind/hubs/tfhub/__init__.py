"""TF Hub: the bundled tfhub.dev index answers searches; ``info`` checks a handle live.

* ``source``: ``TfhubSource`` and the redirect walk (tfhub.dev now redirects to Kaggle Models).
* ``pull``: ``TfhubPull`` and ``TfhubLock``: the module archive into tensorflow_hub's cache, extracted,
  and pinned with its archive's sha256.
* ``module_cache``: tensorflow_hub's module cache (folders named by the handle URL's sha1, their
  descriptors), extracting an archive into it and placing a folder.
* ``cache``: the ``cache`` ability (``cache ls/verify/rm/prune/path`` over that cache).
* ``bundle``: the ``bundle`` ability (a module's folder, filled beside it and renamed into place by an import).
* ``cite``: the ``cite`` ability: the card of the page the handle moved to, read by that page's hub.

This module only declares the source (it is imported on the offline search path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://tfhub.dev"


def family(ref: str) -> str:
    """google/yamnet/1 -> google/yamnet: the versions of one model."""
    head, _, tail = ref.rpartition("/")
    return head if tail.isdigit() and head else ref


SPEC = SourceSpec(
    name="tfhub",
    title="TF Hub (bundled tfhub.dev index; live check of where a handle redirects on Kaggle Models)",
    network=True,  # `info` resolves the handle live; searches use the bundled index
    searches=False,
    ref_pattern=r"(?!.*\.\.)[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+",
    example="tfhub:google/yamnet/1",
    url_prefixes=("https://tfhub.dev/", "http://tfhub.dev/", "tfhub.dev/"),
    family=family,
    endpoint_variable="ZOOFIND_TFHUB_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "TfhubSource"),
        pull=lazy(f"{__name__}.pull", "TfhubPull"),
        lock=lazy(f"{__name__}.pull", "TfhubLock"),
        cache=lazy(f"{__name__}.cache", "TfhubCache"),
        bundle=lazy(f"{__name__}.bundle", "TfhubBundles"),
        cite=lazy(f"{__name__}.cite", "TfhubCite"),
    )
