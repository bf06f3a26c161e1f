"""Keras's own folder for application weights: ``<keras home>/models/<file name>``.

``keras.utils.get_file(..., cache_subdir="models")`` computes it so (keras/src/backend/config.py,
keras/src/utils/file_utils.py): the Keras home is ``$KERAS_HOME``, else ``~/.keras`` when the home
folder is writable, else ``/tmp/.keras``; Keras creates it when imported. A Keras home that is not
writable makes ``get_file`` use ``/tmp/.keras`` instead, silently, and download again there: a file
zoofind placed in a read-only Keras home would never be read. So zoofind never writes to
``/tmp/.keras`` (shared by every user of the machine, where another user may have put any bytes
under the name Keras loads, unchecked for the applications without a hash): it refuses, and says to
point ``KERAS_HOME`` at a writable folder (``NotWritable``).

A file is found there by name and loaded without any request: with Keras's hash checked first
where its tables have one, else as it is. In a cache home (and so in each ``ZOOFIND_SHARED_CACHE``
root) the folder is ``keras/models/`` (``PLACE``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ...caches import shared
from ...core.errors import ZoofindError
from ...core.paths import inside_home
from ...fetch.locks import LOCK_PREFIX


class NotWritable(ZoofindError):
    """The Keras home is not writable: Keras would look in /tmp/.keras instead."""


def _home(env: Mapping[str, str]) -> tuple[Path, bool]:
    """The Keras home as Keras computes it when imported, and whether that is its /tmp fallback."""
    if "KERAS_HOME" in env:
        return Path(env["KERAS_HOME"]).expanduser(), False
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    return (home / ".keras", False) if os.access(home, os.W_OK) else (Path("/tmp/.keras"), True)


def keras_home(env: Mapping[str, str]) -> Path:
    return _home(env)[0]


def models_dir(env: Mapping[str, str]) -> Path:
    """Where Keras looks for application weights (as long as its home is writable)."""
    return keras_home(env) / "models"


def writable_models_dir(env: Mapping[str, str], *, create: bool) -> Path:
    """The models folder a pull writes to: created with its Keras home (as Keras does on import) when
    ``create``; ``NotWritable`` when Keras itself could not write there."""
    base, fallback = _home(env)
    if create and not fallback:
        try:
            inside_home(base / "models", env).mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # the access check below says what to do
    # A dry run creates nothing: the nearest folder that exists then says whether Keras could.
    there = next((p for p in (base, *base.parents) if p.exists()), base)
    if fallback or not os.access(there, os.W_OK):
        what = "the home folder (HOME)" if fallback else f"its home {base}"
        raise NotWritable(
            f"Keras cannot write {what}: it would download to /tmp/.keras instead (shared by every user "
            "of this machine, and emptied at reboot), so zoofind places nothing there",
            hint="point KERAS_HOME at a writable folder, here and where Keras runs (`export KERAS_HOME=...`)",
        )
    return base / "models"


#: Where the models folder sits in a cache home, and so in every shared root.
PLACE = shared.declare(("keras", "models"), models_dir)


def lock_path(target: Path) -> Path:
    return target.with_name(f"{LOCK_PREFIX}{target.name}")


def scan(folder: Path) -> list[Path]:
    """The weights files Keras would load from ``folder`` (zoofind's partials and locks left out)."""
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []
