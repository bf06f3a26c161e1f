"""kagglehub's model cache: ``$KAGGLEHUB_CACHE`` (else ``~/.cache/kagglehub``)
``/models/<owner>/<model>/<framework>/<variation>/<version>/``, complete when the marker
``.../<variation>/<version>.complete`` exists beside it (kagglehub's ``cache.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping


def cache_root(env: Mapping[str, str]) -> Path:
    value = env.get("KAGGLEHUB_CACHE")
    if value:
        return Path(value).expanduser()
    return Path(os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "kagglehub")).expanduser()


def scan(env: Mapping[str, str]) -> list[tuple[str, Path]]:
    """(owner/model/framework/variation/version, folder) of each complete model version."""
    base = cache_root(env) / "models"
    out = []
    for marker in sorted(base.glob("*/*/*/*/*.complete")) if base.is_dir() else ():
        folder = marker.with_suffix("")
        if folder.is_dir():
            out.append((folder.relative_to(base).as_posix(), folder))
    return out
