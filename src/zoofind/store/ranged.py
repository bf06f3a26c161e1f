"""Parallel ranged reads of a run of objects, handed out in order as readers.

The objects are cut into parts; ``workers`` threads fetch parts ahead of the reader (at most
``window`` parts held, so memory stays bounded at ``window * part`` bytes), across object
boundaries, so many small blobs are fetched as concurrently as the parts of a large one.
The reader of an object gives its bytes in order, like a file's ``readinto``; an object
that turns out shorter than listed ends early (its reader returns 0), which the caller
sees as a truncated member. Parts of an object its caller did not read are dropped.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import obstore

from .s3 import Store

PART = 8 * 1024 * 1024
WORKERS = 8
WINDOW = 12


class Ranged:
    def __init__(self, store: Store, items: Sequence[tuple[str, int]], *, part: int = PART, workers: int = WORKERS,
                 window: int = WINDOW) -> None:
        self.store, self.items = store, items
        self.parts = [(i, key, start, min(start + part, size))
                      for i, (key, size) in enumerate(items) for start in range(0, size, part)]
        self.window = max(window, 1)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="zoofind-s3-get")
        self._next = 0
        self._pending: collections.deque[tuple[int, int, Future[obstore.Bytes]]] = collections.deque()

    def _fill(self) -> None:
        while len(self._pending) < self.window and self._next < len(self.parts):
            i, key, start, end = self.parts[self._next]
            self._pending.append((i, end - start, self._pool.submit(self.store.read_range, key, start, end)))
            self._next += 1

    def readers(self) -> Iterator[tuple[int, _Reader]]:
        """Each object's index and reader, in order (a reader is good until the next is taken)."""
        self._fill()
        for i in range(len(self.items)):
            while self._pending and self._pending[0][0] < i:  # the rest of an object nobody read
                self._pending.popleft()[2].cancel()
                self._fill()
            yield i, _Reader(self, i)

    def _take(self, i: int) -> tuple[memoryview, bool] | None:
        """The next part of object ``i`` and whether it was whole; None: the object has no more."""
        if not self._pending or self._pending[0][0] != i:
            return None
        _, want, job = self._pending.popleft()
        got = job.result()
        self._fill()
        return memoryview(got), len(got) == want

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Reader:
    def __init__(self, ranged: Ranged, i: int) -> None:
        self._ranged, self._i = ranged, i
        self._buf = memoryview(b"")
        self._ended = False

    def __call__(self, view: memoryview) -> int:
        if not self._buf:
            if self._ended or (got := self._ranged._take(self._i)) is None:
                return 0
            self._buf, whole = got
            self._ended = not whole  # a short part: the object is shorter than listed; give what came, then end
        n = min(len(view), len(self._buf))
        view[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
