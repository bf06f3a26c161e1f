"""Figures for people: counts, bytes and ages in the largest unit they reach.

The one place these are scaled; the output layer and the library's notes ("an answer
cached 3 h ago") both use them.
"""

from __future__ import annotations

import math
from typing import Sequence


def _scaled(value: float | None, units: Sequence[tuple[str, float, int]]) -> str:
    """``value`` in the largest (suffix, size, decimals) unit it reaches; the last unit is the floor.

    Anything but a finite number (None, a hub's ``"downloads": "many"``, NaN) shows as
    nothing: a figure for people must never be the reason a listing fails.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return ""
    for suffix, size, digits in units:
        if value >= size or size == units[-1][1]:
            return f"{value / size:.{digits}f}{suffix}"
    return ""


def human_count(n: int | None) -> str:
    return _scaled(n, (("B", 1e9, 1), ("M", 1e6, 1), ("k", 1e3, 1), ("", 1, 0)))


def human_bytes(n: int | None) -> str:
    return _scaled(n, ((" GB", 1e9, 1), (" MB", 1e6, 1), (" kB", 1e3, 1), (" B", 1, 0)))


def human_age(seconds: float | None) -> str:
    return _scaled(seconds, ((" d", 86400, 0), (" h", 3600, 0), (" min", 60, 0), (" s", 1, 0)))
