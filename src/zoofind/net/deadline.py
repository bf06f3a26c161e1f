"""``Deadline``: the one point in time a call's connect, answer, redirects and retries must
all finish by (the network layer and its retry policy share it)."""

from __future__ import annotations

import math
import time

from ..core.errors import UsageError


class Deadline:
    """A point in time (monotonic clock) a call must finish by."""

    __slots__ = ("seconds", "end")

    def __init__(self, seconds: float) -> None:
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
            raise UsageError(f"a timeout must be a finite number of seconds above 0, not {seconds!r}")
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0
