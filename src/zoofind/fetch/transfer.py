"""One file's bytes: where its transfer starts, how it is split into byte ranges, and each range's
requests and stream into the partial file.

* ``start``: the file's plan once its lock is held. It continues its partial file from an
  earlier run. Every file starts as one stream. A large one (``RANGED_MIN``; its size from
  the metadata or from the first answer's ``Content-Range``) is asked for in byte ranges over
  that one connection, growing from a quarter of ``RANGED_MIN``: the first 206 shows the server
  serves parts (a 200: the server ignores Range, and that one answer is taken as the whole
  file, from byte 0).
* Splitting: after ``SPLIT_AFTER`` seconds, if that connection brings less than
  ``ONE_STREAM_RATE``, up to ``jobs - 1`` more units join it (the scheduler queues them), all
  taking ranges in file order, smaller ones towards the end so the connections finish
  together; else the rest comes in one request. A connection that alone is faster than that is
  limited by the CPU (Python receiving, writing, hashing), which more connections only share
  out: on two cores one stream beats eight. No answer is ever cut short: ranges end where asked.
* Every unit writes at its offset in the partial file and records the bytes written, so a
  dropped connection continues from there (retried with backoff, ``Retry-After`` honoured), and
  the next run after Ctrl-C, kill -9 or a full disk continues too.
* Hashing: a small file's bytes are hashed as they arrive; a larger one's by a ``Follower``
  thread that reads the file back from the page cache behind the writers, as far as the bytes
  run without a gap from byte 0 (so on two cores the SHA-256 overlaps receiving, and after the
  last byte only the last ranges are left to hash).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import SourceError
from ..models.transfer import ProgressEvent
from ..net.transport import TransportError
from .connection import content_length, content_range_start, content_range_total, cut_short, etag, status_error
from .integrity import Follower, Hasher
from .job import SAVE_GAP, Job, Range, Replan, Stopped

if TYPE_CHECKING:
    from ..models.transfer import Progress
    from ..net.wire import WireResponse
    from .connection import Connection

#: Files at least this big may be split into byte ranges over several connections.
RANGED_MIN = 32 * 1024 * 1024
CHUNK_MAX = 64 * 1024 * 1024
#: Files at least this big (and every file that may be split) are hashed by a ``Follower``
#: thread; smaller ones as their bytes arrive.
FOLLOW_MIN = 8 * 1024 * 1024
#: Seconds of a file's first stream before deciding whether more connections would help,
#: and the rate (bytes/s) of that one stream from which they would not.
SPLIT_AFTER = 0.5
ONE_STREAM_RATE = 128 * 1024 * 1024
#: Attempts a unit may make in a row without receiving a byte before the file fails.
ATTEMPTS = 6
BACKOFF_MAX = 10.0
#: Each worker's read buffer. A read takes what the socket holds: ~64-256 KiB on loopback when
#: the reader keeps up, more when it falls behind; fewer, larger reads cost less per byte.
READ_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class Splitting:
    """When a file is asked for in ranges and split over more connections (tests make it eager)."""

    jobs: int  # connections at most, one file's included
    ranged_min: int = RANGED_MIN
    split_after: float = SPLIT_AFTER
    one_stream_rate: float = ONE_STREAM_RATE


class Transfer:
    """The byte-moving half of one engine run: every method works on one file's ``Job``."""

    def __init__(self, conn: Connection, stop: threading.Event, progress: Progress,
                 more_units: Callable[[Job, int], None], split: Splitting) -> None:
        self.conn = conn
        self.stop = stop
        self.progress = progress
        #: the scheduler's: queue ``n`` more units on a file that was split
        self.more_units = more_units
        self.jobs, self.ranged_min = split.jobs, split.ranged_min
        self.split_after, self.one_stream_rate = split.split_after, split.one_stream_rate
        self._local = threading.local()

    # -- the file's plan ----------------------------------------------------------------
    def start(self, job: Job) -> Range | None:
        """Open the partial and plan the file; its first unit's range (None: the partial already
        holds every byte, and the file only needs checking)."""
        job.partial.load()
        for folder in (*job.d.folders, job.d.target.parent):
            folder.mkdir(parents=True, exist_ok=True)
        job.fd = os.open(job.partial.data, os.O_RDWR | os.O_CREAT, 0o644)
        job.pending = 1
        if job.size is None and job.partial.size is None and self.jobs > 1 and not job.partial.have():
            # Size unknown (torch.hub and TF Hub give none): the first piece is asked for with a
            # Range, and the 206's Content-Range tells the size; a large file may then split.
            job.discover = True
            job.hasher = Hasher(job.d.expected, None)
            job.piece = self.ranged_min // 4
            self.progress(ProgressEvent(job.d.label, "start", 0, None))
            return Range(0, job.piece, probe=True, lead=True)
        if job.size is None:
            job.learn_size(job.partial.size)  # learned by an earlier run's first answer
        if job.size is not None and job.size >= self.ranged_min and self.jobs > 1:
            # Full size at once (sparse): ranges land at their offsets in any order.
            job.ranged = True
            os.ftruncate(job.fd, job.size)
            gaps = job.partial.gaps(job.size)
            job.resumed = job.partial.have()
            job.follower = self.follower(job)
            if not gaps:
                job.pending = 0
                return None
            job.todo = gaps
            job.piece = self.ranged_min // 4
            first = self.take(job, lead=True)
            assert first is not None
            first.probe = True
            self.progress(ProgressEvent(job.d.label, "start", job.resumed, job.size))
            return first
        # One stream: continue a partial that is one run of bytes from 0, else start over.
        job.decided = True
        have = job.partial.have()
        start = have if have and job.partial.done == [[0, have]] else 0
        if start == 0:
            job.partial.done = []
            os.ftruncate(job.fd, 0)
        job.resumed = start
        if job.size is not None and self.follows(job.size):
            job.follower = self.follower(job)  # it hashes a resumed run's bytes from disk first
        elif start == 0:
            job.hasher = Hasher(job.d.expected, job.size)
        self.progress(ProgressEvent(job.d.label, "start", job.resumed, job.size))
        return Range(start, job.size, probe=True)

    def follows(self, size: int) -> bool:
        """Whether a file this big is hashed by a ``Follower`` (every file that may be split is)."""
        return size >= min(FOLLOW_MIN, self.ranged_min)

    def follower(self, job: Job) -> Follower:
        assert job.size is not None
        return Follower(job.partial.data, job.d.expected, job.size, job.partial.contiguous)

    def take(self, job: Job, lead: bool) -> Range | None:
        """The next range of the file no unit has taken, from its start: before the split decision
        the first unit's next piece; after "one stream" the whole next gap; after a split at most
        ``step`` bytes, fewer towards the end (guided self-scheduling: the connections finish
        together, and the hash thread has little left after the last byte)."""
        with job.guard:
            if not job.todo:
                return None
            a, b = job.todo[0]
            if not job.decided:
                take = job.piece
                job.piece = min(CHUNK_MAX, 2 * job.piece)
            elif job.step is not None:
                left = sum(y - x for x, y in job.todo)
                take = min(job.step, max(self.ranged_min // 4, left // (2 * self.jobs)))
            else:
                take = b - a
            if b - a > take:
                job.todo[0] = (a + take, b)
                return Range(a, a + take, lead=lead)
            job.todo.pop(0)
            return Range(a, b, lead=lead)

    def _maybe_split(self, job: Job) -> None:
        """Called by the first unit as its bytes arrive: once ``split_after`` seconds have shown what
        one connection brings, more units join if it brings too little (each range it has asked
        for is still read to its end: nothing is thrown away)."""
        if job.meter is None:
            return
        since, before = job.meter
        elapsed = time.monotonic() - since
        if elapsed < self.split_after:
            return
        with job.guard:
            job.decided = True
            if not job.ranged or (job.received - before) / max(elapsed, 1e-9) >= self.one_stream_rate:
                return
            left = sum(b - a for a, b in job.todo)
            job.step = step = min(CHUNK_MAX, max(self.ranged_min // 4, left // (2 * self.jobs) + 1))
            more = min(self.jobs - 1, sum(-(-(b - a) // step) for a, b in job.todo))
            job.pending += more
            job.add_units(more)
        self.more_units(job, more)

    # -- one unit's bytes -------------------------------------------------------------
    def fetch(self, job: Job, r: Range) -> None:
        """Bytes [r.pos, r.end) of the file, over as many requests as the connection needs."""
        idle = 0
        while not r.finished:
            if self.stop.is_set() or job.failed:
                raise Stopped()
            before = r.pos
            try:
                self._request(job, r)
                continue
            except Replan:
                idle = 0
                continue
            except SourceError as exc:
                if not (exc.transient and exc.retryable):
                    raise
                err: SourceError = exc
            idle = 0 if r.pos > before else idle + 1
            if idle >= ATTEMPTS:
                raise err
            wait = err.retry_after if err.retry_after is not None else min(BACKOFF_MAX, 0.2 * 2 ** idle)
            if self.stop.wait(min(wait, 60.0)):
                raise Stopped()

    def _request(self, job: Job, r: Range) -> None:
        """One GET from ``r.pos``, advancing ``r``. Transport failures surface as zoofind errors."""
        # A file that may be split asks for a Range even from byte 0 to its end: the 206 shows
        # the server serves parts (a 200 is taken as the whole file, in one stream).
        ranged = (job.ranged or job.discover or r.pos > 0
                  or (r.end is not None and (job.size is None or r.end < job.size)))
        headers = {"Range": f"bytes={r.pos}-{'' if r.end is None else r.end - 1}"} if ranged else {}
        complete = False
        try:
            with self.conn.open(job, headers) as resp:
                status = resp.status_code
                if status == 416:
                    if not r.probe:  # only a file's first unit may start it over
                        raise SourceError(f"{job.d.label}: the server's file changed during the transfer (HTTP 416)",
                                          hint="retry the pull")
                    self._replan(job, r)  # the file is shorter than the partial thought: changed
                if status not in (200, 206):
                    raise status_error(job, resp)
                if r.probe:
                    tag = etag(resp.headers)
                    if tag and job.partial.etag and tag != job.partial.etag and job.partial.have():
                        self._replan(job, r)  # a new version of the file: the old bytes are useless
                    job.partial.etag = tag or job.partial.etag
                if status == 200 and ranged:
                    if not r.probe and job.ranged:
                        raise SourceError(f"{job.d.label}: the server stopped honouring byte ranges mid-transfer",
                                          hint="retry the pull")
                    # The server ignores Range: take this whole answer as the file, from byte 0.
                    self._from_zero(job, r)
                elif status == 206 and content_range_start(resp.headers.get("content-range")) != r.pos:
                    raise SourceError(f"{job.d.label}: the server sent other bytes than the range asked for")
                if job.discover:
                    self._discovered(job, r, status, resp.headers)
                if status == 200 and job.size is None:
                    job.learn_size(content_length(resp.headers))
                    self._follow_from_now(job)
                r.probe = False
                expect = content_length(resp.headers)
                job.within_limit(job.size if job.size is not None else expect)
                before = r.pos
                self._stream(job, resp, r)
                complete = expect is not None and r.pos - before >= expect
        except TransportError as exc:
            raise self.conn.lost(job, exc) from None
        if r.end is None:
            if job.size is not None and r.pos < job.size:
                raise cut_short(job, r.pos)
            job.size = r.pos if job.size is None else job.size
            r.finished = True
        elif r.pos >= r.end:
            r.finished = True
        elif not complete:
            raise cut_short(job, r.pos)
        # else: the server sent all it was asked for, and this unit wants more: ask again at once.

    def _rewriting(self, job: Job) -> Any:
        """While the partial is reset for a rewrite: the hash thread must not read it meanwhile."""
        return job.follower.rewriting() if job.follower is not None else contextlib.nullcontext()

    def _from_zero(self, job: Job, r: Range) -> None:
        """The file again from byte 0 in one stream (a server that answers 200 to a Range)."""
        with self._rewriting(job):
            job.partial.reset()
            if job.fd is not None:
                os.ftruncate(job.fd, 0)
        job.ranged = job.discover = False
        job.decided = True
        job.todo = []
        if job.follower is None:
            job.hasher = Hasher(job.d.expected, job.size)
        r.pos, r.end = 0, None

    def _follow_from_now(self, job: Job) -> None:
        """The size just became known, before any body byte: a large file gets its hash thread."""
        if job.follower is None and job.size is not None and self.follows(job.size) \
                and not job.partial.have() and (job.hasher is None or job.hasher.size == 0):
            job.hasher = None
            job.follower = self.follower(job)

    def _discovered(self, job: Job, r: Range, status: int, headers: Any) -> None:
        """The first answer for a file of unknown size: plan the rest of it."""
        job.discover = False
        total = content_range_total(headers.get("content-range")) if status == 206 else None
        if total is None:
            return  # a 200 (handled as one stream) or no total given: read to the end
        job.learn_size(total)
        if total >= self.ranged_min and r.end is not None and r.end < total:
            job.ranged = True
            assert job.fd is not None
            os.ftruncate(job.fd, total)
            job.todo = [(r.end, total)]  # the first unit's next pieces, or everyone's after a split
        else:
            job.decided = True
            r.end = total  # one stream: the next request continues where this one stops
        self._follow_from_now(job)

    def _replan(self, job: Job, r: Range) -> None:
        """Throw the partial's bytes away and start the file again (only ever from its first unit)."""
        with self._rewriting(job):
            job.partial.reset()
            if job.fd is not None:
                os.ftruncate(job.fd, (job.size or 0) if job.ranged else 0)
        job.todo = [(0, job.size)] if job.ranged and job.size else []
        job.piece = self.ranged_min // 4
        first = self.take(job, r.lead)
        r.pos, r.end = (first.pos, first.end) if first is not None else (0, job.size)
        if job.follower is None:
            job.hasher = Hasher(job.d.expected, job.size)
        r.probe = True
        raise Replan()

    def _buffer(self) -> memoryview:
        """This worker's read buffer, made once: every body it reads lands there, is written from
        there and (a small file's) hashed there; no allocation per read."""
        view: memoryview | None = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = memoryview(bytearray(READ_BUFFER))
        return view

    def _stream(self, job: Job, resp: WireResponse, r: Range) -> None:
        assert job.fd is not None
        fd, hasher = job.fd, job.hasher
        if r.lead and not job.decided and job.meter is None:
            job.meter = (time.monotonic(), job.received)
        recorded = r.pos  # bytes [recorded, r.pos) are written, not yet recorded
        view = self._buffer()
        try:
            # Each read brings what the socket holds (up to the buffer), written at once: a
            # dropped connection loses nothing that arrived.
            while True:
                if self.stop.is_set() or job.failed:
                    raise Stopped()
                room = view if r.end is None or r.end - r.pos >= len(view) else view[: r.end - r.pos]
                if not room:
                    break
                n = resp.readinto(room)
                if not n:
                    break
                job.within_limit(r.pos + n)
                got = room[:n]
                try:
                    if os.pwrite(fd, got, r.pos) < n:  # a regular file takes all but at its limits
                        _pwrite_all(fd, got, r.pos)
                except OSError as exc:
                    raise job.write_failed(exc) from None
                if hasher is not None:
                    hasher.update(got)
                r.pos += n
                if r.pos - recorded >= job.record_bytes:
                    self._record(job, recorded, r.pos)
                    recorded = r.pos
                    if r.lead and not job.decided:
                        self._maybe_split(job)
        finally:
            # Whatever ended the body (its end, a dropped connection, Ctrl-C): what was written counts.
            self._record(job, recorded, r.pos)

    def _record(self, job: Job, start: int, end: int) -> None:
        """Bytes [start, end) are written: the ranges, the resume state, progress, the hash thread."""
        n = end - start
        if n <= 0:
            return
        contiguous = job.partial.mark(start, end)
        if job.follower is not None:
            job.follower.written(contiguous)
        with job.guard:
            job.received += n
            job.unsaved += n
            save = job.unsaved >= job.save_bytes and job.partial.since_save() >= SAVE_GAP
            if save:
                job.unsaved = 0
        job.partial.save(force=save)
        self.progress(ProgressEvent(job.d.label, "advance", job.partial.have(), job.size, n))


def _pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n
