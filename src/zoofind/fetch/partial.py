"""A download in progress: its bytes and which of them are on disk, beside the target.

``<folder>/.zoofind-partial-<name>`` holds the bytes at their final offsets (a ranged
download writes chunks out of order into a file of the full size); ``... .json`` beside it
records the ranges that are complete, what the file is (its identity from the metadata
and the server's ETag, so a changed remote file restarts cleanly), and who wrote it
(host, pid, time, so clean-up can recognise stale partials).

The state is saved after every fiftieth of the file (the engine's ``SAVE_MIN``..``SAVE_MAX``),
besides once every ``SAVE_EVERY`` seconds while bytes arrive, and when a transfer stops; it
only ever claims bytes already written, so after a kill -9 the next run re-fetches at most
the bytes of the last interval. The final hash check catches anything else (a power cut
that lost written pages).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from ..core.atomic import write_json

PREFIX = ".zoofind-partial-"
STATE_VERSION = 1
SAVE_EVERY = 1.0


def partial_path(target: Path) -> Path:
    return target.with_name(PREFIX + target.name)


class Partial:
    """The partial file of one target and its ranges; thread-safe (ranges are written by several workers)."""

    def __init__(self, target: Path, *, url: str, identity: str | None, size: int | None) -> None:
        self.target = target
        self.data = partial_path(target)
        self.state_file = self.data.with_name(self.data.name + ".json")
        self.url = url
        self.identity = identity
        self.size = size
        self.etag: str | None = None
        self.done: list[list[int]] = []  # sorted, disjoint [start, end) intervals
        self._lock = threading.Lock()
        self._saved = 0.0

    # -- loading -----------------------------------------------------------------
    def load(self) -> int:
        """Take over what an earlier run left, if it is the same file; returns the bytes kept."""
        # The first save by time comes a SAVE_EVERY after the transfer starts: a file that arrives
        # within it never writes a state (in a 20-file repo those writes were ~30% of a worker's time).
        self._saved = time.monotonic()
        state = _read(self.state_file)
        usable = (
            state is not None and self.data.exists() and state.get("version") == STATE_VERSION
            and state.get("identity") == self.identity and (self.size is None or state.get("size") == self.size)
        )
        if not usable or state is None:
            self.discard()
            return 0
        if self.size is None and type(state.get("size")) is int:
            self.size = state["size"]  # learned by an earlier run's first answer
        etag = state.get("etag")
        self.etag = etag if isinstance(etag, str) else None
        on_disk = self.data.stat().st_size
        self.done = []
        ranges = state.get("done")
        for item in ranges if isinstance(ranges, list) else ():
            # A damaged state is worth nothing, never an error: any doubt and the bytes start over.
            if not (isinstance(item, list) and len(item) == 2 and all(type(v) is int and v >= 0 for v in item)):
                self.discard()
                return 0
            self.mark(item[0], min(item[1], on_disk))
        return self.have()

    def discard(self) -> None:
        """Forget every byte (the remote file changed, or the bytes were bad)."""
        for p in (self.data, self.state_file):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self.done = []
        self.etag = None

    def reset(self) -> None:
        """Forget the ranges (the bytes are being overwritten from scratch; the file stays open)."""
        with self._lock:
            self.done = []
            self.etag = None

    # -- ranges -------------------------------------------------------------------
    def have(self) -> int:
        with self._lock:
            return sum(b - a for a, b in self.done)

    def gaps(self, size: int) -> list[tuple[int, int]]:
        """The byte ranges still missing, in order."""
        with self._lock:
            out, pos = [], 0
            for a, b in self.done:
                if a > pos:
                    out.append((pos, a))
                pos = max(pos, b)
            if pos < size:
                out.append((pos, size))
            return out

    def contiguous(self) -> int:
        """Where the bytes on disk first have a gap: [0, contiguous) are all written."""
        with self._lock:
            return self._contiguous()

    def _contiguous(self) -> int:
        return self.done[0][1] if self.done and self.done[0][0] == 0 else 0

    def mark(self, start: int, end: int) -> int:
        """Bytes [start, end) are written; returns ``contiguous()`` (the hash thread follows it)."""
        if end <= start:
            return self.contiguous()
        with self._lock:
            merged: list[list[int]] = []
            placed = False
            for a, b in self.done:
                if b < start or a > end:
                    if a > end and not placed:
                        merged.append([start, end])
                        placed = True
                    merged.append([a, b])
                else:
                    start, end = min(a, start), max(b, end)
            if not placed:
                merged.append([start, end])
            merged.sort()
            self.done = merged
            return self._contiguous()

    def since_save(self) -> float:
        """Seconds since the state was last saved (or the transfer began)."""
        return time.monotonic() - self._saved

    def save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._saved < SAVE_EVERY:
            return
        with self._lock:
            self._saved = now
            state = {
                "version": STATE_VERSION, "url": self.url, "identity": self.identity, "size": self.size,
                "etag": self.etag, "done": [list(r) for r in self.done], "host": socket.gethostname(),
                "pid": os.getpid(), "updated": time.time(),
            }
        with contextlib.suppress(OSError):  # a state that cannot be saved costs a resume, not the download
            write_json(self.state_file, state)

    def finish(self) -> None:
        """The bytes became the target: the state is no longer needed."""
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
