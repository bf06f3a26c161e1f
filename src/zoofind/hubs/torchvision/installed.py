"""Which torchvision is installed, found without importing it (nor importlib.metadata).

Kept apart from ``registry`` (whose tables cost time to load) and ``source`` because
search asks this on every run.
"""

from __future__ import annotations

import os
import re
import sys


def tv_version_string(version: str) -> str:
    """Public part of a torchvision version: 0.29.1+cu130 -> 0.29.1."""
    return version.split("+", 1)[0]


_DIST_PREFIX = "torchvision-"
_DIST_SUFFIX = ".dist-info"
_VERSION_RE = r"""(?m)^__version__\s*=\s*['"]([^'"]+)['"]"""


def installed_torchvision() -> str | None:
    """Public version of the torchvision an ``import torchvision`` would load, or None.

    Walks ``sys.path`` in import order and stops at the first entry holding a
    ``torchvision-<version>.dist-info`` folder or a ``torchvision`` package (whose
    ``version.py`` then gives the version). Neither torchvision nor importlib.metadata
    is imported: one directory listing per path entry, well under a millisecond.
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue  # zip files, missing folders
        package = False
        for name in names:
            if name.startswith(_DIST_PREFIX) and name.endswith(_DIST_SUFFIX):
                return tv_version_string(name[len(_DIST_PREFIX) : -len(_DIST_SUFFIX)])
            if name == "torchvision":
                package = True
        if package:
            # A source checkout or a copy without metadata: its generated version.py.
            try:
                with open(os.path.join(entry or ".", "torchvision", "version.py"), encoding="utf-8") as fh:
                    m = re.search(_VERSION_RE, fh.read(4096))
            except OSError:
                m = None
            # A package whose version cannot be told: the bundled snapshot answers.
            return tv_version_string(m[1]) if m else None
    return None
