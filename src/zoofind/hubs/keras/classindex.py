"""ImageNet's class index, the file ``decode_predictions`` reads beside the weights.

Every ``keras.applications`` module's ``decode_predictions`` is ``imagenet_utils.decode_predictions``
(keras/src/applications/imagenet_utils.py), which asks ``keras.utils.get_file("imagenet_class_index.json",
CLASS_INDEX_PATH, cache_subdir="models", file_hash="c2c37ea5...")`` the first time it runs: without
the file there, the first prediction decoded on an offline machine fails. So a pull of an
application whose top classifies ImageNet (its entry's ``include_top``: 1,000 classes) places it
too, checked against that md5 (and the size of the bytes that have it, 35,363), under the name Keras
asks for; a lock pins it beside the weights and a bundle carries it.

The file is not in the weights' folder on Cloud Storage but in the ``download.tensorflow.org``
bucket of the same host. A mirror named by ``ZOOFIND_KERAS_ENDPOINT`` (the
``tensorflow/keras-applications`` folder) serves it where that host does, relative to it:
``<endpoint>/../../download.tensorflow.org/data/imagenet_class_index.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from ...models.files import FileEntry
from . import DEFAULT_ENDPOINT

NAME = "imagenet_class_index.json"
#: keras.src.applications.imagenet_utils.CLASS_INDEX_PATH
URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
#: the ``file_hash`` Keras checks it against (32 hex digits: an md5)
MD5 = "c2c37ea517e94d9795004a39431a14cb"
#: the length of the bytes with that md5 (keras_hub's IMAGENET_NAMES, json.dumps'd, are those bytes)
SIZE = 35363


def url(endpoint: str) -> str:
    """Where the class index is fetched from, for the weights' endpoint (no trailing slash)."""
    if endpoint == DEFAULT_ENDPOINT:
        return URL
    return urljoin(endpoint + "/", "../../download.tensorflow.org/data/" + NAME)


def wanted(extra: Mapping[str, Any]) -> bool:
    """Whether an application's weights end in ImageNet's classifier (``decode_predictions`` applies)."""
    return extra.get("include_top") is True


def entry(endpoint: str) -> FileEntry:
    return FileEntry(path=NAME, url=url(endpoint), size=SIZE)
