"""Kaggle Models: TensorFlow models from Kaggle's model listing, called as kagglesdk calls it.

* ``source``: credentials, the RPC over the network layer, the records and ``KaggleSource``.

This module only declares the source (it is imported on the offline search path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://api.kaggle.com"

SPEC = SourceSpec(
    name="kaggle",
    title="Kaggle Models (TensorFlow models, through Kaggle's public API; needs credentials)",
    network=True,
    searches=True,
    ref_pattern=r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/\d+)?",
    example="kaggle:owner/model/framework/variation",
    url_prefixes=("https://www.kaggle.com/models/", "https://kaggle.com/models/", "www.kaggle.com/models/"),
    endpoint_variable="ZOOFIND_KAGGLE_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def _make():  # noqa: ANN202 - the source class, imported only when used
    from .source import KaggleSource

    return KaggleSource()


def register(registry: "Registry") -> None:
    registry.register(SPEC, _make)
