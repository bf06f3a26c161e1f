"""Keras applications (``keras.applications``) as a hub: ``keras:<Application>[/<option>...]``, and
KerasHub presets, ``keras:preset/<name>``.

* ``variants``: the id grammar (an application and the options that choose its weights file; a preset).
* ``presets``: keras_hub's preset registry read into catalog entries (``scripts/build_keras_hub.py``
  writes ``catalog/keras_hub.toml``), and the id of the model a preset's handle names: a preset is
  pulled, locked and cached as that hub's model (Kaggle's, through the registry).
* ``home``: Keras's own folder, ``$KERAS_HOME/models`` (default ``~/.keras/models``), as
  ``keras.utils.get_file`` computes it, and its place in the shared tier.
* ``snapshot``: the installed Keras's weight tables read into catalog entries (imports keras);
  ``scripts/build_keras.py`` writes the bundled snapshot ``catalog/keras.toml`` with it.
* ``source``: ``KerasSource``: search, info and a model's file from the bundled snapshot.
* ``pull``: ``KerasPull`` and ``KerasLock``: weights into Keras's folder, checked against the
  hash Keras itself checks (md5 or sha256, by length) before they appear.
* ``classindex``: ImageNet's class index (``imagenet_class_index.json``), which ``decode_predictions``
  reads from the same folder: pulled beside weights with ImageNet's top, checked against Keras's md5.
* ``cache``, ``bundle``: the ``cache`` and ``bundle`` abilities over that folder.

This module is imported on the offline search path: it only declares the hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import lazy
from ..spec import SourceSpec
from .variants import REF_PATTERN, application, normalise

if TYPE_CHECKING:
    from .. import Registry

#: Where every ``keras.applications`` weights file is downloaded from (``ZOOFIND_KERAS_ENDPOINT`` replaces it).
DEFAULT_ENDPOINT = "https://storage.googleapis.com/tensorflow/keras-applications"

SPEC = SourceSpec(
    name="keras",
    title="Keras applications (keras.applications ImageNet weights; bundled snapshot)",
    network=False,  # the snapshot answers; only the weights files come from the network
    searches=False,
    ref_pattern=REF_PATTERN,
    example="keras:ResNet50[/notop]",
    normalise=normalise,
    family=application,
    endpoint_variable="ZOOFIND_KERAS_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "KerasSource"),
        pull=lazy(f"{__name__}.pull", "KerasPull"),
        lock=lazy(f"{__name__}.pull", "KerasLock"),
        cache=lazy(f"{__name__}.cache", "KerasCache"),
        bundle=lazy(f"{__name__}.bundle", "KerasBundles"),
    )
