"""Figures for people: counts, bytes and ages in the largest unit they reach.

The one place these are scaled; the output layer and the library's notes ("an answer
cached 3 h ago") both use them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence


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


_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?\s*", re.I)


def parse_bytes(text: str) -> int | None:
    """``50M``, ``1G`` (decimal), ``50MiB``, ``1GiB`` (binary), ``1500`` (bytes) -> bytes; None if not a size."""
    m = _SIZE_RE.fullmatch(text)
    if not m:
        return None
    number, unit, binary = float(m[1]), m[2].lower(), bool(m[3])
    power = " kmgtp".index(unit) if unit else 0
    return int(number * (1024 if binary else 1000) ** power)


def binary_size(n: int) -> str:
    """``n`` bytes rounded up to whole MiB, GiB or TiB, as a size ``parse_bytes`` reads (``2GiB``)."""
    for suffix, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if n >= size or suffix == "MiB":
            return f"{-(-n // size)}{suffix}"
    return str(n)


def counted(ids: Iterable[str]) -> str:
    """How many models and datasets ids name, for notes: "3 model(s)", "2 model(s) and 1 dataset(s)".
    A dataset's id is ``<hub>:datasets/...`` on every hub that has them (Hugging Face, Kaggle)."""
    ids = list(ids)
    data = sum(1 for i in ids if i.partition(":")[2].startswith("datasets/"))
    models = len(ids) - data
    parts = [f"{n} {what}(s)" for n, what in ((models, "model"), (data, "dataset")) if n]
    return " and ".join(parts) or "0 model(s)"
