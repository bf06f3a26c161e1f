"""How each library's owners ask to be cited, for ``zoofind cite --with-software``.

The facts are data, edited by hand like the catalog's: ``software.toml`` beside this module, one
table per library keyed like the library table (``frameworks.LIBRARIES``), each with the
``evidence`` of where it was read (the owners' ``CITATION.cff``, README or FAQ). ``citations()``
reads it once per process, only when software is cited.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ..core.tomlread import tomllib

#: The hand-edited table (shipped inside the package).
PATH = Path(__file__).with_name("software.toml")


@functools.cache
def citations() -> dict[str, dict[str, Any]]:
    """library key -> what its owners ask to be cited (``software.toml``'s tables)."""
    with PATH.open("rb") as f:
        return tomllib.load(f)
